# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""What to run to apply an IMDS route plan, on Linux and on Windows.

Every decision is made here, in Python that the tests cover; the Windows side only runs the
short PowerShell scripts below with parameters (never with values pasted into the text).
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.imds.azure.plugins.plugin_utils._routes import IMDS_ADDRESS, IMDS_DESTINATION

_DEVICE_RE = re.compile(r"^[A-Za-z0-9_.:@][A-Za-z0-9_.:@-]{0,14}$")
_NETWORKD_FILE_RE = re.compile(r"^\s*Network File:\s*(/\S+\.network)\s*$", re.MULTILINE)

NETWORKD_DROPIN_NAME = "60-imds-route.conf"


class RouteCommandError(ValueError):
    """A value that must not reach a command line (bad device name or address)."""


def _checked_device(device: str) -> str:
    if not _DEVICE_RE.match(device or ""):
        raise RouteCommandError("%r is not a Linux interface name" % device)
    return device


def _checked_ipv4(address: str, what: str) -> str:
    try:
        return str(ipaddress.IPv4Address(address))
    except ValueError:
        raise RouteCommandError("%s %r is not an IPv4 address" % (what, address))


# -- Linux ---------------------------------------------------------------------------------

LINUX_READ = ["ip", "-j", "-4", "route", "show", "table", "main"]


def _linux_route_args(gateway: str, device: str, metric: int) -> list:
    args = [IMDS_DESTINATION]
    if gateway:
        args += ["via", _checked_ipv4(gateway, "gateway")]
    args += ["dev", _checked_device(device), "metric", str(int(metric))]
    if not gateway:
        args += ["scope", "link"]
    return args


def linux_apply_commands(plan: dict) -> list:
    """argv lists: delete each route in ``remove``, then (state present) replace in the right one."""
    commands = []
    for route in plan["remove"]:
        commands.append(["ip", "route", "del"] + _linux_route_args(route["gateway"], route["interface"],
                                                                   route["metric"]))
    if plan["state"] == "present":
        commands.append(["ip", "route", "replace"] + _linux_route_args(plan["gateway"], plan["interface"],
                                                                       plan["metric"]))
    return commands


def networkd_network_file(networkctl_status: str) -> str | None:
    """The .network file systemd-networkd applies to a device, from ``networkctl status DEV``."""
    match = _NETWORKD_FILE_RE.search(networkctl_status or "")
    return match.group(1) if match else None


def networkd_dropin_path(network_file: str) -> str:
    """Where the drop-in for ``network_file`` lives (drop-ins also apply to files under /run)."""
    return "/etc/systemd/network/%s.d/%s" % (network_file.rsplit("/", 1)[-1], NETWORKD_DROPIN_NAME)


def networkd_dropin_content(plan: dict) -> str:
    """The drop-in that makes the route survive reboots under systemd-networkd."""
    lines = ["# Managed by imds.azure.route: the route to the Azure Instance Metadata Service.",
             "[Route]", "Destination=%s" % IMDS_DESTINATION]
    if plan["gateway"]:
        lines.append("Gateway=%s" % _checked_ipv4(plan["gateway"], "gateway"))
    else:
        lines.append("Scope=link")
    lines.append("Metric=%d" % int(plan["metric"]))
    return "\n".join(lines) + "\n"


def nmcli_route_value(route: dict) -> str:
    """The ipv4.routes entry for NetworkManager (``dest gateway metric``) of a plan or a route."""
    gateway = _checked_ipv4(route["gateway"], "gateway") if route["gateway"] else "0.0.0.0"
    return "%s %s %d" % (IMDS_DESTINATION, gateway, int(route["metric"]))


def nmcli_connection_for(device: str, nmcli_output: str) -> str | None:
    """The active connection on ``device`` from ``nmcli -t -f NAME,DEVICE connection show --active``."""
    for line in (nmcli_output or "").splitlines():
        # nmcli -t escapes ':' inside fields as '\:'.
        fields = re.split(r"(?<!\\):", line)
        if len(fields) >= 2 and fields[-1] == device:
            return ":".join(fields[:-1]).replace("\\:", ":")
    return None


