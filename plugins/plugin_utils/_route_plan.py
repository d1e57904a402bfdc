# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""The decision whether the IMDS route must be installed, changed or removed, from routes in the
shape of ``_route_table`` (whatever parser or backend read them)."""

from __future__ import annotations

import ipaddress

from ansible_collections.imds.azure.plugins.plugin_utils._route_table import (
    IMDS_ADDRESS,
    IMDS_DESTINATION,
    STORES,
    RouteTableError,
    is_imds_route,
    is_ipv4,
    is_ipv4_default,
    new_route,
    quoted,
    route_store,
)

DEFAULT_METRIC = 1


def effective_metric(route: dict) -> int:
    """What Windows (and Linux) compare between routes: route metric + interface metric."""
    return (route["metric"] or 0) + (route.get("interface_metric") or 0)


def describe_route(route: dict) -> str:
    """The one way a route is written in reasons, diffs and messages."""
    via = "via %s" % route["gateway"] if route.get("gateway") else "on-link"
    metric = "?" if route.get("metric") is None else route["metric"]
    text = "%s/%d %s dev %s metric %s" % (route["destination"], route["prefix"], via, route["interface"] or "?", metric)
    return text + (" (persistent store)" if route_store(route) == "persistent" else "")


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
        if route_store(route) != "active" or not is_ipv4(route["destination"]):
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
    defaults = [r for r in routes if is_ipv4_default(r) and route_store(r) == "active"
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
        raise RouteTableError("metric must be a whole number from 0 to 9999; got %s" % quoted(metric))
    if state not in ("present", "absent"):
        raise RouteTableError("state must be present or absent, not %s" % quoted(state))
    managed = bool(persistent) if persistent is not None else any(route_store(r) == "persistent" for r in routes)
    plan = {"needed": False, "reason": "", "destination": IMDS_DESTINATION, "gateway": None, "interface": None,
            "metric": metric, "state": state, "stores": list(STORES) if managed else ["active"],
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
        remove, add, reason = _store_plan([r for r in routes if route_store(r) == store], store, plan, acceptable, routes)
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
    return route["interface"] == "" and route_store(route) == "persistent" and route["gateway"] in acceptable - {""}


def _planned_gateway(interface: str, gateway, own_default) -> str:
    if gateway is not None:
        return gateway
    if is_ipv4(interface):
        return interface
    if own_default is not None:
        return own_default["gateway"]
    raise RouteTableError("no gateway is known for interface %s (it has no default route); give gateway" % interface)
