"""The Windows route double held to Windows (doubles/windows_route_double.py, doubles/win_powershell.py,
helpers/powershell.py): each behaviour it models, with a test that fails when the double loses it.

win_powershell is modelled from the real win_powershell.ps1 of the oldest (2.1.0) and the newest
(3.8.0) ansible.windows release and the pinned 3.3.0; the tests run on each.
"""

from __future__ import annotations

import datetime
import json

import pytest
from doubles import win_powershell
from helpers.powershell import Enum, Interpreter, NonTerminatingError, PowerShellError, PSObject, Refused
from doubles.win_powershell import Release, UnknownRelease, convert_to_json_51
from doubles.windows_route_double import cluster_node

RELEASES = sorted(win_powershell.RELEASES)
SERVICE = "@(Get-Service -Name ClusSvc | Select-Object -Property 'Name', 'Status')"


def run(script: str, release: str, **options) -> dict:
    node_options = {key: options.pop(key) for key in list(options) if key.startswith("cluster") or key == "failover_clustering_module"}
    double = cluster_node(release=release, **node_options)
    return double.execute("ansible.windows.win_powershell", dict(options, script=script))


@pytest.mark.parametrize("release", RELEASES)
def test_the_releases_are_read_from_their_own_files(release):
    model = Release(release)
    assert model.path.is_file() and "Function Convert-OutputObject" in model.text
    assert model.default("depth") == 2 and model.default("error_action") == "continue"
    assert model.branches.index("enum_while_depth_lasts") < model.branches.index("value_type") \
        < model.branches.index("flatten_to_string")
    assert ("path" in model.options) is (release != "2.1.0")  # `path` came in 2.7.0 (its changelog)


@pytest.mark.parametrize("release", RELEASES)
def test_an_enum_is_a_dictionary_while_depth_lasts_and_a_number_deeper(release):
    """win_powershell.ps1 Convert-OutputObject: the enum branch needs $Depth -ge 0; deeper the value
    type passes raw and Ansible.Basic's ConvertTo-Json (5.1) writes its number."""
    script = "$Ansible.Result = @{ service = %s }" % SERVICE
    deep = run(script, release)["result"]["service"]  # result 2, list 1, row 0, Status -1
    assert deep == [{"Name": "ClusSvc", "Status": 4}]
    shallow = run(script, release, depth=3)["result"]["service"]
    assert shallow == [{"Name": "ClusSvc", "Status": {"Type": "System.ServiceProcess.ServiceControllerStatus",
                                                      "String": "Running", "Value": 4}}]
    # A string cast in the script is a string at any depth.
    cast = "$Ansible.Result = @{ s = @(Get-Service -Name ClusSvc | Select-Object -Property @{ n = 'Status'; e = { [string]$_.Status } }) }"
    assert run(cast, release)["result"]["s"] == run(cast, release, depth=5)["result"]["s"] == [{"Status": "Running"}]


@pytest.mark.parametrize("release", RELEASES)
def test_past_the_depth_an_object_is_flattened_to_a_string(release):
    """Convert-OutputObject's `$Depth -lt 0` branch: [string]$InputObject."""
    result = run("$Ansible.Result = @{ service = %s }" % SERVICE, release, depth=1)["result"]
    assert result["service"] == ["@{Name=ClusSvc; Status=Running}"]


def test_the_model_follows_the_file_and_refuses_a_rule_it_does_not_know(tmp_path):
    text = Release("3.3.0").text
    moved = tmp_path / "win_powershell.ps1"
    moved.write_text(text.replace("-Type ([Enum])) -and $Depth -ge 0", "-Type ([Enum])) -and $Depth -ge 1"))
    with pytest.raises(UnknownRelease, match=r"branch this model does not know: if \(.*\$Depth -ge 1\)"):
        Release("3.3.0", moved)
    moved.write_text(text.replace("error_action = @{ type = 'str'; choices = 'silently_continue', 'continue', 'stop'; "
                                  "default = 'continue' }", "error_action = @{ type = 'str'; choices = "
                                  "'silently_continue', 'continue', 'stop'; default = 'stop' }"))
    assert Release("3.3.0", moved).default("error_action") == "stop"


@pytest.mark.parametrize("release", RELEASES)
def test_error_action_continue_is_the_default_when_the_script_sets_none(release):
    """win_powershell sets $ErrorActionPreference from error_action (default continue): a
    non-terminating error is written to `error` and the script goes on."""
    script = "$x = @(Get-Service -Name NoSuchService)\n$Ansible.Result = @{ went_on = $true }"
    result = run(script, release)
    assert result.get("failed") is not True and result["result"] == {"went_on": True}
    assert "Cannot find any service with service name 'NoSuchService'." in json.dumps(result["error"])
    stopped = run(script, release, error_action="stop")
    assert stopped["failed"] is True and "NoSuchService" in stopped["msg"]


