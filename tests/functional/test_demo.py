"""`make demo` must keep working: run its script and check the summary it prints."""

from __future__ import annotations

import subprocess

from helpers import netns, paths


def test_demo_prints_the_vm_summary():
    completed = subprocess.run([paths.PYTHON, str(paths.ROOT / "tools" / "demo.py")], capture_output=True,
                               text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    out = completed.stdout
    for line in ("name:            examplevmname", "location:        westus", "fault domain:    36",
                 "update domain:   42", "size:            Standard_A3", "tags:            baz=bash, foo=bar",
                 "private IPs:     10.144.133.132"):
        assert line in out, out
    if netns.available() is None:
        assert "169.254.169.254:80 inside network namespace" in out
        name = out.split("inside network namespace ")[1].split()[0]
        assert name not in netns.ip("netns", "list").stdout  # cleaned up
