# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Route tables read from three formats into the one route shape of ``_route_table``.

* Windows ``route print`` in any display language. Only the shape of the numbers is used, never
  words: an active IPv4 line is ``address mask gateway address metric``, the gateway an address
  or, for an on-link route, a word in the system's language ("On-link", "リンク上", "연결됨",
  "Auf Verbindung"); a persistent IPv4 line is ``address mask gateway metric`` and shows the route
  metric itself (or a word such as "Default"); IPv6 lines are ``if metric prefix/len gateway``.
  The active table shows route + interface metric. The interface metric is read from what the
  table itself tells: every on-link route Windows makes carries route metric 256 (the host route
  of the interface's own address first of all); failing those, a default route shown below 256
  comes from DHCP (route metric 0), one at 256 or more is a static gateway (route metric 256).
  Where nothing tells, ``interface_metric`` is null and ``metric`` is what the table shows.
* ``Get-NetRoute`` objects: RouteMetric and InterfaceMetric as they are, ``interface`` the
  InterfaceIndex (or the address the caller maps it to), ``store`` from ``Store``.
* Linux ``ip -j route``: ``interface`` is the device, ``metric`` the route metric; a multipath
  route becomes one route per next hop, in the kernel's order.

Every input is untrusted text: anything that is not a route table ends in RouteTableError.
"""

from __future__ import annotations

import collections
import ipaddress
import json
import re

from ansible_collections.imds.azure.plugins.plugin_utils._route_table import (
    RouteTableError,
    is_imds_route,
    is_ipv4,
    is_ipv4_default,
    is_ipv6,
    new_route,
    quoted,
)

# Windows gives every on-link route it creates this route metric (and a static gateway too).
ON_LINK_ROUTE_METRIC = 256
# No route print line is this long; longer lines are not read (and cannot slow the regexes).
MAX_LINE_LENGTH = 400

_IPV4 = r"\d{1,3}(?:\.\d{1,3}){3}"
# The gateway is an address or a word (or words: "Auf Verbindung") in the display language.
_ACTIVE_IPV4_LINE = re.compile(r"^\s*(%s)\s+(%s)\s+(\S+(?:\s+\S+)*?)\s+(%s)\s+(\d{1,9})\s*$"
                               % (_IPV4, _IPV4, _IPV4), re.ASCII)
_PERSISTENT_IPV4_LINE = re.compile(r"^\s*(%s)\s+(%s)\s+(%s)\s+(\S+)\s*$" % (_IPV4, _IPV4, _IPV4), re.ASCII)
_IPV6_LINE = re.compile(r"^\s*(\d{1,9})\s+(\d{1,9})\s+([0-9A-Fa-f:.]+/\d{1,3})\s*(.*?)\s*$", re.ASCII)
_IPV6_CONTINUATION = re.compile(r"^\s+(\S+)\s*$")
_SEPARATOR = re.compile(r"^\s*={10,}\s*$")
_DIGITS = re.compile(r"^[0-9]{1,9}\Z")


def _prefix_of_mask(mask: str) -> int:
    try:
        return ipaddress.IPv4Network("0.0.0.0/%s" % mask).prefixlen
    except ValueError:
        raise RouteTableError("%s is not a contiguous netmask" % mask) from None


# -- route print --------------------------------------------------------------------------------

def parse_route_print(text: str) -> list:
    """Parse ``route print`` output (IPv4 active and persistent, IPv6), whatever the display language."""
    routes = []
    pending_ipv6 = None
    ipv6_store = "active"
    seen_ipv6 = False
    for line in text.splitlines():
        if len(line) > MAX_LINE_LENGTH:
            pending_ipv6 = None
            continue
        if _SEPARATOR.match(line):
            # After the IPv6 active routes, the next block is the IPv6 persistent routes.
            ipv6_store = "persistent" if seen_ipv6 else ipv6_store
            pending_ipv6 = None
            continue
        route = _active_ipv4(line) or _persistent_ipv4(line)
        if route is None:
            route = _ipv6(line, ipv6_store)
            if route is not None:
                seen_ipv6 = True
                # A long destination pushes the gateway onto the next line.
                pending_ipv6 = route if not route["gateway"] and not _ipv6_has_gateway_text(line) else None
                routes.append(route)
                continue
            continuation = _IPV6_CONTINUATION.match(line)
            if pending_ipv6 is not None and continuation:
                pending_ipv6["gateway"] = _ipv6_gateway(continuation.group(1))
            pending_ipv6 = None
            continue
        routes.append(route)
        pending_ipv6 = None
    _split_windows_metrics(routes)
    _resolve_persistent_interfaces(routes)
    return routes


def _active_ipv4(line: str):
    match = _ACTIVE_IPV4_LINE.match(line)
    if not match:
        return None
    destination, mask, gateway, interface, metric = match.groups()
    if not (is_ipv4(destination) and is_ipv4(mask) and is_ipv4(interface)):
        return None
    return new_route(destination, _prefix_of_mask(mask), gateway if is_ipv4(gateway) else "", interface,
                     int(metric))


def _persistent_ipv4(line: str):
    match = _PERSISTENT_IPV4_LINE.match(line)
    if not match:
        return None
    destination, mask, gateway, metric = match.groups()
    if not (is_ipv4(destination) and is_ipv4(mask) and is_ipv4(gateway)):
        return None
    # The persistent section shows the route metric itself, or a word ("Default") when none was given.
    return new_route(destination, _prefix_of_mask(mask), gateway, "", int(metric) if _DIGITS.match(metric) else None,
                     store="persistent")


def _ipv6(line: str, store: str):
    match = _IPV6_LINE.match(line)
    if not match:
        return None
    index, metric, network, gateway = match.groups()
    address, _slash, length = network.partition("/")
    if not is_ipv6(address) or int(length) > 128:
        return None
    return new_route(address, int(length), _ipv6_gateway(gateway), index, int(metric), store=store)


def _ipv6_has_gateway_text(line: str) -> bool:
    """Whether the IPv6 line itself ends with a gateway column (an address or an on-link word)."""
    return bool(_IPV6_LINE.match(line).group(4))


def _ipv6_gateway(text: str) -> str:
    return text if is_ipv6(text) else ""


def _split_windows_metrics(routes: list) -> None:
    """Turn the shown metric of active IPv4 routes into route metric + interface metric."""
    active = [r for r in routes if r["store"] == "active" and is_ipv4(r["destination"])]
    for interface in {r["interface"] for r in active}:
        interface_metric = interface_metric_of(interface, active)
        if interface_metric is None:
            continue
        for route in active:
            if route["interface"] != interface:
                continue
            if route["metric"] < interface_metric:
                raise RouteTableError(
                    "the route %s/%d shows metric %d, below the interface metric %d that the other routes of "
                    "interface %s show; Windows never prints such a table"
                    % (route["destination"], route["prefix"], route["metric"], interface_metric, interface))
            route["metric"] -= interface_metric
            route["interface_metric"] = interface_metric


def interface_metric_of(interface: str, active_routes: list):
    """The interface metric of ``interface`` from a ``route print`` table (shown metrics), or None."""
    own = [r for r in active_routes if r["interface"] == interface and not is_imds_route(r)]
    host = [r["metric"] for r in own
            if not r["gateway"] and r["prefix"] == 32 and r["destination"] == interface
            and r["metric"] >= ON_LINK_ROUTE_METRIC]
    if host:
        return host[0] - ON_LINK_ROUTE_METRIC
    on_link = [r["metric"] for r in own if not r["gateway"] and r["metric"] >= ON_LINK_ROUTE_METRIC]
    if on_link:
        counts = collections.Counter(on_link)
        most = max(counts.values())
        return min(m for m, n in counts.items() if n == most) - ON_LINK_ROUTE_METRIC
    defaults = [r["metric"] for r in own if is_ipv4_default(r)]
    if defaults:
        shown = min(defaults)
        return shown - ON_LINK_ROUTE_METRIC if shown >= ON_LINK_ROUTE_METRIC else shown
    return None


def _resolve_persistent_interfaces(routes: list) -> None:
    """A persistent route names a gateway only: find the interface it leads out of."""
    active = [r for r in routes if r["store"] == "active" and is_ipv4(r["destination"])]
    local = {r["interface"] for r in active}
    for route in routes:
        if route["store"] != "persistent" or not is_ipv4(route["destination"]):
            continue
        if route["gateway"] in local:
            # route add ... <own address>: an on-link route on that interface.
            route["interface"], route["gateway"] = route["gateway"], ""
            continue
        route["interface"] = _on_link_interface(route["gateway"], active)


def _on_link_interface(gateway: str, active: list) -> str:
    address = ipaddress.IPv4Address(gateway)
    best = None
    for route in active:
        if route["gateway"] or route["prefix"] >= 32:
            continue
        network = ipaddress.IPv4Network("%s/%d" % (route["destination"], route["prefix"]), strict=False)
        if address in network and (best is None or network.prefixlen > best[0]):
            best = (network.prefixlen, route["interface"])
    return best[1] if best else ""


# -- Get-NetRoute -------------------------------------------------------------------------------

def parse_get_netroute(data) -> list:
    """Parse Get-NetRoute objects (a list, or one object: ConvertTo-Json of a single route)."""
    items = data if isinstance(data, list) else [data]
    routes = []
    for item in items:
        if not isinstance(item, dict) or "DestinationPrefix" not in item:
            raise RouteTableError("a Get-NetRoute object needs DestinationPrefix; got %s" % quoted(item))
        address, length = _split_prefix(item["DestinationPrefix"], "DestinationPrefix")
        next_hop = _optional_address(item.get("NextHop"), "NextHop")
        gateway = "" if next_hop in ("0.0.0.0", "::") else next_hop
        interface = item.get("InterfaceAddress") or item.get("InterfaceIndex")
        if interface is not None and not isinstance(interface, (str, int)) or isinstance(interface, bool):
            raise RouteTableError("InterfaceIndex must be a number; got %s" % quoted(interface))
        interface_metric = item.get("InterfaceMetric")
        routes.append(new_route(
            address, length, gateway, "" if interface is None else str(interface),
            _count(item.get("RouteMetric") or 0, "RouteMetric"),
            None if interface_metric is None else _count(interface_metric, "InterfaceMetric"),
            store_of(item.get("Store"))))
    return routes


def store_of(value) -> str:
    """Get-NetRoute's Store (enum name, number, or win_powershell's {String, Value}) as active/persistent."""
    if isinstance(value, dict):
        value = value.get("String", value.get("Value"))
    if value is None or value in (1, "1", "ActiveStore", "Active", "active"):
        return "active"
    if value in (0, "0", "PersistentStore", "Persistent", "persistent"):
        return "persistent"
    raise RouteTableError("Store must be ActiveStore or PersistentStore; got %s" % quoted(value))


def _split_prefix(value, what: str) -> tuple:
    if not isinstance(value, str):
        raise RouteTableError("%s must be text like 10.0.0.0/24; got %s" % (what, quoted(value)))
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise RouteTableError("%s %s is not an address prefix" % (what, quoted(value))) from None
    return value.partition("/")[0], network.prefixlen


def _optional_address(value, what: str) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not (is_ipv4(value) or is_ipv6(value)):
        raise RouteTableError("%s %s is not an IP address" % (what, quoted(value)))
    return value


def _count(value, what: str) -> int:
    """A metric: a whole number >= 0 (JSON number or decimal text)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or (
            isinstance(value, str) and not _DIGITS.match(value)) or int(value) < 0:
        raise RouteTableError("%s must be a whole number >= 0; got %s" % (what, quoted(value)))
    return int(value)


