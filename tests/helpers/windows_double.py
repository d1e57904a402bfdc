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

import os
from pathlib import Path

from helpers import paths

DOUBLES = paths.TESTS / "doubles"
ATTEMPT_DOUBLE = DOUBLES / "win_imds_attempt_double.py"
WINDOWS_SHELL = "imds_test.windows_double.powershell_family"
REPLACED_MODULE = "win_imds_attempt"

# Host variables of a "Windows" test host. WinRM and PSRP always pipeline modules; so does this host.
WINDOWS_HOST_VARS = {"ansible_connection": "local", "ansible_shell_type": WINDOWS_SHELL, "ansible_pipelining": True}


def collections_path(root: Path) -> str:
    """ANSIBLE_COLLECTIONS_PATH with imds.azure (its Windows module doubled) and the test doubles first.

    ``root`` is an empty or earlier-built directory; the copy is built of links, so it is cheap.
    """
    collection = root / "ansible_collections" / "imds" / "azure"
    if not collection.exists():
        _link_tree(paths.ROOT, collection, skip={".cache", ".git", "tests"})
        modules = collection / "plugins" / "modules"
        for suffix in (".py", ".ps1"):
            (modules / (REPLACED_MODULE + suffix)).unlink()
        (modules / (REPLACED_MODULE + ".py")).symlink_to(ATTEMPT_DOUBLE)
    return os.pathsep.join([str(root), str(DOUBLES), str(paths.COLLECTIONS_PATH)])


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
