"""Linux decisions of imds.azure.route that the namespace tests cannot reach: persistence through
NetworkManager (connections by UUID, stale routes on another interface's connection) or
systemd-networkd (neither runs here), and what may reach a command line."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from ansible.playbook.play_context import PlayContext
from ansible_collections.imds.azure.plugins.action.route import ActionModule
from ansible_collections.imds.azure.plugins.plugin_utils import _route_networkd as networkd
from ansible_collections.imds.azure.plugins.plugin_utils import _route_networkmanager as nm
from ansible_collections.imds.azure.plugins.plugin_utils._route_backend import RouteCommandError
from ansible_collections.imds.azure.plugins.plugin_utils._route_linux import LINUX_READ, linux_apply_commands

PLAN = {"state": "present", "interface": "eth0", "gateway": "10.0.0.1", "metric": 1, "remove": [], "add": ["active"],
        "destination": "169.254.169.254/32", "needed": True, "reason": "", "stores": ["active"]}
UUID0 = "5fb06bd0-0bb0-7ffb-45f1-d6edd65f3e03"
UUID1 = "a3c3f2e4-1111-4c1e-9d7a-0123456789ab"
NETWORKCTL = """\u25cf 2: eth0
                     Link File: /usr/lib/systemd/network/99-default.link
                  Network File: /run/systemd/network/10-netplan-eth0.network
                          Type: ether