# -- ip -j route --------------------------------------------------------------------------------

def parse_ip_json(data) -> list:
    """Parse ``ip -j route`` (``ip -j -4 route show table main``); multipath routes give one route per hop."""
    if not isinstance(data, list):
        raise RouteTableError("ip -j route prints a JSON list; got a JSON %s" % type(data).__name__)
    routes = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("dst"), str):
            raise RouteTableError("an ip -j route entry needs dst; got %s" % quoted(item))
        hops = item.get("nexthops")
        if hops is None:
            hops = [item]
        if not isinstance(hops, list) or not hops or not all(isinstance(h, dict) for h in hops):
            raise RouteTableError("nexthops must be a list of objects; got %s" % quoted(hops))
        gateways = [_optional_address(h.get("gateway"), "gateway") for h in hops]
        destination, length = _ip_destination(item["dst"], ipv6=any(":" in g for g in gateways))
        metric = _count(item.get("metric") or 0, "metric")
        for hop, gateway in zip(hops, gateways):
            device = hop.get("dev") or item.get("dev") or ""
            if not isinstance(device, str):
                raise RouteTableError("dev must be an interface name; got %s" % quoted(device))
            routes.append(new_route(destination, length, gateway, device, metric, 0))
    return routes


def _ip_destination(dst: str, ipv6: bool) -> tuple:
    if dst == "default":
        return ("::", 0) if ipv6 else ("0.0.0.0", 0)
    address, length = _split_prefix(dst, "dst")
    return address, length


