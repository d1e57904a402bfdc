# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Route tables as data, and the decision whether the IMDS route must be installed.

Three inputs become one list of ``{destination, prefix, gateway, interface, metric,
interface_metric}``:

* Windows ``route print`` text in any display language. Only the shape of the numbers is
  used, never words: an IPv4 route line is ``address mask gateway address metric`` where the
  gateway is an address or, for an on-link route, a word in the system's language
  ("On-link", "リンク上", "연결됨", "Auf Verbindung" ...). IPv6 lines are ``if metric
  prefix/len gateway``. ``metric`` is what the table shows (route + interface metric).
* ``Get-NetRoute | ConvertTo-Json``: ``metric`` is RouteMetric, ``interface`` the
  InterfaceIndex (or the address the caller maps it to), ``interface_metric`` InterfaceMetric.
* Linux ``ip -j route``: ``interface`` is the device, ``metric`` the route metric.
"""

from __future__ import annotations

import ipaddress
import json
import re

IMDS_ADDRESS = "169.254.169.254"
IMDS_DESTINATION = IMDS_ADDRESS + "/32"
DEFAULT_METRIC = 1

_IPV4 = r"\d{1,3}(?:\.\d{1,3}){3}"
# The gateway is an address or a word (or words: "Auf Verbindung") in the display language.
_IPV4_ROUTE_LINE = re.compile(r"^\s*(%s)\s+(%s)\s+(\S+(?:\s+\S+)*?)\s+(%s)\s+(\d+)\s*$" % (_IPV4, _IPV4, _IPV4))
_IPV6_ROUTE_LINE = re.compile(r"^\s*(\d+)\s+(\d+)\s+([0-9A-Fa-f:.]+/\d{1,3})\s*(.*?)\s*$")
_IPV6_CONTINUATION = re.compile(r"^\s+(\S+)\s*$")


class RouteTableError(ValueError):
    """The input is not a route table this module understands."""


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
        return True
    except ValueError:
        return False


def _prefix_of_mask(mask: str) -> int:
    try:
        return ipaddress.IPv4Network("0.0.0.0/%s" % mask).prefixlen
    except ValueError:
        raise RouteTableError("%s is not a contiguous netmask" % mask)


def _route(destination: str, prefix: int, gateway: str, interface: str, metric: int,
           interface_metric: int | None = None) -> dict:
    return {"destination": destination, "prefix": prefix, "gateway": gateway, "interface": interface,
            "metric": metric, "interface_metric": interface_metric}


def parse_route_print(text: str) -> list:
    """Parse ``route print`` output (IPv4 and IPv6 active routes), whatever the display language."""
    routes = []
    pending_ipv6 = None
    for line in text.splitlines():
        match = _IPV4_ROUTE_LINE.match(line)
        if match:
            destination, mask, gateway, interface, metric = match.groups()
            if not _is_ipv4(destination) or not _is_ipv4(interface):
                continue
            routes.append(_route(destination, _prefix_of_mask(mask), gateway if _is_ipv4(gateway) else "",
                                 interface, int(metric)))
            pending_ipv6 = None
            continue
        match = _IPV6_ROUTE_LINE.match(line)
        if match:
            index, metric, network, gateway = match.groups()
            address, _slash, length = network.partition("/")
            route = _route(address, int(length), _ipv6_gateway(gateway), index, int(metric))
            routes.append(route)
            # A long destination pushes the gateway onto the next line.
            pending_ipv6 = route if not gateway else None
            continue
        continuation = _IPV6_CONTINUATION.match(line)
        if pending_ipv6 is not None and continuation:
            pending_ipv6["gateway"] = _ipv6_gateway(continuation.group(1))
        pending_ipv6 = None
    return routes


def _ipv6_gateway(text: str) -> str:
    try:
        ipaddress.IPv6Address(text.split("%")[0])
        return text
    except ValueError:
        return ""


def parse_get_netroute(data) -> list:
    """Parse ``Get-NetRoute | ConvertTo-Json`` (a list, or one object when there is one route)."""
    items = data if isinstance(data, list) else [data]
    routes = []
    for item in items:
        if not isinstance(item, dict) or "DestinationPrefix" not in item:
            raise RouteTableError("a Get-NetRoute object needs DestinationPrefix; got %r" % (item,))
        address, _slash, length = str(item["DestinationPrefix"]).partition("/")
        next_hop = str(item.get("NextHop") or "")
        gateway = "" if next_hop in ("", "0.0.0.0", "::") else next_hop
        interface = item.get("InterfaceAddress") or item.get("InterfaceIndex")
        routes.append(_route(address, int(length or 32), gateway, "" if interface is None else str(interface),
                             int(item.get("RouteMetric") or 0),
                             None if item.get("InterfaceMetric") is None else int(item["InterfaceMetric"])))
    return routes


def parse_ip_json(data) -> list:
    """Parse ``ip -j route`` (``ip -j -4 route show table main``)."""
    if not isinstance(data, list):
        raise RouteTableError("ip -j route prints a JSON list; got a JSON %s" % type(data).__name__)
    routes = []
    for item in data:
        if not isinstance(item, dict) or "dst" not in item:
            raise RouteTableError("an ip -j route entry needs dst; got %r" % (item,))
        dst = str(item["dst"])
        if dst == "default":
            dst = "::/0" if ":" in str(item.get("gateway", "")) else "0.0.0.0/0"
        address, _slash, length = dst.partition("/")
        if not length:
            length = "128" if ":" in address else "32"
        routes.append(_route(address, int(length), str(item.get("gateway") or ""), str(item.get("dev") or ""),
                             int(item.get("metric") or 0), 0))
    return routes


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
        except ValueError as exc:
            raise RouteTableError("the route table is not valid JSON: %s" % exc)
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


def _is_default(route: dict) -> bool:
    return route["destination"] == "0.0.0.0" and route["prefix"] == 0


def is_imds_route(route: dict) -> bool:
    return route["destination"] == IMDS_ADDRESS and route["prefix"] == 32


def route_metric(route: dict, routes: list) -> int:
    """The route's own metric. ``route print`` shows route + interface metric; the interface metric
    is then taken from the default route on that interface (Windows gives it route metric 0)."""
    if route.get("interface_metric") is not None:
        return route["metric"]
    defaults = [r for r in routes if _is_default(r) and r["interface"] == route["interface"]]
    return route["metric"] - min(r["metric"] for r in defaults) if defaults else route["metric"]


def current_path(routes: list) -> str:
    """How IMDS traffic leaves today: the most specific route covering 169.254.169.254."""
    target = ipaddress.IPv4Address(IMDS_ADDRESS)
    covering = []
    for route in routes:
        try:
            network = ipaddress.IPv4Network("%s/%d" % (route["destination"], route["prefix"]), strict=False)
        except ValueError:
            continue
        if target in network:
            covering.append((network.prefixlen, -route["metric"], route))
    if not covering:
        return "no route covers 169.254.169.254"
    route = max(covering, key=lambda item: (item[0], item[1]))[2]
    via = "via %s" % route["gateway"] if route["gateway"] else "on-link"
    return "169.254.169.254 now goes to %s/%d %s on interface %s" % (
        route["destination"], route["prefix"], via, route["interface"])


def plan_imds_route(routes: list, metric: int = DEFAULT_METRIC, interface: str | None = None,
                    gateway: str | None = None, state: str = "present") -> dict:
    """Decide what to do about 169.254.169.254/32.

    The right interface is the one of the IPv4 default route with the lowest metric (the
    primary NIC), unless ``interface`` says otherwise. The gateway is, in this order: the
    ``gateway`` given; the interface's own address when the interface is named by address
    (Microsoft's documented fix, ``route add 169.254.169.254/32 <interface address>``); the
    default route's gateway. An existing route is right when it uses the right interface, a
    gateway that leads out of it (the planned one, the default gateway, or on-link) and the
    requested route metric, and no other 169.254.169.254/32 route competes with it.
    """
    existing = [r for r in routes if is_imds_route(r)]
    plan = {"needed": False, "reason": "", "destination": IMDS_DESTINATION, "gateway": None, "interface": None,
            "metric": metric, "state": state, "remove": []}
    if state == "absent":
        plan["remove"] = existing
        plan["needed"] = bool(existing)
        plan["reason"] = ("%d route(s) for %s to remove" % (len(existing), IMDS_DESTINATION) if existing
                          else "no route for %s" % IMDS_DESTINATION)
        return plan
    defaults = sorted((r for r in routes if _is_default(r)), key=lambda r: r["metric"])
    primary = defaults[0] if defaults else None
    if interface is None and primary is None:
        raise RouteTableError("the table has no IPv4 default route (0.0.0.0/0), so the primary interface is "
                              "unknown; give interface and gateway")
    plan["interface"] = interface if interface is not None else primary["interface"]
    plan["gateway"] = _planned_gateway(plan["interface"], gateway, primary)
    acceptable_gateways = {plan["gateway"]} if gateway is not None else {
        plan["gateway"], "", plan["interface"], primary["gateway"] if primary else plan["gateway"]}
    right = [r for r in existing if r["interface"] == plan["interface"] and r["gateway"] in acceptable_gateways]
    wrong = [r for r in existing if r not in right]
    plan["remove"] = wrong
    if not existing:
        plan["needed"] = True
        plan["reason"] = "no route for %s; %s" % (IMDS_DESTINATION, current_path(routes))
    elif wrong:
        plan["needed"] = True
        plan["reason"] = "%s has route(s) on the wrong interface or gateway: %s" % (
            IMDS_DESTINATION, ", ".join(_describe(r) for r in wrong))
    elif all(route_metric(r, routes) != metric for r in right):
        plan["needed"] = True
        plan["reason"] = "the route for %s has metric %s, not %d" % (
            IMDS_DESTINATION, ", ".join(str(route_metric(r, routes)) for r in right), metric)
    else:
        plan["reason"] = "%s already goes out of interface %s" % (IMDS_DESTINATION, plan["interface"])
    if plan["needed"]:
        # A right route with the wrong metric is replaced too.
        plan["remove"] = wrong + [r for r in right if route_metric(r, routes) != metric]
    return plan


def _planned_gateway(interface: str, gateway: str | None, primary: dict | None) -> str:
    if gateway is not None:
        return gateway
    if _is_ipv4(interface):
        return interface
    if primary is not None and primary["interface"] == interface:
        return primary["gateway"]
    raise RouteTableError("no gateway is known for interface %s; give gateway" % interface)


def _describe(route: dict) -> str:
    via = "via %s" % route["gateway"] if route["gateway"] else "on-link"
    return "%s/%d %s on %s (metric %d)" % (
        route["destination"], route["prefix"], via, route["interface"], route["metric"])