# -- Windows -------------------------------------------------------------------------------

WINDOWS_READ_SCRIPT = r"""
$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
$Ansible.Result = @{
    routes = @(Get-NetRoute -AddressFamily IPv4 | Select-Object DestinationPrefix, NextHop, InterfaceIndex,
        InterfaceAlias, RouteMetric, InterfaceMetric)
    addresses = @(Get-NetIPAddress -AddressFamily IPv4 | Select-Object InterfaceIndex, IPAddress)
}
"""

WINDOWS_ADD_SCRIPT = r"""
param([string]$Gateway, [int]$Metric, [int]$InterfaceIndex, [bool]$Persistent)
$ErrorActionPreference = 'Stop'
$arguments = @()
if ($Persistent) { $arguments += '-p' }
$arguments += @('add', '169.254.169.254', 'mask', '255.255.255.255', $Gateway, 'metric', $Metric, 'if', $InterfaceIndex)
$output = & route.exe @arguments 2>&1
if ($LASTEXITCODE -ne 0) { throw "route.exe $($arguments -join ' ') failed: $output" }
$Ansible.Result = @{ output = "$output" }
"""

WINDOWS_REMOVE_SCRIPT = r"""
param([int]$InterfaceIndex, [string]$NextHop)
$ErrorActionPreference = 'Stop'
Get-NetRoute -DestinationPrefix '169.254.169.254/32' -InterfaceIndex $InterfaceIndex -NextHop $NextHop -ErrorAction SilentlyContinue |
    Remove-NetRoute -Confirm:$false
"""

WINDOWS_VERIFY_URL = "http://%s/metadata/instance/compute/vmId?api-version=2021-02-01&format=text" % IMDS_ADDRESS


def windows_routes(read_result: dict) -> list:
    """Get-NetRoute objects with the interface's IPv4 address added, so that plans use addresses
    (as ``route print`` does) and gateways come out in Microsoft's documented form."""
    addresses = {}
    for item in read_result.get("addresses") or []:
        index, address = item.get("InterfaceIndex"), item.get("IPAddress")
        if index is not None and address and (index not in addresses or addresses[index].startswith("169.254.")):
            addresses[index] = address
    routes = []
    for item in read_result.get("routes") or []:
        route = dict(item)
        if route.get("InterfaceIndex") in addresses:
            route["InterfaceAddress"] = addresses[route["InterfaceIndex"]]
        routes.append(route)
    return routes


def windows_interface_index(raw_routes: list, interface: str) -> int:
    """The InterfaceIndex behind an interface address (or an index given as text)."""
    for route in raw_routes:
        if route.get("InterfaceAddress") == interface or str(route.get("InterfaceIndex")) == interface:
            return int(route["InterfaceIndex"])
    raise RouteCommandError("no interface with address or index %s in the route table" % interface)


def windows_add_parameters(plan: dict, raw_routes: list, persistent: bool) -> dict:
    """Parameters of WINDOWS_ADD_SCRIPT: ``route -p add 169.254.169.254 mask 255.255.255.255 GW metric M if N``."""
    return {"Gateway": _checked_ipv4(plan["gateway"] or plan["interface"], "gateway"),
            "Metric": int(plan["metric"]),
            "InterfaceIndex": windows_interface_index(raw_routes, plan["interface"]),
            "Persistent": bool(persistent)}


def windows_remove_parameters(route: dict, raw_routes: list) -> dict:
    return {"InterfaceIndex": windows_interface_index(raw_routes, route["interface"]),
            "NextHop": route["gateway"] or "0.0.0.0"}


def describe(route: dict) -> str:
    """One line per IMDS route, for diffs."""
    via = "via %s " % route["gateway"] if route.get("gateway") else ""
    return "%s/%d %sdev %s metric %s" % (route["destination"], route["prefix"], via, route["interface"],
                                         route["metric"])
