"""win_imds_attempt.ps1 parsed with a real PowerShell grammar (tree-sitter-powershell), and the shape of
what it must keep: no web cmdlet (they honour proxies and redirects), no Write-Host, failures by name.

There is no PowerShell here, so the script never runs in these tests; its Python double
(tests/doubles/win_imds_attempt_double.py) does, and it must keep the same options and return keys.
"""

from __future__ import annotations

import ast
import re

import pytest
from helpers import paths

tree_sitter = pytest.importorskip("tree_sitter")
tree_sitter_powershell = pytest.importorskip("tree_sitter_powershell")

SCRIPT = paths.ROOT / "plugins" / "modules" / "win_imds_attempt.ps1"
DOCS = paths.ROOT / "plugins" / "modules" / "win_imds_attempt.py"
DOUBLE = paths.TESTS / "doubles" / "win_imds_attempt_double.py"


def parse(text: str):
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    return parser.parse(text.encode("utf-8")).root_node


def problems(node) -> list:
    found = []
    if node.type == "ERROR" or node.is_missing:
        found.append((node.start_point[0] + 1, node.text.decode("utf-8", "replace")[:60]))
    for child in node.children:
        found += problems(child)
    return found


def command_names(node) -> set:
    names = set()
    if node.type == "command_name":
        names.add(node.text.decode().lower())
    for child in node.children:
        names |= command_names(child)
    return names


def test_the_script_parses():
    assert problems(parse(SCRIPT.read_text(encoding="utf-8"))) == []


def test_the_grammar_finds_errors():
    assert problems(parse("Function Broken { if ($a -eq { }"))


def test_no_web_cmdlets_and_no_host_output():
    used = command_names(parse(SCRIPT.read_text(encoding="utf-8")))
    assert used, "the grammar found no commands at all"
    for forbidden in ("invoke-webrequest", "invoke-restmethod", "write-host", "start-bitstransfer"):
        assert forbidden not in used
    assert "System.Net.WebRequest" not in SCRIPT.read_text(encoding="utf-8")


def _options_of_ps1() -> set:
    text = SCRIPT.read_text(encoding="utf-8")
    block = text[text.index("options = @{"):text.index("supports_check_mode")]
    return set(re.findall(r"^\s+(\w+) = @\{", block, re.MULTILINE))


def _result_keys_of_ps1() -> set:
    return set(re.findall(r"\$module\.Result\.(\w+) =", SCRIPT.read_text(encoding="utf-8")))


def _double_keywords(name: str) -> set:
    """The keyword names of the dict(...) given as ``name=`` (argument_spec) or assigned to ``name`` (result)."""
    tree = ast.parse(DOUBLE.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == name:
            return {keyword.arg for keyword in node.value.keywords}
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == name:
            return {keyword.arg for keyword in node.value.keywords}
    raise AssertionError("no %s in the double" % name)


def test_script_docs_and_double_agree_on_options():
    import yaml  # pylint: disable=import-outside-toplevel
    namespace = {}
    exec(compile(DOCS.read_text(encoding="utf-8"), str(DOCS), "exec"), namespace)  # pylint: disable=exec-used
    documented = set(yaml.safe_load(namespace["DOCUMENTATION"])["options"])
    returned = set(yaml.safe_load(namespace["RETURN"]))
    assert _options_of_ps1() == documented == _double_keywords("argument_spec")
    assert _result_keys_of_ps1() - {"changed"} == returned == _double_keywords("result") - {"changed"}


def _option_types_of_ps1() -> dict:
    text = SCRIPT.read_text(encoding="utf-8")
    block = text[text.index("options = @{"):text.index("supports_check_mode")]
    return dict(re.findall(r"^\s+(\w+) = @\{ type = '(\w+)'", block, re.MULTILINE))


def test_no_float_option_crosses_and_the_double_parses_every_int_as_ansible_basic():
    """Ansible.Basic's float is single precision parsed in the host's culture: the script declares none, so the
    double need not model it; each int option the double reads goes through its Int32 parser."""
    types = _option_types_of_ps1()
    assert "float" not in types.values() and set(types.values()) == {"str", "int"}
    double = DOUBLE.read_text(encoding="utf-8")
    parsed = re.search(r"basic_params\(module, \(([^)]*)\)\)", double).group(1)
    assert set(re.findall(r'"(\w+)"', parsed)) == {name for name, kind in types.items() if kind == "int"}


def test_failures_are_reported_by_the_innermost_exception():
    """$_.Exception is PowerShell's MethodInvocationException; every catch hands it to Set-FailureError, which walks
    InnerException to the end, and no catch reports the wrapper's own message."""
    text = SCRIPT.read_text(encoding="utf-8")
    catches = re.findall(r"catch \{(.*?)\n\s*\}", text, re.DOTALL)
    assert len(catches) >= 4
    assert "$_.Exception.Message" not in text
    reporting = [body for body in catches if "Set-FailureError" in body]
    assert len(reporting) == 3 and all("-Failure $_.Exception" in body for body in reporting)
    assert "while ($null -ne $current.InnerException)" in text


def test_a_name_without_addresses_is_a_connect_failure():
    """Dns.GetHostAddresses may return no address; Resolve-Target throws (inside the try that reports
    connect_failed) before it would hand back a null address to build the TcpClient with."""
    text = SCRIPT.read_text(encoding="utf-8")
    body = re.search(r"Function Resolve-Target \{(.*?)\n\}", text, re.DOTALL).group(1)
    empty_check = body.index("if ($found.Count -eq 0) {")
    assert "throw (New-Object -TypeName System.Net.Sockets.SocketException -ArgumentList 11001)" in body[empty_check:]
    assert empty_check < body.index("return $found[0]")
    call = re.search(r"try \{\s*\$target = Resolve-Target -Name \$params.address\s*\}\s*catch \{\s*"
                     r"Set-FailureError -Kind 'connect_failed'", text)
    assert call, "Resolve-Target is no longer called inside the try that reports connect_failed"