"""


def test_linux_commands():
    wrong = {"destination": "169.254.169.254", "prefix": 32, "gateway": "", "interface": "clu0", "metric": 0,
             "store": "active"}
    assert linux_apply_commands(dict(PLAN, remove=[wrong])) == [
        ["ip", "route", "del", "169.254.169.254/32", "dev", "clu0", "metric", "0", "scope", "link"],
        ["ip", "route", "replace", "169.254.169.254/32", "via", "10.0.0.1", "dev", "eth0", "metric", "1"]]
    assert linux_apply_commands(dict(PLAN, state="absent", add=[], remove=[wrong])) == [
        ["ip", "route", "del", "169.254.169.254/32", "dev", "clu0", "metric", "0", "scope", "link"]]
    # Only the active store is the kernel's; a persistent route is not deleted with ip.
    assert linux_apply_commands(dict(PLAN, add=[], remove=[dict(wrong, store="persistent")])) == []


@pytest.mark.parametrize("plan", [dict(PLAN, interface="eth0;reboot"), dict(PLAN, interface="-f"),
                                  dict(PLAN, gateway="10.0.0.1 dev lo"), dict(PLAN, gateway="$(id)")])
def test_hostile_values_never_reach_a_command(plan):
    with pytest.raises(RouteCommandError):
        linux_apply_commands(plan)


def test_networkd_and_networkmanager_helpers():
    assert networkd.network_file(NETWORKCTL) == "/run/systemd/network/10-netplan-eth0.network"
    assert networkd.network_file("Network File: n/a") is None
    path = networkd.dropin_path("/run/systemd/network/10-netplan-eth0.network")
    assert path == "/etc/systemd/network/10-netplan-eth0.network.d/60-imds-route.conf"
    content = networkd.dropin_content(PLAN)
    assert content.splitlines()[1:] == ["[Route]", "Destination=169.254.169.254/32", "Gateway=10.0.0.1", "Metric=1"]
    assert networkd.dropin_route(content, "eth0") == {
        "destination": "169.254.169.254", "prefix": 32, "gateway": "10.0.0.1", "interface": "eth0", "metric": 1,
        "interface_metric": None, "store": "persistent"}
    assert networkd.dropin_route("[Route]\nDestination=10.0.0.0/8\n", "eth0") is None
    assert nm.nmcli_route_value(PLAN) == "169.254.169.254/32 10.0.0.1 1"
    assert nm.active_devices("%s:eth0\nmy\\:vpn:tun0\n%s:\n" % (UUID0, UUID1)) == {UUID0: "eth0"}
    assert nm.imds_entries("10.9.0.0/16 10.0.0.254, 169.254.169.254/32 10.0.0.1 1, 169.254.169.254/32 0.0.0.0 5 "
                           "table=100") == [("169.254.169.254/32 10.0.0.1 1", "10.0.0.1", 1),
                                            ("169.254.169.254/32 0.0.0.0 5 table=100", "", 5)]
    assert nm.imds_entries("169.254.169.254/32 10.0.0.1 1; reboot") == []


class FakeLinuxHost:
    """Answers the command module as a host whose devices are managed by ``manager``. ``nm_routes``:
    uuid -> (interface-name, device when active, ipv4.routes entries) of NetworkManager's connections."""

    def __init__(self, manager: str, defaults: list | None = None, nm_routes: dict | None = None,
                 dropin: str | None = None) -> None:
        self.manager = manager
        self.routes = defaults or [{"dst": "default", "gateway": "10.0.0.1", "dev": "eth0", "metric": 100}]
        self.nm = nm_routes if nm_routes is not None else {UUID0: ("eth0", "eth0", [])}
        self.dropin = dropin
        self.ran = []

    def execute(self, module_name: str, module_args: dict, task_vars=None) -> dict:
        if module_name == "imds.azure.metadata_info":
            return {"text": "vm-id"}
        argv = module_args["argv"]
        self.ran.append(argv)
        if argv == LINUX_READ:
            return {"rc": 0, "stdout": json.dumps(self.routes)}
        if argv[:3] == ["ip", "route", "replace"]:
            self.routes.append({"dst": "169.254.169.254", "gateway": argv[5], "dev": argv[7], "metric": int(argv[9])})
            return {"rc": 0, "stdout": ""}
        if argv[0] == "nmcli":
            return self._nmcli(argv)
        if argv[0] == "networkctl":
            return {"rc": 0, "stdout": NETWORKCTL} if self.manager == "networkd" else {"rc": 1, "stdout": ""}
        if argv[0] == "cat":
            return {"rc": 0, "stdout": self.dropin} if self.dropin is not None else {"rc": 1, "stdout": ""}
        if argv[0] == "install":
            self.dropin = module_args["stdin"]
        return {"rc": 0, "stdout": ""}

    def _nmcli(self, argv: list) -> dict:
        if self.manager != "nm":
            return {"rc": 127, "failed": True, "msg": "No such file or directory"}
        if argv[1:] == ["-t", "-f", "UUID,DEVICE", "connection", "show", "--active"]:
            return {"rc": 0, "stdout": "".join("%s:%s\n" % (u, c[1]) for u, c in self.nm.items() if c[1])}
        if argv[1:] == ["-t", "-f", "UUID", "connection", "show"]:
            return {"rc": 0, "stdout": "".join("%s\n" % u for u in self.nm)}
        if argv[1:4] == ["-g", "connection.interface-name,ipv4.routes", "connection"]:
            name, _device, entries = self.nm[argv[5]]
            return {"rc": 0, "stdout": "%s\n%s\n" % (name, ", ".join(entries))}
        if argv[1:3] == ["connection", "modify"]:
            uuid, operation, value = argv[3:6]
            assert uuid in self.nm, "connections are addressed by UUID"
            entries = self.nm[uuid][2]
            if operation == "+ipv4.routes":
                entries.append(value)
            else:
                entries.remove(value)
            return {"rc": 0, "stdout": ""}
        raise AssertionError("unexpected nmcli call %s" % argv)


def run_action(host: FakeLinuxHost, args: dict | None = None) -> dict:
    task = mock.MagicMock(args=dict(args or {}), check_mode=False, diff=False, async_val=0)
    connection = mock.MagicMock()
    connection._shell.SHELL_FAMILY = "sh"  # pylint: disable=protected-access
    action = ActionModule(task, connection, PlayContext(), loader=None, templar=None, shared_loader_obj=None)
    with mock.patch.object(action, "_execute_module", side_effect=host.execute):
        return action.run(task_vars={})


