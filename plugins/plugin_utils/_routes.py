# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Route tables as data, and the decision whether the IMDS route must be installed.

Three inputs become one list of ``{destination, prefix, gateway, interface, metric,
interface_metric, store}``. ``metric`` is the route's own metric (what ``route add ... metric``
and ``New-NetRoute -RouteMetric`` set); ``interface_metric`` the interface's, when known (Windows
adds the two); ``store`` is ``active`` or ``persistent`` (Windows keeps both).

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

IMDS_ADDRESS = "169.254.169.254"
IMDS_DESTINATION = IMDS_ADDRESS + "/32"
DEFAULT_METRIC = 1
# Windows gives every on-link route it creates this route metric (and a static gateway too).
ON_LINK_ROUTE_METRIC = 256
STORES = ("active", "persistent")
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


class RouteTableError(ValueError):
    """The input is not a route table this module understands, or cannot be planned."""


def _is_ipv4(text) -> bool:
    try:
        ipaddress.IPv4Address(text)
        return True
    except ValueError:
        return False


def _is_ipv6(text) -> bool:
    try:
        ipaddress.IPv6Address(text.split("%")[0])
        return True
    except ValueError:
        return False


def _prefix_of_mask(mask: str) -> int:
    try:
        return ipaddress.IPv4Network("0.0.0.0/%s" % mask).prefixlen
    except ValueError:
        raise RouteTableError("%s is not a contiguous netmask" % mask) from None


def new_route(destination: str, prefix: int, gateway: str, interface: str, metric, interface_metric=None,
              store: str = "active") -> dict:
    """One route in the shape every parser returns."""
    return {"destination": destination, "prefix": prefix, "gateway": gateway, "interface": interface,
            "metric": metric, "interface_metric": interface_metric, "store": store}


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
    if not (_is_ipv4(destination) and _is_ipv4(mask) and _is_ipv4(interface)):
        return None
    return new_route(destination, _prefix_of_mask(mask), gateway if _is_ipv4(gateway) else "", interface,
                     int(metric))


def _persistent_ipv4(line: str):
    match = _PERSISTENT_IPV4_LINE.match(line)
    if not match:
        return None
    destination, mask, gateway, metric = match.groups()
    if not (_is_ipv4(destination) and _is_ipv4(mask) and _is_ipv4(gateway)):
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
    if not _is_ipv6(address) or int(length) > 128:
        return None
    return new_route(address, int(length), _ipv6_gateway(gateway), index, int(metric), store=store)


def _ipv6_has_gateway_text(line: str) -> bool:
    """Whether the IPv6 line itself ends with a gateway column (an address or an on-link word)."""
    return bool(_IPV6_LINE.match(line).group(4))


def _ipv6_gateway(text: str) -> str:
    return text if _is_ipv6(text) else ""


def _split_windows_metrics(routes: list) -> None:
    """Turn the shown metric of active IPv4 routes into route metric + interface metric."""
    active = [r for r in routes if r["store"] == "active" and _is_ipv4(r["destination"])]
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
    active = [r for r in routes if r["store"] == "active" and _is_ipv4(r["destination"])]
    local = {r["interface"] for r in active}
    for route in routes:
        if route["store"] != "persistent" or not _is_ipv4(route["destination"]):
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
            raise RouteTableError("a Get-NetRoute object needs DestinationPrefix; got %s" % _short(item))
        address, length = _split_prefix(item["DestinationPrefix"], "DestinationPrefix")
        next_hop = _optional_address(item.get("NextHop"), "NextHop")
        gateway = "" if next_hop in ("0.0.0.0", "::") else next_hop
        interface = item.get("InterfaceAddress") or item.get("InterfaceIndex")
        if interface is not None and not isinstance(interface, (str, int)) or isinstance(interface, bool):
            raise RouteTableError("InterfaceIndex must be a number; got %s" % _short(interface))
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
    raise RouteTableError("Store must be ActiveStore or PersistentStore; got %s" % _short(value))


def _split_prefix(value, what: str) -> tuple:
    if not isinstance(value, str):
        raise RouteTableError("%s must be text like 10.0.0.0/24; got %s" % (what, _short(value)))
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise RouteTableError("%s %s is not an address prefix" % (what, _short(value))) from None
    return value.partition("/")[0], network.prefixlen


def _optional_address(value, what: str) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not (_is_ipv4(value) or _is_ipv6(value)):
        raise RouteTableError("%s %s is not an IP address" % (what, _short(value)))
    return value


