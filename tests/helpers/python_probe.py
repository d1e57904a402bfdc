"""Run a few lines of Python in a fresh interpreter that sees what the test sees, and read its JSON answer.

For what one process cannot show about itself: which modules an action loaded, or what an import
hook changed, without leaving either behind in the test process."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def run_python(code: str, *args: str) -> dict:
    """Run ``code`` (which prints one JSON document) with ``args`` as ``sys.argv[1:]``; return the document."""
    completed = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False,
                               env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)
