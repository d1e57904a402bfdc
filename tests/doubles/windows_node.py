"""A Windows failover-cluster node for ansible-playbook runs: the route double of
doubles/windows_route_double.py kept in a file between module runs.

ansible-playbook starts one process per module run, so the Python test doubles of the Windows modules
(tests/doubles/windows_node/module_double.py as ansible.windows.win_powershell, ansible.windows.win_command,
imds.azure.win_imds_attempt) load the node from the file named by ``STATE_ENV``, act on it, and save it
again. Everything they do goes through ``WindowsRouteDouble`` (scripts through the PowerShell interpreter,
IMDS answering only when the route Windows would pick leaves through the primary NIC); ``route print`` is
the one native command the node runs.
"""

from __future__ import annotations

import json
import pickle
import shlex
import sys
from pathlib import Path

STATE_ENV = "IMDS_TEST_WINDOWS_NODE"
# Where the doubles find these helpers (they run as modules, outside the test process).
TESTS_DIR_ENV = "IMDS_TEST_TESTS_DIR"
ROUTE_PRINT = (["route", "print"], ["route", "print", "-4"])


def save(node, path: Path) -> None:
    Path(path).write_bytes(pickle.dumps(node))


def load(path: Path):
    return pickle.loads(Path(path).read_bytes())


def run_module(module_name: str, params: dict, state: str) -> dict:
    """One module run on the node in ``state``: the result a module prints."""
    node = load(Path(state))
    check_mode = bool(params.get("_ansible_check_mode"))
    args = {key: value for key, value in params.items() if not key.startswith("_ansible_")}
    if module_name == "ansible.windows.win_command":
        result = _native_command(node, args)
    else:
        result = node.execute(module_name, args, check_mode=check_mode)
    save(node, Path(state))
    return result


def _native_command(node, args: dict) -> dict:
    line = args.get("_raw_params") or args.get("cmd") or ""
    argv = shlex.split(line)
    if [word.lower() for word in argv] not in ROUTE_PRINT:
        return {"failed": True, "changed": False, "rc": 1,
                "msg": "TEST DOUBLE: this Windows node runs no native command but `route print`, not %r" % line}
    stdout = node.route_print().replace("\n", "\r\n")
    return {"changed": True, "rc": 0, "cmd": line, "stdout": stdout, "stderr": "",
            "stdout_lines": stdout.splitlines(), "stderr_lines": []}


def main(module_name: str) -> None:
    """The body of a module double: read the module's arguments, run, print the result as JSON."""
    import os  # pylint: disable=import-outside-toplevel
    from ansible.module_utils.basic import _load_params  # pylint: disable=import-outside-toplevel
    result = run_module(module_name, _load_params(), os.environ[STATE_ENV])
    print(json.dumps(result))
    sys.exit(1 if result.get("failed") else 0)