@pytest.mark.parametrize("release", RELEASES)
def test_silently_continue_suppresses_only_non_terminating_errors(release):
    quiet = run("$s = @(Get-Service -Name NoSuchService -ErrorAction SilentlyContinue)\n$Ansible.Result = @{ n = $s.Count }",
                release)
    assert quiet["result"] == {"n": 0} and quiet["error"] == []
    # Get-ClusterNode with the cluster service stopped throws: -ErrorAction SilentlyContinue does not stop that.
    thrown = run("$n = @(Get-ClusterNode -Name $env:COMPUTERNAME -ErrorAction SilentlyContinue)", release,
                 cluster_service="Stopped", cluster_node_state=None)
    assert thrown["failed"] is True and "The cluster service is not running." in thrown["msg"]
    caught = run("try { $n = @(Get-ClusterNode -Name $env:COMPUTERNAME) } catch { $m = [string]$_.Exception.Message }\n"
                 "$Ansible.Result = @{ m = $m }", release, cluster_service="Stopped", cluster_node_state=None)
    assert caught["result"]["m"].startswith("The cluster service is not running.")


def test_the_interpreter_error_model():
    def failing(kind):
        def cmdlet(parameters, pipeline_input):
            raise kind("boom")
        return cmdlet

    interpreter = Interpreter({"Soft-Fail": failing(NonTerminatingError), "Hard-Fail": failing(PowerShellError)})
    assert interpreter.run("$a = Soft-Fail\n$Ansible.Result = 1")["result"] == 1 and interpreter.errors == ["boom"]
    with pytest.raises(PowerShellError):
        interpreter.run("$ErrorActionPreference = 'Stop'\n$a = Soft-Fail")
    with pytest.raises(PowerShellError):
        interpreter.run("$a = Hard-Fail -ErrorAction SilentlyContinue")
    assert interpreter.run("try { $a = Soft-Fail -ErrorAction Stop } catch { $Ansible.Result = 'caught' }")[
        "result"] == "caught"


def test_convert_to_json_on_windows_powershell_5_1():
    """Ansible.Basic ToJson = ConvertTo-Json -Depth 99 -Compress, on 5.1: enums as numbers, DateTime
    as \\/Date(ms)\\/, an array given by -InputObject stays an array with one element."""
    status = Enum("System.ServiceProcess.ServiceControllerStatus", "Running", 4)
    when = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.timezone.utc)
    text = convert_to_json_51({"s": status, "d": when, "one": ["x"], "o": PSObject("T", {"a": 1})})
    assert text == '{"s":4,"d":"\\/Date(1796299200000)\\/","one":["x"],"o":{"a":1}}'
    assert json.loads(text)["d"] == "/Date(1796299200000)/"
    # win_powershell itself turns a DateTime into its ISO 'o' form first, at any depth.
    assert Release("3.3.0").convert({"d": when}, 2) == {"d": "2026-12-03T12:00:00+00:00"}


def test_a_pipeline_of_one_object_assigns_the_object_and_at_array_keeps_an_array():
    """about_Assignment_Operators: one output is the object itself, not a one-element array."""
    script = ("$one = Get-Service -Name ClusSvc | Select-Object -Property Name\n"
              "$array = @(Get-Service -Name ClusSvc | Select-Object -Property Name)\n"
              "$Ansible.Result = @{ one = $one; array = $array }")
    assert run(script, "3.3.0")["result"] == {"one": {"Name": "ClusSvc"}, "array": [{"Name": "ClusSvc"}]}


@pytest.mark.parametrize("release", RELEASES)
def test_ansible_basic_option_types(release):
    """Ansible.Basic: depth is `int` (an int, or Int32.Parse of its text), error_action has choices,
    unknown options fail the module before it runs."""
    script = "$Ansible.Result = @{ service = %s }" % SERVICE
    assert run(script, release, depth="3")["result"]["service"][0]["Status"]["Value"] == 4
    assert "unable to convert to int" in run(script, release, depth="three")["msg"]
    assert "must be one of" in run(script, release, error_action="ignore")["msg"]
    assert run(script, release, colour="blue")["msg"].startswith("Unsupported parameters")


def test_what_the_double_does_not_know_it_refuses():
    for script in ("$a = @(Get-NetAdapter)", "$a = [datetime]'2026-01-01'",
                   "$a = @(Get-Service -Name ClusSvc | Select-Object -First 1)",
                   "try { $a = 1 } catch [System.IO.IOException] { $a = 2 }"):
        with pytest.raises((Refused, AssertionError)):
            run(script, "3.3.0")
