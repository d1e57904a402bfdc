# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""A route as data: the one shape every route parser returns and the planner reads.

A route is ``{destination, prefix, gateway, interface, metric, interface_metric, store}``.
``metric`` is the route's own metric (what ``route add ... metric`` and ``New-NetRoute
-RouteMetric`` set); ``interface_metric`` the interface's, when known (Windows adds the two);
``store`` is ``active`` or ``persistent`` (Windows keeps both).
"""

from __future__ import annotations

import ipaddress

IMDS_ADDRESS = "169.254.169.254"
IMDS_DESTINATION = IMDS_ADDRESS + "/32"
STORES = ("active", "persistent")


class RouteTableError(ValueError):
    """The input is not a route table this collection understands, or cannot be planned."""


def is_ipv4(text) -> bool:
    try:
        ipaddress.IPv4Address(text)
        return True
    except ValueError:
        return False


def is_ipv6(text) -> bool:
    try:
        ipaddress.IPv6Address(text.split("%")[0])
        return True
    except ValueError:
        return False


def new_route(destination: str, prefix: int, gateway: str, interface: str, metric, interface_metric=None,
              store: str = "active") -> dict:
    """One route in the shape every parser returns."""
    return {"destination": destination, "prefix": prefix, "gateway": gateway, "interface": interface,
            "metric": metric, "interface_metric": interface_metric, "store": store}


def is_ipv4_default(route: dict) -> bool:
    return route["destination"] == "0.0.0.0" and route["prefix"] == 0


def is_imds_route(route: dict) -> bool:
    return route["destination"] == IMDS_ADDRESS and route["prefix"] == 32


def route_store(route: dict) -> str:
    """The store of ``route``; a route read without one is active."""
    return route.get("store") or "active"


def quoted(value) -> str:
    """A value that broke a rule, as a message quotes it: its ``repr``, cut to at most 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
