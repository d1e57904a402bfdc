"""The Windows path of the imds.azure.route action plugin, with the ansible.windows modules'
results simulated from Microsoft's real route print tables (there is no PowerShell here).

The fake host keeps a Get-NetRoute table; the PowerShell the plugin sends is recognised by the
script constant it uses and acted out with the parameters it passes."""

from __future__ import annotations

from unittest import mock

import pytest
from ansible.playbook.play_context import PlayContext
from ansible_collections.imds.azure.plugins.action.route import ActionModule
from ansible_collections.imds.azure.plugins.plugin_utils import _route_commands as commands
from ansible_collections.imds.azure.plugins.plugin_utils._routes import parse_route_print
from helpers import paths

INDEX = {"10.0.1.10": 7, "169.254.1.156": 12, "127.0.0.1": 1, "172.16.69.7": 4}
INTERFACE_METRIC = {7: 10, 12: 15, 1: 75, 4: 10}


class FakeWindowsHost:
    """A Windows host as win_powershell and win_uri would show it."""

    def __init__(self, table_text: str, route_exe_fails: bool = False) -> None:
        self.routes = []
        for route in parse_route_print(table_text):
            if ":" in route["destination"]:
                continue
            index = INDEX[route["interface"]]
            self.routes.append({
                "DestinationPrefix": "%s/%d" % (route["destination"], route["prefix"]),
                "NextHop": route["gateway"] or "0.0.0.0", "InterfaceIndex": index, "InterfaceAlias": "if%d" % index,
                "RouteMetric": route["metric"], "InterfaceMetric": INTERFACE_METRIC[index]})
        self.addresses = [{"InterfaceIndex": i, "IPAddress": a} for a, i in INDEX.items()]
        self.route_exe_fails = route_exe_fails
        self.calls = []

    def execute(self, module_name: str, module_args: dict, task_vars=None) -> dict:
        self.calls.append((module_name, module_args))
        if module_name == "ansible.windows.win_uri":
            return self._uri()
        assert module_name == "ansible.windows.win_powershell"
        script, parameters = module_args["script"], module_args.get("parameters", {})
        if script == commands.WINDOWS_READ_SCRIPT:
            return {"changed": False, "result": {"routes": [dict(r) for r in self.routes],
                                                 "addresses": self.addresses}}
        if script == commands.WINDOWS_REMOVE_SCRIPT:
            self.routes = [r for r in self.routes if not (
                r["DestinationPrefix"] == "169.254.169.254/32" and r["InterfaceIndex"] == parameters["InterfaceIndex"]
                and r["NextHop"] == parameters["NextHop"])]
            return {"changed": True}
        if script == commands.WINDOWS_ADD_SCRIPT:
            if self.route_exe_fails:
                return {"failed": True, "error": [{"exception": {"message": "The route addition failed: 5"}}]}
            own = {a["IPAddress"]: a["InterfaceIndex"] for a in self.addresses}
            on_link = own.get(parameters["Gateway"]) == parameters["InterfaceIndex"]
            self.routes.append({"DestinationPrefix": "169.254.169.254/32",
                                "NextHop": "0.0.0.0" if on_link else parameters["Gateway"],
                                "InterfaceIndex": parameters["InterfaceIndex"],
                                "RouteMetric": parameters["Metric"],
                                "InterfaceMetric": INTERFACE_METRIC[parameters["InterfaceIndex"]],
                                "Persistent": parameters["Persistent"]})
            return {"changed": True, "result": {"output": " OK!"}}
        raise AssertionError("unexpected script: %s" % script[:80])

    def _uri(self) -> dict:
        # IMDS answers when its /32 route leaves through the primary NIC (index 7 or 4).
        imds = [r for r in self.routes if r["DestinationPrefix"] == "169.254.169.254/32"]
        if imds and all(r["InterfaceIndex"] in (7, 4) for r in imds):
            return {"status_code": 200, "content": "02aab8a4-74ef-476e-8182-f6d2ba4166a6"}
        return {"failed": True, "msg": "The operation has timed out", "status_code": -1}

    def imds_routes(self) -> list:
        return [(r["InterfaceIndex"], r["NextHop"], r["RouteMetric"]) for r in self.routes
                if r["DestinationPrefix"] == "169.254.169.254/32"]


