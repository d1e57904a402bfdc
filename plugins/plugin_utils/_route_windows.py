# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Windows backend of imds.azure.route: the active and the persistent route store.

The host runs only the .ps1 files in ``powershell/`` beside this file, with parameters (never
with values pasted into their text): ``route_read.ps1`` reads ``Get-NetRoute`` of both policy
stores (RouteMetric and InterfaceMetric apart), ``Get-NetIPAddress`` and the node's cluster
membership; ``route_add.ps1`` / ``route_remove.ps1`` change one route in one store with
``New-NetRoute`` / ``Remove-NetRoute``. No native command runs, so no exit code or stderr of one
can be mistaken. Every decision is made here.

Interfaces are named in plans by their source address, the one ``route print`` shows and that
Microsoft's documented fix uses (``route add 169.254.169.254/32 <address>``). The source address
of an interface is chosen by a stated rule, so that a cluster node whose adapter also carries
cluster IP addresses always gets its own primary address: among the interface's IPv4 addresses
that are ``Preferred``, not ``SkipAsSource`` and whose PrefixOrigin is ``Dhcp`` or ``Manual``,
the one whose subnet holds the interface's default gateway, then the lowest PrefixOrigin value
(Manual 1 before Dhcp 3), then the lowest address. An interface without such an address (the
cluster virtual adapter's link-local one) is named by its lowest address. On a failover-cluster
node the cluster's IP addresses sit on the node's adapter, ``Preferred`` like its own; what keeps
them out is ``SkipAsSource``, which Windows honours when it picks a source address itself.

What arrives from the host: ``route_read.ps1`` casts every value to a string, a number or a boolean
itself, so the shape does not depend on win_powershell's ``depth`` or on the ansible.windows release.
Where an enum can still arrive as something else - win_powershell's ``{Type, String, Value}`` while
its depth lasts, or a bare number deeper down - it is read with the table of its own type from
Microsoft's documentation, never with another's; a number or a name the table does not have, or a
value of another kind, is an error that says what arrived.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from ansible_collections.imds.azure.plugins.module_utils._errors import excerpt
from ansible_collections.imds.azure.plugins.plugin_utils._route_backend import (
    HostError,
    RouteBackend,
    RouteCommandError,
    Step,
    checked_ipv4,
)
from ansible_collections.imds.azure.plugins.plugin_utils._route_parse import parse_get_netroute
from ansible_collections.imds.azure.plugins.plugin_utils._route_table import (
    IMDS_DESTINATION,
    STORES,
    RouteTableError,
    quoted,
)

POWERSHELL_DIR = Path(__file__).resolve().parent / "powershell"
READ_SCRIPT = "route_read.ps1"
ADD_SCRIPT = "route_add.ps1"
REMOVE_SCRIPT = "route_remove.ps1"
POLICY_STORE = {"active": "ActiveStore", "persistent": "PersistentStore"}
SOURCE_ORIGINS = ("Dhcp", "Manual")


class EnumType:
    """One enum type: its .NET name (as win_powershell's ``Type`` gives it) and its documented values."""

    def __init__(self, type_name: str, values: dict, source: str) -> None:
        self.type_name = type_name
        self.values = values
        self.source = source
        self.by_lower = {name.lower(): name for name in values}
        self.by_number = {number: name for name, number in values.items()}

    def name_of(self, value, field: str) -> str:
        """The enum's name from a name, a number or win_powershell's {Type, String, Value}."""
        if isinstance(value, dict) and set(value) <= {"Type", "String", "Value"}:
            declared = value.get("Type")
            if isinstance(declared, str) and declared.rsplit(".", 1)[-1] != self.type_name.rsplit(".", 1)[-1]:
                raise RouteTableError("%s is a %s, not a %s: %s"
                                      % (field, excerpt(declared), self.type_name, self._what_to_do()))
            value = value.get("Value") if "Value" in value else value.get("String")
        if isinstance(value, int) and not isinstance(value, bool):
            if value in self.by_number:
                return self.by_number[value]
            raise RouteTableError("%s is %d, which %s does not define (%s): %s" % (
                field, value, self.type_name, self.source, self._what_to_do()))
        if isinstance(value, str) and value.strip().lower() in self.by_lower:
            return self.by_lower[value.strip().lower()]
        raise RouteTableError("%s is %s, not a %s (%s): %s" % (
            field, quoted(value), self.type_name, ", ".join(self.values), self._what_to_do()))

    def number(self, name: str) -> int:
        return self.values[name]

    @staticmethod
    def _what_to_do() -> str:
        return ("the host's answer is not the one route_read.ps1 sends; run the playbook imds.azure.windows_first_run "
                "and compare its raw shapes with the Windows guide")


# The enum types route_read.ps1 reads, each with the numbers of Microsoft's documentation of that type.
PREFIX_ORIGIN = EnumType("Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetIPAddress.PrefixOrigin",
                         {"Other": 0, "Manual": 1, "WellKnown": 2, "Dhcp": 3, "RouterAdvertisement": 4},
                         "MSFT_NetIPAddress.PrefixOrigin")
ADDRESS_STATE = EnumType("Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetIPAddress.AddressState",
                         {"Invalid": 0, "Tentative": 1, "Duplicate": 2, "Deprecated": 3, "Preferred": 4},
                         "MSFT_NetIPAddress.AddressState")
SERVICE_STATUS = EnumType("System.ServiceProcess.ServiceControllerStatus",
                          {"Stopped": 1, "StartPending": 2, "StopPending": 3, "Running": 4, "ContinuePending": 5,
                           "PausePending": 6, "Paused": 7},
                          "ServiceControllerStatus, .NET Framework")
CLUSTER_NODE_STATE = EnumType("Microsoft.FailoverClusters.PowerShell.ClusterNodeState",
                              {"Unknown": -1, "Up": 0, "Down": 1, "Paused": 2, "Joining": 3},
                              "CLUSTER_NODE_STATE, clusapi.h")


def script_text(name: str) -> str:
    """The text of one of the collection's PowerShell scripts."""
    return (POWERSHELL_DIR / name).read_text(encoding="utf-8")


def _address_fields(address: dict) -> tuple:
    """(AddressState, PrefixOrigin) names of one Get-NetIPAddress row."""
    where = "the address %s" % excerpt(str(address.get("IPAddress")))
    return (ADDRESS_STATE.name_of(address.get("AddressState"), "AddressState of " + where),
            PREFIX_ORIGIN.name_of(address.get("PrefixOrigin"), "PrefixOrigin of " + where))


def _skips_as_source(address: dict) -> bool:
    value = address.get("SkipAsSource")
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise RouteTableError("SkipAsSource of the address %s is %s, not a boolean" % (
        excerpt(str(address.get("IPAddress"))), quoted(value)))


def _list(value) -> list:
    """ConvertTo-Json and win_powershell give one object for a one-element array."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _ipv4_or_none(text: object) -> ipaddress.IPv4Address | None:
    try:
        return ipaddress.IPv4Address(text)
    except (ValueError, TypeError):
        return None


def source_address(addresses: list, index: int, gateway: str = "") -> str | None:
    """The address that names interface ``index`` (see the module docstring for the rule)."""
    mine = [a for a in addresses if a.get("InterfaceIndex") == index and _ipv4_or_none(a.get("IPAddress"))]
    eligible = [(a, origin) for a, (state, origin) in ((a, _address_fields(a)) for a in mine)
                if state == "Preferred" and not _skips_as_source(a) and origin in SOURCE_ORIGINS]
    hop = _ipv4_or_none(gateway)

    def holds_gateway(address: dict) -> bool:
        try:
            network = ipaddress.IPv4Network("%s/%s" % (address["IPAddress"], address.get("PrefixLength")), strict=False)
        except (ValueError, TypeError):
            return False
        return hop is not None and hop in network

    if eligible:
        def preference(pair: tuple) -> tuple:
            address, origin = pair
            return not holds_gateway(address), PREFIX_ORIGIN.number(origin), _ipv4_or_none(address["IPAddress"])

        best, _origin = min(eligible, key=preference)
        return best["IPAddress"]
    if mine:
        return str(min(_ipv4_or_none(a["IPAddress"]) for a in mine))
    return None


class Interfaces:
    """Index <-> alias <-> source address of the host's interfaces, from the read script's result."""

    def __init__(self, raw_routes: list, addresses: list) -> None:
        self.aliases = {}
        gateways = {}
        for route in raw_routes:
            index = route.get("InterfaceIndex")
            if isinstance(index, int) and not isinstance(index, bool):
                self.aliases.setdefault(index, route.get("InterfaceAlias") or "")
                if route.get("DestinationPrefix") == "0.0.0.0/0" and route.get("NextHop") not in (None, "0.0.0.0"):
                    gateways.setdefault(index, route["NextHop"])
        for address in addresses:
            index = address.get("InterfaceIndex")
            if isinstance(index, int) and not isinstance(index, bool):
                self.aliases.setdefault(index, address.get("InterfaceAlias") or "")
        self.address = {}
        for index in self.aliases:
            chosen = source_address(addresses, index, gateways.get(index, ""))
            self.address[index] = chosen if chosen is not None else "if%d" % index
        self.index = {name: index for index, name in self.address.items()}

    def resolve(self, interface: str) -> str:
        """The plan's name (source address) of an interface given by InterfaceIndex, InterfaceAlias or address."""
        text = str(interface).strip()
        if text.isdigit() and int(text) in self.address:
            return self.address[int(text)]
        for index, alias in self.aliases.items():
            if alias and alias.lower() == text.lower():
                return self.address[index]
        if text in self.index:
            return text
        known = ", ".join("%d (%s, %s)" % (i, self.aliases[i] or "no alias", self.address[i]) for i in sorted(self.aliases))
        raise RouteCommandError("no interface has the index, alias or address %r; this host has: %s" % (text, known))

    def index_of(self, name: str) -> int:
        if name not in self.index:
            raise RouteCommandError("no interface is named %r on this host" % name)
        return self.index[name]


class WindowsBackend(RouteBackend):
    name = "windows"
    stores = STORES

    def __init__(self, host) -> None:
        super().__init__(host)
        self.interfaces = None
        self.cluster = {}

    def read(self) -> list:
        result = self.host.powershell(READ_SCRIPT, read_only=True).get("result")
        if not isinstance(result, dict):
            raise HostError("%s returned no result" % READ_SCRIPT)
        active, persistent = _list(result.get("active")), _list(result.get("persistent"))
        if not all(isinstance(item, dict) for item in active + persistent + _list(result.get("addresses"))):
            raise RouteTableError("%s returned routes or addresses that are not objects" % READ_SCRIPT)
        self.interfaces = Interfaces(active + persistent, _list(result.get("addresses")))
        self.cluster = {"node": _list(result.get("cluster_node")), "service": _list(result.get("cluster_service")),
                        "error": result.get("cluster_node_error") or ""}
        routes = []
        for store, items in (("active", active), ("persistent", persistent)):
            for item in items:
                named = dict(item, Store=POLICY_STORE[store])
                if isinstance(item.get("InterfaceIndex"), int) and item["InterfaceIndex"] in self.interfaces.address:
                    named["InterfaceAddress"] = self.interfaces.address[item["InterfaceIndex"]]
                routes.append(named)
        return parse_get_netroute(routes)

    def is_cluster_member(self) -> tuple:
        """(member, why): the local node listed by Get-ClusterNode, or else the cluster service running."""
        nodes = [n for n in self.cluster.get("node", []) if isinstance(n, dict)]
        if nodes:
            state = CLUSTER_NODE_STATE.name_of(nodes[0].get("State"), "the State of Get-ClusterNode")
            return True, "Get-ClusterNode lists this node (state %s)" % state
        services = [s for s in self.cluster.get("service", []) if isinstance(s, dict)]
        status = SERVICE_STATUS.name_of(services[0].get("Status"), "the Status of ClusSvc") if services else ""
        asked = ("Get-ClusterNode: %s" % excerpt(str(self.cluster["error"]))) if self.cluster.get("error") else \
            "Get-ClusterNode does not list this node"
        if status == "Running":
            return True, "the cluster service ClusSvc is running (%s)" % asked
        return False, "the cluster service ClusSvc is %s (%s)" % (
            {"": "not installed"}.get(status, status.lower()), asked)

    def steps(self, plan: dict) -> list:
        steps = [self._remove(route) for route in plan["remove"]]
        for store in plan["add"]:
            steps.append(self._add(plan, store))
        return steps

    def _remove(self, route: dict) -> Step:
        parameters = {"InterfaceIndex": self.interfaces.index_of(route["interface"]),
                      "NextHop": route["gateway"] or "0.0.0.0", "PolicyStore": POLICY_STORE[route["store"]]}
        return Step("Remove-NetRoute -DestinationPrefix %s -InterfaceIndex %d -NextHop %s -PolicyStore %s" % (
            IMDS_DESTINATION, parameters["InterfaceIndex"], parameters["NextHop"], parameters["PolicyStore"]),
            lambda: self.host.powershell(REMOVE_SCRIPT, parameters))

    def _add(self, plan: dict, store: str) -> Step:
        # The interface's own address as gateway is Microsoft's on-link route: next hop 0.0.0.0.
        gateway = "" if plan["gateway"] in ("", plan["interface"]) else checked_ipv4(plan["gateway"], "gateway")
        parameters = {"InterfaceIndex": self.interfaces.index_of(plan["interface"]), "NextHop": gateway or "0.0.0.0",
                      "RouteMetric": int(plan["metric"]), "PolicyStore": POLICY_STORE[store]}
        return Step("New-NetRoute -DestinationPrefix %s -InterfaceIndex %d -NextHop %s -RouteMetric %d -PolicyStore %s"
                    % (IMDS_DESTINATION, parameters["InterfaceIndex"], parameters["NextHop"],
                       parameters["RouteMetric"], parameters["PolicyStore"]),
                    lambda: self.host.powershell(ADD_SCRIPT, parameters))

    def note(self, plan: dict) -> str:
        return "Windows persistent route store (PersistentStore)"
