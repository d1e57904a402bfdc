"""modules/route.py run without its action plugin: the options are checked, then it refuses with a clear message.

The module file's main() exists so that validate-modules compares its DOCUMENTATION with the argument spec in
module_utils/_route_options.py, which the action plugin validates with; a run of it must never pass for a fix.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible.release import __version__ as ANSIBLE_VERSION
from helpers import collection_root

# From ansible-core 2.21 a module echoes its arguments ("invocation") only when the controller's
# _ansible_inject_invocation says so (setting INJECT_INVOCATION, off by default); the test turns it on to
# read back the arguments after the spec's defaults.
ASKS_FOR_INVOCATION = tuple(int(p) for p in ANSIBLE_VERSION.split(".")[:2]) >= (2, 21)
MODULE = collection_root.importable_root() / "ansible_collections" / "imds" / "azure" / "plugins" / "modules" / "route.py"


def run_route_module(tmp_path, args: dict) -> dict:
    args_file = tmp_path / "args.json"
    if ASKS_FOR_INVOCATION:
        args = dict(args, _ansible_inject_invocation=True)
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}), encoding="utf-8")
    environment = dict(os.environ, PYTHONPATH=str(collection_root.importable_root()))
    done = subprocess.run([sys.executable, str(MODULE), str(args_file)], capture_output=True, text=True,
                          env=environment, timeout=60, check=False)
    return json.loads(done.stdout)


def test_it_refuses_to_pass_for_the_action_plugin(tmp_path):
    result = run_route_module(tmp_path, {"metric": 5, "state": "absent"})
    assert result["failed"] and "runs through its action plugin" in result["msg"]
    assert result["invocation"]["module_args"]["scope"] == "any"  # the spec's defaults were applied


def test_it_checks_the_options_first(tmp_path):
    result = run_route_module(tmp_path, {"state": "sideways"})
    assert result["failed"] and "state" in result["msg"] and "present, absent" in result["msg"]