def parse_routes(data, source: str = "auto") -> list:
    """Dispatch on the input: route print text, Get-NetRoute JSON, or ip -j route JSON."""
    if source not in ("auto", "route_print", "get_netroute", "ip_json"):
        raise RouteTableError("source must be auto, route_print, get_netroute or ip_json, not %r" % source)
    if isinstance(data, (bytes, bytearray)):
        data = data.decode("utf-8", errors="replace")
    if isinstance(data, str):
        stripped = data.strip()
        if source == "route_print" or (source == "auto" and stripped[:1] not in ("[", "{")):
            routes = parse_route_print(data)
            if not routes:
                raise RouteTableError("no route lines found; expected `route print` output, Get-NetRoute JSON "
                                      "or `ip -j route` JSON")
            return routes
        try:
            data = json.loads(stripped) if stripped else []
        except (ValueError, RecursionError) as exc:
            raise RouteTableError("the route table is not valid JSON: %s" % exc) from None
    if source == "get_netroute":
        return parse_get_netroute(data)
    if source == "ip_json":
        return parse_ip_json(data)
    if data == []:
        return []
    sample = data[0] if isinstance(data, list) and data else data
    if isinstance(sample, dict) and "DestinationPrefix" in sample:
        return parse_get_netroute(data)
    if isinstance(sample, dict) and "dst" in sample:
        return parse_ip_json(data)
    raise RouteTableError("unrecognised route table: expected route print text, Get-NetRoute JSON or ip -j JSON")
