"""Every PowerShell text the collection holds - plugins/**/*.ps1 and *.psm1, roles' files, and
scripts written inline in role tasks - parsed with a real PowerShell grammar (tree-sitter with
tree-sitter-powershell): a parse error fails the build. On top, rules over the parse tree:
Windows PowerShell 5.1 syntax only (no PowerShell 7 operators), no native command's stderr merged
into the output under ErrorActionPreference Stop, and the route scripts call only cmdlets that
Windows Server 2016 has."""

from __future__ import annotations

import pytest
import yaml
from helpers import paths
from helpers.powershell import nodes, scripts_in, syntax_errors

ROOT = paths.TESTS.parent
SCRIPTS = scripts_in(ROOT / "plugins") + scripts_in(ROOT / "roles")
ROUTE_SCRIPTS = sorted((ROOT / "plugins" / "plugin_utils" / "powershell").glob("route_*.ps1"))
# PowerShell 7 only: pipeline chains, null-coalescing, null-conditional member access, ternary.
PS7_TOKENS = {"&&", "||", "??", "??=", "?.", "?["}
# Cmdlets of Windows Server 2016 (NetTCPIP, FailoverClusters, Microsoft.PowerShell.*) the route scripts may use.
SERVER_2016_CMDLETS = {"Get-NetRoute", "New-NetRoute", "Remove-NetRoute", "Get-NetIPAddress", "Select-Object",
                       "Get-Command", "Get-ClusterNode", "Get-Service"}


def inline_role_scripts() -> list:
    """(file, task name, script) of every win_powershell task with an inline script in the roles and
    the collection's playbooks (their plays' tasks)."""
    found = []
    for tasks in sorted((ROOT / "roles").rglob("*.yml")) + sorted((ROOT / "playbooks").glob("*.yml")):
        data = yaml.safe_load(tasks.read_text(encoding="utf-8"))
        if tasks.parent.name == "playbooks":
            data = [task for play in data for task in play.get("tasks", [])]
        for task in _tasks(data):
            for name in ("ansible.windows.win_powershell", "win_powershell"):
                if isinstance(task.get(name), dict) and "script" in task[name]:
                    found.append((tasks, task.get("name", "?"), task[name]["script"]))
    return found


def _tasks(data) -> list:
    if isinstance(data, list):
        return [item for entry in data for item in ([entry] if isinstance(entry, dict) else []) + _tasks(
            entry.get("block", []) if isinstance(entry, dict) else [])]
    return []


def all_texts() -> list:
    return [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in SCRIPTS] + [
        ("%s: %s" % (f.relative_to(ROOT), name), script) for f, name, script in inline_role_scripts()]


def test_the_route_scripts_are_found():
    assert [p.name for p in ROUTE_SCRIPTS] == ["route_add.ps1", "route_read.ps1", "route_remove.ps1"]
    assert set(ROUTE_SCRIPTS) <= set(SCRIPTS)


@pytest.mark.parametrize("name, text", all_texts(), ids=[name for name, _text in all_texts()])
def test_every_powershell_text_parses(name, text):
    assert syntax_errors(text) == [], "%s does not parse as PowerShell" % name


@pytest.mark.parametrize("name, text", all_texts(), ids=[name for name, _text in all_texts()])
def test_windows_powershell_5_1_syntax_and_no_merged_native_stderr(name, text):
    tokens = {leaf.text.decode() for kind in ("&&", "||", "??", "??=", "?.", "?[") for leaf in nodes(text, kind)}
    assert not tokens & PS7_TOKENS, "%s uses PowerShell 7 syntax %s" % (name, sorted(tokens & PS7_TOKENS))
    if "$ErrorActionPreference = 'Stop'" in text:
        merged = [n.text.decode() for n in nodes(text, "merging_redirection_operator") if n.text.decode() == "2>&1"]
        assert merged == [], ("%s merges stderr into the output under ErrorActionPreference Stop: on Windows "
                              "PowerShell 5.1 a native command's stderr then ends the script" % name)


@pytest.mark.parametrize("script", ROUTE_SCRIPTS, ids=[p.name for p in ROUTE_SCRIPTS])
def test_route_scripts_call_only_server_2016_cmdlets(script):
    text = script.read_text(encoding="utf-8")
    called = {n.text.decode() for n in nodes(text, "command_name")}
    assert called and called <= SERVER_2016_CMDLETS, sorted(called - SERVER_2016_CMDLETS)
    assert not nodes(text, "command_invokation_operator"), "no native or computed command"
    assert text.startswith("# imds.azure.route") and "$ErrorActionPreference = 'Stop'" in text


@pytest.mark.parametrize("broken", [
    "if ($x { 'unclosed' }",
    "$a = @{ a = 1",
    "function f( { }",
])
def test_the_grammar_rejects_broken_scripts(broken):
    assert syntax_errors(broken), "the parse check must be able to fail"


def test_a_merged_stderr_is_found(tmp_path):
    text = "$ErrorActionPreference = 'Stop'\n$out = & route.exe print 2>&1\n"
    assert [n.text.decode() for n in nodes(text, "merging_redirection_operator")] == ["2>&1"]


def test_inline_role_scripts_are_seen(tmp_path):
    role = [{"name": "t", "ansible.windows.win_powershell": {"script": "Get-Service"}},
            {"block": [{"name": "u", "win_powershell": {"script": "Get-Item ."}}]}]
    assert [t["name"] for t in _tasks(role) if "name" in t] == ["t", "u"]
    found = tmp_path / "roles" / "r" / "tasks"
    found.mkdir(parents=True)
    (found / "main.yml").write_text(yaml.safe_dump(role))
    assert [t.get("name") for t in _tasks(yaml.safe_load((found / "main.yml").read_text()))
            if isinstance(t.get("win_powershell") or t.get("ansible.windows.win_powershell"), dict)] == ["t", "u"]