def test_persistence_through_networkmanager_by_uuid():
    host = FakeLinuxHost("nm")
    result = run_action(host)
    assert result["persistence"]["method"] == "networkmanager" and UUID0 in result["persistence"]["note"]
    assert ["nmcli", "connection", "modify", UUID0, "+ipv4.routes", "169.254.169.254/32 10.0.0.1 1"] in host.ran
    assert result["changed_stores"] == ["active", "persistent"]
    assert run_action(host)["changed"] is False


def test_a_route_left_on_another_interfaces_connection_is_removed():
    # An earlier run put the route on eth1's connection; eth0 is primary now.
    host = FakeLinuxHost("nm", nm_routes={UUID0: ("eth0", "eth0", []),
                                          UUID1: ("eth1", "eth1", ["10.9.0.0/16 10.1.0.254",
                                                                   "169.254.169.254/32 10.1.0.1 1"])})
    host.routes.append({"dst": "169.254.169.254", "gateway": "10.0.0.1", "dev": "eth0", "metric": 1})
    result = run_action(host)
    assert result["changed"] is True and result["changed_stores"] == ["persistent"]
    assert host.nm[UUID1][2] == ["10.9.0.0/16 10.1.0.254"]
    assert host.nm[UUID0][2] == ["169.254.169.254/32 10.0.0.1 1"]
    assert result["commands"][0] == "nmcli connection modify %s -ipv4.routes '169.254.169.254/32 10.1.0.1 1'" % UUID1
    assert run_action(host)["changed"] is False


def test_absent_removes_the_route_from_every_connection():
    host = FakeLinuxHost("nm", nm_routes={UUID0: ("eth0", "eth0", ["169.254.169.254/32 10.0.0.1 1"]),
                                          UUID1: ("", "", ["169.254.169.254/32 10.1.0.1 1"])})
    result = run_action(host, {"state": "absent"})
    assert result["changed_stores"] == ["persistent"]
    assert host.nm[UUID0][2] == [] and host.nm[UUID1][2] == []


def test_persistence_through_systemd_networkd():
    host = FakeLinuxHost("networkd")
    result = run_action(host)
    assert result["persistence"]["method"] == "systemd-networkd"
    path = "/etc/systemd/network/10-netplan-eth0.network.d/60-imds-route.conf"
    assert ["install", "-D", "-m", "0644", "/dev/stdin", path] in host.ran
    assert run_action(host)["changed"] is False
    host.dropin = host.dropin.replace("Gateway=10.0.0.1", "Gateway=10.0.0.9")
    assert run_action(host)["changed_stores"] == ["persistent"]
    assert "Gateway=10.0.0.1" in host.dropin


def test_no_network_manager_says_so():
    result = run_action(FakeLinuxHost("none"))
    assert result["persistence"]["method"] == "none" and "until the next reboot" in result["persistence"]["note"]
    assert result["verified"] is True


def test_multipath_default_route_gets_a_real_gateway():
    host = FakeLinuxHost("none", defaults=[{"dst": "default", "metric": 100, "nexthops": [
        {"gateway": "10.0.0.1", "dev": "eth0", "weight": 1}, {"gateway": "10.1.0.1", "dev": "eth1", "weight": 1}]}])
    result = run_action(host)
    assert result["ran"] == ["ip route replace 169.254.169.254/32 via 10.0.0.1 dev eth0 metric 1"]


def test_scope_failover_cluster_leaves_linux_alone():
    host = FakeLinuxHost("none")
    result = run_action(host, {"scope": "failover_cluster"})
    assert result["skipped"] is True and "not a Windows failover-cluster node" in result["msg"]
    assert host.ran == [LINUX_READ]