def _count(value, what: str) -> int:
    """A metric: a whole number >= 0 (JSON number or decimal text)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or (
            isinstance(value, str) and not _DIGITS.match(value)) or int(value) < 0:
        raise RouteTableError("%s must be a whole number >= 0; got %s" % (what, _short(value)))
    return int(value)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# -- ip -j route --------------------------------------------------------------------------------

def parse_ip_json(data) -> list:
    """Parse ``ip -j route`` (``ip -j -4 route show table main``); multipath routes give one route per hop."""
    if not isinstance(data, list):
        raise RouteTableError("ip -j route prints a JSON list; got a JSON %s" % type(data).__name__)
    routes = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("dst"), str):
            raise RouteTableError("an ip -j route entry needs dst; got %s" % _short(item))
        hops = item.get("nexthops")
        if hops is None:
            hops = [item]
        if not isinstance(hops, list) or not hops or not all(isinstance(h, dict) for h in hops):
            raise RouteTableError("nexthops must be a list of objects; got %s" % _short(hops))
        gateways = [_optional_address(h.get("gateway"), "gateway") for h in hops]
        destination, length = _ip_destination(item["dst"], ipv6=any(":" in g for g in gateways))
        metric = _count(item.get("metric") or 0, "metric")
        for hop, gateway in zip(hops, gateways):
            device = hop.get("dev") or item.get("dev") or ""
            if not isinstance(device, str):
                raise RouteTableError("dev must be an interface name; got %s" % _short(device))
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


# -- the decision ---------------------------------------------------------------------------------

def is_ipv4_default(route: dict) -> bool:
    return route["destination"] == "0.0.0.0" and route["prefix"] == 0


def is_imds_route(route: dict) -> bool:
    return route["destination"] == IMDS_ADDRESS and route["prefix"] == 32


def _store(route: dict) -> str:
    return route.get("store") or "active"


def effective_metric(route: dict) -> int:
    """What Windows (and Linux) compare between routes: route metric + interface metric."""
    return (route["metric"] or 0) + (route.get("interface_metric") or 0)


def describe_route(route: dict) -> str:
    """The one way a route is written in reasons, diffs and messages."""
    via = "via %s" % route["gateway"] if route.get("gateway") else "on-link"
    metric = "?" if route.get("metric") is None else route["metric"]
    text = "%s/%d %s dev %s metric %s" % (route["destination"], route["prefix"], via, route["interface"] or "?", metric)
    return text + (" (persistent store)" if _store(route) == "persistent" else "")


def planned_route(plan: dict, store: str = "active") -> dict:
    """The route ``plan`` adds, as the host will show it: the interface's own address as gateway
    (Microsoft's form) is an on-link route."""
    gateway = "" if plan["gateway"] == plan["interface"] else plan["gateway"]
    return new_route(IMDS_ADDRESS, 32, gateway or "", plan["interface"], plan["metric"], store=store)


def current_path(routes: list) -> str:
    """How IMDS traffic leaves today: the most specific active route covering 169.254.169.254."""
    target = ipaddress.IPv4Address(IMDS_ADDRESS)
    covering = []
    for route in routes:
        if _store(route) != "active" or not _is_ipv4(route["destination"]):
            continue
        network = ipaddress.IPv4Network("%s/%d" % (route["destination"], route["prefix"]), strict=False)
        if target in network:
            covering.append((network.prefixlen, -effective_metric(route), route))
    if not covering:
        return "no route covers 169.254.169.254"
    route = max(covering, key=lambda item: (item[0], item[1]))[2]
    via = "via %s" % route["gateway"] if route["gateway"] else "on-link"
    return "169.254.169.254 now goes to %s/%d %s on interface %s" % (
        route["destination"], route["prefix"], via, route["interface"])


def primary_default(routes: list, interface=None):
    """The active IPv4 default route Windows and Linux would use (lowest route + interface metric,
    the table's order among equals: the first next hop of a multipath route), on ``interface`` if given."""
    defaults = [r for r in routes if is_ipv4_default(r) and _store(r) == "active"
                and (interface is None or r["interface"] == interface)]
    return min(defaults, key=effective_metric) if defaults else None


def plan_imds_route(routes: list, metric: int = DEFAULT_METRIC, interface=None, gateway=None,
                    state: str = "present", persistent=None) -> dict:
    """Decide what to do about 169.254.169.254/32, in the active store and, where it is managed, the
    persistent one (``persistent`` true; by default when the routes show a persistent store).

    The right interface is the one of the primary IPv4 default route, unless ``interface`` says
    otherwise. The gateway is, in this order: the ``gateway`` given; the interface's own address
    when the interface is named by address (Microsoft's documented fix, ``route add
    169.254.169.254/32 <interface address>``); the gateway of the interface's default route. A
    route is right when it leaves through the right interface by a gateway that leads out of it
    (the planned one, the default gateway, or on-link) with the requested route metric.
    """
    if isinstance(metric, bool) or not isinstance(metric, int) or not 0 <= metric <= 9999:
        raise RouteTableError("metric must be a whole number from 0 to 9999; got %s" % _short(metric))
    if state not in ("present", "absent"):
        raise RouteTableError("state must be present or absent, not %s" % _short(state))
    managed = bool(persistent) if persistent is not None else any(_store(r) == "persistent" for r in routes)
    plan = {"needed": False, "reason": "", "destination": IMDS_DESTINATION, "gateway": None, "interface": None,
            "metric": metric, "state": state, "stores": ["active", "persistent"] if managed else ["active"],
            "remove": [], "add": []}
    if state == "absent":
        plan["remove"] = [r for r in routes if is_imds_route(r)]
        plan["needed"] = bool(plan["remove"])
        plan["reason"] = ("%d route(s) for %s to remove" % (len(plan["remove"]), IMDS_DESTINATION) if plan["remove"]
                          else "no route for %s" % IMDS_DESTINATION)
        return plan
    primary = primary_default(routes)
    if interface is None and primary is None:
        raise RouteTableError("the table has no IPv4 default route (0.0.0.0/0), so the primary interface is "
                              "unknown; give interface and gateway")
    plan["interface"] = interface if interface is not None else primary["interface"]
    own_default = primary_default(routes, plan["interface"])
    plan["gateway"] = _planned_gateway(plan["interface"], gateway, own_default)
    acceptable = {plan["gateway"]} if gateway is not None else {
        plan["gateway"], "", plan["interface"], own_default["gateway"] if own_default else plan["gateway"]}
    reasons = []
    for store in plan["stores"]:
        remove, add, reason = _store_plan([r for r in routes if _store(r) == store], store, plan, acceptable, routes)
        plan["remove"] += remove
        plan["add"] += [store] if add else []
        reasons += [reason] if reason else []
    plan["needed"] = bool(plan["remove"] or plan["add"])
    plan["reason"] = "; ".join(reasons) if reasons else "%s already goes out of interface %s%s" % (
        IMDS_DESTINATION, plan["interface"], " (active and persistent)" if managed else "")
    return plan


def _store_plan(routes: list, store: str, plan: dict, acceptable: set, table: list) -> tuple:
    """(routes to remove, whether to add the planned route, why) for one store."""
    existing = [r for r in routes if is_imds_route(r)]
    right = [r for r in existing if _leads_out(r, plan["interface"], acceptable)]
    wrong = [r for r in existing if r not in right]
    good = [r for r in right if r["metric"] == plan["metric"]]
    where = "" if store == "active" else " in the persistent store"
    if not existing:
        lost = "" if store == "active" else " (an active route alone is lost at reboot)"
        why = current_path(table) if store == "active" else "nothing would restore it at boot"
        return [], True, "no route for %s%s%s; %s" % (IMDS_DESTINATION, where, lost, why)
    if good:
        return wrong, False, ("%s has route(s)%s on the wrong interface or gateway: %s" % (
            IMDS_DESTINATION, where, ", ".join(describe_route(r) for r in wrong)) if wrong else "")
    if wrong:
        reason = "%s has route(s)%s on the wrong interface or gateway: %s" % (
            IMDS_DESTINATION, where, ", ".join(describe_route(r) for r in wrong))
    else:
        reason = "the route for %s%s has metric %s, not %d" % (
            IMDS_DESTINATION, where, ", ".join("?" if r["metric"] is None else str(r["metric"]) for r in right),
            plan["metric"])
    # A right route with the wrong metric is replaced too.
    return wrong + right, True, reason


def _leads_out(route: dict, interface: str, acceptable: set) -> bool:
    if route["interface"] == interface:
        return route["gateway"] in acceptable
    # A persistent route print line whose interface could not be told: judge it by its gateway.
    return route["interface"] == "" and _store(route) == "persistent" and route["gateway"] in acceptable - {""}


def _planned_gateway(interface: str, gateway, own_default) -> str:
    if gateway is not None:
        return gateway
    if _is_ipv4(interface):
        return interface
    if own_default is not None:
        return own_default["gateway"]
    raise RouteTableError("no gateway is known for interface %s (it has no default route); give gateway" % interface)
