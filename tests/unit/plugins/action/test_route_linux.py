"""Linux decisions of imds.azure.route that the namespace tests cannot reach: persistence through
NetworkManager or systemd-networkd (neither runs here), and what may reach a command line."""

from __future__ import annotations

from unittest import mock

import pytest
from ansible.playbook.play_context import PlayContext
from ansible_collections.imds.azure.plugins.action.route import ActionModule
from ansible_collections.imds.azure.plugins.plugin_utils import _route_commands as commands

PLAN = {"state": "present", "interface": "eth0", "gateway": "10.0.0.1", "metric": 1, "remove": [],
        "destination": "169.254.169.254/32", "needed": True, "reason": ""}

NETWORKCTL = """\u25cf 2: eth0
                     Link File: /usr/lib/systemd/network/99-default.link
                  Network File: /run/systemd/network/10-netplan-eth0.network
                          Type: ether
"""


def test_linux_commands():
    wrong = {"destination": "169.254.169.254", "prefix": 32, "gateway": "", "interface": "clu0", "metric": 0}
    assert commands.linux_apply_commands(dict(PLAN, remove=[wrong])) == [
        ["ip", "route", "del", "169.254.169.254/32", "dev", "clu0", "metric", "0", "scope", "link"],
        ["ip", "route", "replace", "169.254.169.254/32", "via", "10.0.0.1", "dev", "eth0", "metric", "1"]]
    assert commands.linux_apply_commands(dict(PLAN, state="absent", remove=[wrong])) == [
        ["ip", "route", "del", "169.254.169.254/32", "dev", "clu0", "metric", "0", "scope", "link"]]


@pytest.mark.parametrize("plan", [dict(PLAN, interface="eth0;reboot"), dict(PLAN, interface="-f"),
                                  dict(PLAN, gateway="10.0.0.1 dev lo"), dict(PLAN, gateway="$(id)")])
def test_hostile_values_never_reach_a_command(plan):
    with pytest.raises(commands.RouteCommandError):
        commands.linux_apply_commands(plan)


def test_networkd_and_networkmanager_helpers():
    assert commands.networkd_network_file(NETWORKCTL) == "/run/systemd/network/10-netplan-eth0.network"
    assert commands.networkd_network_file("Network File: n/a") is None
    path = commands.networkd_dropin_path("/run/systemd/network/10-netplan-eth0.network")
    assert path == "/etc/systemd/network/10-netplan-eth0.network.d/60-imds-route.conf"
    assert commands.networkd_dropin_content(PLAN).splitlines()[1:] == ["[Route]", "Destination=169.254.169.254/32", "Gateway=10.0.0.1", "Metric=1"]
    assert commands.nmcli_route_value(PLAN) == "169.254.169.254/32 10.0.0.1 1"
    listing = "Wired connection 1:eth0\nmy\\:vpn:tun0\nlo:lo\n"
    assert commands.nmcli_connection_for("eth0", listing) == "Wired connection 1"
    assert commands.nmcli_connection_for("tun0", listing) == "my:vpn"
    assert commands.nmcli_connection_for("eth9", listing) is None


class FakeLinuxHost:
    """Answers the command module as a host whose eth0 is managed by ``manager``."""

    def __init__(self, manager: str) -> None:
        self.manager = manager
        self.routes = [{"dst": "default", "gateway": "10.0.0.1", "dev": "eth0", "metric": 100}]
        self.ran = []

    def execute(self, module_name: str, module_args: dict, task_vars=None) -> dict:
        if module_name == "imds.azure.metadata_info":
            return {"text": "vm-id"}
        argv = module_args["argv"]
        self.ran.append(argv)
        if argv == commands.LINUX_READ:
            import json  # pylint: disable=import-outside-toplevel
            return {"rc": 0, "stdout": json.dumps(self.routes)}
        if argv[:3] == ["ip", "route", "replace"]:
            self.routes.append({"dst": "169.254.169.254", "gateway": argv[5], "dev": argv[7], "metric": int(argv[9])})
            return {"rc": 0, "stdout": ""}
        if argv[0] == "nmcli" and argv[1] == "-t":
            if self.manager != "nm":
                return {"rc": 127, "failed": True}
            return {"rc": 0, "stdout": "Wired connection 1:eth0\n"}
        if argv[0] == "networkctl":
            return {"rc": 0, "stdout": NETWORKCTL} if self.manager == "networkd" else {"rc": 1, "stdout": ""}
        return {"rc": 0, "stdout": ""}


def run_action(host: FakeLinuxHost) -> dict:
    task = mock.MagicMock(args={}, check_mode=False, diff=False, async_val=0)
    connection = mock.MagicMock()
    connection._shell.SHELL_FAMILY = "sh"  # pylint: disable=protected-access
    action = ActionModule(task, connection, PlayContext(), loader=None, templar=None, shared_loader_obj=None)
    with mock.patch.object(action, "_execute_module", side_effect=host.execute):
        return action.run(task_vars={})


def test_persistence_through_networkmanager():
    host = FakeLinuxHost("nm")
    result = run_action(host)
    assert result["persistence"]["method"] == "networkmanager"
    assert ["nmcli", "connection", "modify", "Wired connection 1", "+ipv4.routes",
            "169.254.169.254/32 10.0.0.1 1"] in host.ran


def test_persistence_through_systemd_networkd():
    host = FakeLinuxHost("networkd")
    result = run_action(host)
    assert result["persistence"]["path"] == "/etc/systemd/network/10-netplan-eth0.network.d/60-imds-route.conf"
    assert ["install", "-D", "-m", "0644", "/dev/stdin", result["persistence"]["path"]] in host.ran


def test_no_network_manager_says_so():
    result = run_action(FakeLinuxHost("none"))
    assert result["persistence"]["method"] == "none" and "until the next reboot" in result["persistence"]["note"]
    assert result["verified"] is True
