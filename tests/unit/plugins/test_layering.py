"""Controller-side plugins import module_utils and plugin_utils, never module files.

A module file is what AnsiballZ ships to the host; its logic and its argument spec live in module_utils
(``_module_adapter.ModuleEntry``), which is what the action plugins run for Windows hosts. Importing a module
file on the controller would make its top-level code a second contract nobody declared.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

COLLECTION = Path(__file__).resolve().parents[3]
CONTROLLER_SIDE = ("action", "plugin_utils", "filter", "inventory")
MODULES_PACKAGE = "ansible_collections.imds.azure.plugins.modules"


def imported_names(tree: ast.AST) -> list:
    """Every module name an ``import``/``from ... import`` names, nested ones included, plus dynamic imports."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names.append(base)
            names += ["%s.%s" % (base, alias.name) for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(MODULES_PACKAGE):
            names.append(node.value)  # importlib.import_module("...plugins.modules." + name)
    return names


def imports_a_module_file(name: str) -> bool:
    if name.startswith("."):  # relative: from ..modules import x
        return name.lstrip(".").split(".")[0] == "modules"
    return name == MODULES_PACKAGE or name.startswith(MODULES_PACKAGE + ".")


@pytest.mark.parametrize("path", sorted(str(p.relative_to(COLLECTION)) for kind in CONTROLLER_SIDE
                                        for p in (COLLECTION / "plugins" / kind).rglob("*.py")))
def test_controller_plugins_never_import_module_files(path):
    tree = ast.parse((COLLECTION / path).read_text(encoding="utf-8"))
    assert [name for name in imported_names(tree) if imports_a_module_file(name)] == []


def test_the_check_sees_each_kind_of_import():
    """The check above would catch a module file imported at the top, inside a function, or by name."""
    source = ("from ansible_collections.imds.azure.plugins.modules.route import DOCUMENTATION\n"
              "def f():\n    import ansible_collections.imds.azure.plugins.modules.metadata_info\n"
              "M = 'ansible_collections.imds.azure.plugins.modules.'\n"
              "from ..modules import route\n")
    found = [name for name in imported_names(ast.parse(source)) if imports_a_module_file(name)]
    assert len(found) >= 4
