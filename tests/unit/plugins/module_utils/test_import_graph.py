"""plugins/module_utils is a one-way graph: no module imports, directly or through others, one that imports it
back, and none imports another of ours from inside a function (an import that only runs later can hide a
cycle and makes what a module run loads depend on what it did). Read from the source (AST), every import
statement at any depth counted."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

MODULE_UTILS = Path(__file__).resolve().parents[4] / "plugins" / "module_utils"
PACKAGE = "ansible_collections.imds.azure.plugins.module_utils"


def imported_names(node: ast.AST) -> set:
    """The module_utils of ours that one import statement names (``import``, ``from ... import``, relative too)."""
    if isinstance(node, ast.Import):
        return {alias.name[len(PACKAGE) + 1:].split(".")[0] for alias in node.names
                if alias.name.startswith(PACKAGE + ".")}
    if not isinstance(node, ast.ImportFrom):
        return set()
    if node.level:  # relative: from . import _x, from ._x import y
        return {node.module.split(".")[0]} if node.module else {alias.name for alias in node.names}
    if node.module == PACKAGE:
        return {alias.name for alias in node.names}
    if node.module and node.module.startswith(PACKAGE + "."):
        return {node.module[len(PACKAGE) + 1:].split(".")[0]}
    return set()


def imports_of(source: str) -> tuple:
    """(names imported at module level, names imported inside a function or method) of one file."""
    tree = ast.parse(source)
    top, inside = set(), set()

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            (inside if in_function else top).update(imported_names(child))
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(tree, False)
    return top, inside


def import_graph(directory: Path = MODULE_UTILS) -> dict:
    """name -> (top-level imports, imports inside functions), both limited to the files of ``directory``."""
    ours = {path.stem for path in directory.glob("*.py")} - {"__init__"}
    graph = {}
    for name in sorted(ours):
        top, inside = imports_of((directory / (name + ".py")).read_text(encoding="utf-8"))
        graph[name] = (top & ours, inside & ours)
    return graph


def find_cycle(edges: dict) -> list:
    """One cycle of ``edges`` (name -> names it imports) as a list of names, or [] when there is none."""
    state = {}
    stack = []

    def walk(name: str) -> list:
        state[name] = "open"
        stack.append(name)
        for target in sorted(edges.get(name, ())):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                found = walk(target)
                if found:
                    return found
        state[name] = "done"
        stack.pop()
        return []

    for name in sorted(edges):
        if name not in state:
            found = walk(name)
            if found:
                return found
    return []


def test_module_utils_import_each_other_one_way_only():
    graph = import_graph()
    assert len(graph) > 5, "found no module_utils to check in %s" % MODULE_UTILS
    edges = {name: top | inside for name, (top, inside) in graph.items()}
    assert find_cycle(edges) == []


def test_no_module_utils_imports_another_inside_a_function():
    late = {name: sorted(inside) for name, (_top, inside) in import_graph().items() if inside}
    assert late == {}


def test_the_client_imports_its_layers_plainly():
    """The layers of a request: the client above its wording, retry policy and transport; the errors at the bottom."""
    graph = import_graph()
    assert {"_answer_errors", "_retry", "_transport", "_errors"} <= graph["_client"][0]
    assert graph["_transport"][0] == {"_errors", "_transport_errors"}
    assert graph["_errors"][0] == set()


# -- the checks themselves catch what they are for ------------------------------------------------

def test_a_cycle_through_an_import_inside_a_function_is_found(tmp_path):
    (tmp_path / "_a.py").write_text("from ansible_collections.imds.azure.plugins.module_utils import _b\n")
    (tmp_path / "_b.py").write_text("def later():\n    from ansible_collections.imds.azure.plugins.module_utils._a "
                                    "import x\n    return x\n")
    (tmp_path / "_c.py").write_text("import ansible_collections.imds.azure.plugins.module_utils._a\nimport json\n")
    graph = import_graph(tmp_path)
    assert graph == {"_a": ({"_b"}, set()), "_b": (set(), {"_a"}), "_c": ({"_a"}, set())}
    assert find_cycle({name: top | inside for name, (top, inside) in graph.items()}) == ["_a", "_b", "_a"]


@pytest.mark.parametrize("statement, names", [
    ("from . import _x, _y", {"_x", "_y"}),
    ("from ._x import thing", {"_x"}),
    ("from ansible_collections.imds.azure.plugins.module_utils import _x as x", {"_x"}),
    ("import ansible_collections.imds.azure.plugins.module_utils._x.inner", {"_x"}),
    ("from ansible.module_utils.basic import AnsibleModule", set()),
    ("from ansible_collections.imds.azure.plugins.plugin_utils import _x", set()),
])
def test_every_form_of_import_is_read(statement, names):
    assert imported_names(ast.parse(statement).body[0]) == names


def test_a_graph_without_cycles_has_none():
    assert find_cycle({"_a": {"_b", "_c"}, "_b": {"_c"}, "_c": set()}) == []