def run_action(host: FakeWindowsHost, args: dict | None = None, check_mode: bool = False, diff: bool = False) -> dict:
    task = mock.MagicMock()
    task.args = dict(args or {})
    task.check_mode = check_mode
    task.diff = diff
    task.async_val = 0
    connection = mock.MagicMock()
    connection._shell.SHELL_FAMILY = "powershell"  # pylint: disable=protected-access
    connection._shell.tmpdir = "C:\\tmp"  # pylint: disable=protected-access
    action = ActionModule(task, connection, PlayContext(), loader=None, templar=None, shared_loader_obj=None)
    with mock.patch.object(action, "_execute_module", side_effect=host.execute):
        return action.run(task_vars={})


def table(name: str) -> str:
    return (paths.SAMPLES / name).read_text()


def test_failover_cluster_node_gets_the_documented_route():
    host = FakeWindowsHost(table("route-print-docs-failover-cluster.txt"))
    result = run_action(host)
    assert result.get("failed") is not True, result
    assert result["changed"] is True and result["platform"] == "windows"
    assert result["plan"]["interface"] == "10.0.1.10" and result["plan"]["gateway"] == "10.0.1.10"
    add = [a for m, a in host.calls if a.get("script") == commands.WINDOWS_ADD_SCRIPT]
    assert [a["parameters"] for a in add] == [{"Gateway": "10.0.1.10", "Metric": 1, "InterfaceIndex": 7,
                                               "Persistent": True}]
    assert host.imds_routes() == [(7, "0.0.0.0", 1)]
    assert result["verified"] is True and result["persistence"]["method"] == "route.exe -p"


def test_healthy_node_is_left_alone():
    host = FakeWindowsHost(table("route-print-docs-troubleshooting.txt"))
    result = run_action(host)
    assert result["changed"] is False and result["commands"] == []
    assert [m for m, a in host.calls] == ["ansible.windows.win_powershell"]  # only the read


def test_check_and_diff_change_nothing():
    host = FakeWindowsHost(table("route-print-docs-failover-cluster.txt"))
    result = run_action(host, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["commands"] == ['route.exe add {"Gateway": "10.0.1.10", "InterfaceIndex": 7, "Metric": 1, '
                                  '"Persistent": true}']
    assert result["diff"]["before"] == ""
    assert result["diff"]["after"] == "169.254.169.254/32 via 10.0.1.10 dev 10.0.1.10 metric 1\n"
    assert host.imds_routes() == []
    assert len(host.calls) == 1


def test_stale_route_on_the_cluster_adapter_is_replaced():
    text = table("route-print-docs-failover-cluster.txt") + \
        "  169.254.169.254  255.255.255.255         On-link     169.254.1.156    271\n"
    host = FakeWindowsHost(text)
    result = run_action(host, {"persistent": False})
    assert result["changed"] is True and result.get("failed") is not True, result
    removes = [a["parameters"] for m, a in host.calls if a.get("script") == commands.WINDOWS_REMOVE_SCRIPT]
    assert removes == [{"InterfaceIndex": 12, "NextHop": "0.0.0.0"}]
    assert host.imds_routes() == [(7, "0.0.0.0", 1)]
    assert result["persistence"]["method"] == "none"


def test_route_exe_failure_names_interface_and_gateway():
    host = FakeWindowsHost(table("route-print-docs-failover-cluster.txt"), route_exe_fails=True)
    result = run_action(host)
    assert result["failed"] is True
    assert "interface 10.0.1.10, gateway 10.0.1.10" in result["msg"] and "route addition failed" in result["msg"]


def test_imds_still_silent_fails_after_the_change():
    host = FakeWindowsHost(table("route-print-docs-failover-cluster.txt"))
    result = run_action(host, {"interface": "169.254.1.156"})
    assert result["failed"] is True and result["verified"] is False
    assert "IMDS does not answer" in result["msg"] and "interface 169.254.1.156" in result["msg"]


def test_absent_removes_only_imds_routes():
    host = FakeWindowsHost(table("route-print-docs-troubleshooting.txt"))
    before = len(host.routes)
    result = run_action(host, {"state": "absent"})
    assert result["changed"] is True
    assert host.imds_routes() == [] and len(host.routes) == before - 1
    assert "verified" not in result


def test_bad_arguments_are_refused():
    host = FakeWindowsHost(table("route-print-docs-troubleshooting.txt"))
    with pytest.raises(Exception, match="metric"):
        run_action(host, {"metric": "high"})
