# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.imds.azure.plugins.plugin_utils._route_parse import (
    parse_routes as _parse_routes,
    store_of,
)
from ansible_collections.imds.azure.plugins.plugin_utils._route_plan import plan_imds_route
from ansible_collections.imds.azure.plugins.plugin_utils._route_table import (
    RouteTableError,
    new_route,
)


def parse_routes(data: object, source: str = "auto") -> list:
    """Route table (route print text, Get-NetRoute JSON, ip -j route JSON) to a list of routes."""
    try:
        return _parse_routes(data, source)
    except RouteTableError as exc:
        raise AnsibleFilterError("imds.azure.parse_routes: %s" % exc) from exc


def imds_route_plan(routes: object, metric: object = 1, interface: object = None, gateway: object = None,
                    state: str = "present", persistent: object = None) -> dict:
    """Decide whether 169.254.169.254/32 needs a route, and which."""
    if not isinstance(routes, list) or not all(isinstance(r, dict) for r in routes):
        raise AnsibleFilterError("imds.azure.imds_route_plan: give the list that imds.azure.parse_routes returns")
    try:
        return plan_imds_route([_normalised(r) for r in routes], metric=int(metric),
                               interface=None if interface is None else str(interface),
                               gateway=None if gateway is None else str(gateway), state=state,
                               persistent=None if persistent is None else bool(persistent))
    except (RouteTableError, KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("imds.azure.imds_route_plan: %s" % exc) from exc


def _normalised(route: dict) -> dict:
    def number(value: object) -> int | None:
        return None if value is None else int(value)

    return new_route(str(route["destination"]), int(route["prefix"]), str(route.get("gateway") or ""),
                     str(route["interface"]), number(route["metric"]), number(route.get("interface_metric")),
                     store_of(route.get("store")))


class FilterModule:
    """Route tables as data."""

    def filters(self):
        return {"parse_routes": parse_routes, "imds_route_plan": imds_route_plan}
