"""Hosts that Ansible treats as Windows (PowerShell shell family) while they run here.

No Windows machine can be had for the tests. A "Windows" test host is ``ansible_connection:
local`` with the test-only shell ``imds_test.windows_double.powershell_family`` (a POSIX shell
whose SHELL_FAMILY is ``powershell``): the imds.azure action plugins take their Windows branch by
the very check they use in production, and the host runs Python. The one host-side module of
that branch, ``imds.azure.win_imds_attempt`` (PowerShell), is replaced by its Python test double
in a copy of the collection made of symbolic links to this checkout: everything else is the
real code.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

from helpers import paths
from helpers.ansible_runner import PlaybookRun, run_playbook

DOUBLES = paths.TESTS / "doubles"
ATTEMPT_DOUBLE = DOUBLES / "win_imds_attempt_double.py"
WINDOWS_SHELL = "imds_test.windows_double.powershell_family"
REPLACED_MODULE = "win_imds_attempt"

# Host variables of a "Windows" test host. WinRM and PSRP always pipeline modules; so does this host.
WINDOWS_HOST_VARS = {"ansible_connection": "local", "ansible_shell_type": WINDOWS_SHELL, "ansible_pipelining": True}

# The two hosts of a side-by-side play: one POSIX, one of the PowerShell family.
HOSTS = ("lin1", "win1")


def attempt_double_module():
    """The double of win_imds_attempt imported as a Python module (its sealing and option parsing, for unit tests)."""
    spec = importlib.util.spec_from_file_location("win_imds_attempt_double", ATTEMPT_DOUBLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def collections_path(root: Path) -> str:
    """ANSIBLE_COLLECTIONS_PATH with imds.azure (its Windows module doubled) and the test doubles first.

    ``root`` is an empty or earlier-built directory; the copy is built of links, so it is cheap.
    """
    collection = root / "ansible_collections" / "imds" / "azure"
    if not collection.exists():
        doubled_copy(paths.ROOT, collection, {REPLACED_MODULE: ATTEMPT_DOUBLE})
    return os.pathsep.join([str(root), str(DOUBLES), str(paths.COLLECTIONS_PATH)])


def doubled_copy(source: Path, target: Path, doubles: dict) -> None:
    """``target``: the collection at ``source`` made of links, each module named in ``doubles``
    (name -> Python file) replaced by that double, whatever its language was."""
    _link_tree(source, target, skip={".cache", ".git", "tests"})
    modules = target / "plugins" / "modules"
    for name, double in doubles.items():
        for suffix in (".py", ".ps1"):
            if (modules / (name + suffix)).is_symlink():
                (modules / (name + suffix)).unlink()
        (modules / (name + ".py")).symlink_to(double)


def _link_tree(source: Path, target: Path, skip: set) -> None:
    """``target`` mirrors ``source``: real directories down to plugins/modules, links for the rest."""
    target.mkdir(parents=True)
    for entry in source.iterdir():
        if entry.name in skip or entry.name == "__pycache__":
            continue
        if entry.name in ("plugins", "modules") and entry.is_dir():
            _link_tree(entry, target / entry.name, skip=set())
        else:
            (target / entry.name).symlink_to(entry)


def inventory_file(tmp_path, endpoints: dict, extra: dict | None = None) -> str:
    """lin1 (POSIX) and win1 (PowerShell family), each with its own IMDS endpoint."""
    hosts = {}
    for host, endpoint in endpoints.items():
        host_vars = dict(WINDOWS_HOST_VARS) if host.startswith("win") else {"ansible_connection": "local"}
        host_vars["imds_endpoint"] = endpoint
        host_vars.update((extra or {}).get(host, {}))
        hosts[host] = host_vars
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "hosts.json"
    path.write_text(json.dumps({"all": {"hosts": hosts}}))
    return str(path)


def play(module: str, options: str = "", gather: bool = False, prefix: str = "") -> str:
    """One task on every host; IMDS_ENDPOINT comes from the task environment, as a user would set it."""
    lines = [prefix + "- hosts: all", "  gather_facts: %s" % str(gather).lower(),
             "  environment:", '    AZURE_IMDS_ENDPOINT: "{{ imds_endpoint }}"', "  tasks:",
             "    - name: gather", "      %s:" % module]
    lines += ["        " + line for line in options.strip().splitlines()]
    return "\n".join(lines) + "\n"


def run_both(tmp_path, collections: str, emulators: dict, module: str = "imds.azure.metadata_facts",
             options: str = "", args: list | None = None, env: dict | None = None) -> PlaybookRun:
    """``play(module, options)`` on both hosts in one ansible-playbook run, each against its own emulator."""
    inventory = inventory_file(tmp_path, {host: emulator.url for host, emulator in emulators.items()})
    run_env = {"ANSIBLE_COLLECTIONS_PATH": collections}
    run_env.update(env or {})
    return run_playbook(tmp_path, play(module, options), inventory=inventory, env=run_env,
                        args=["--forks", "2"] + list(args or []))
