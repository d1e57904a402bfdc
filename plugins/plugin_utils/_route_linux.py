# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Linux ``ip`` backend of imds.azure.route: the kernel's main table (the active store)."""

from __future__ import annotations

import json

from ansible_collections.imds.azure.plugins.plugin_utils._route_backend import (
    RouteBackend,
    Step,
    checked_device,
    checked_ipv4,
)
from ansible_collections.imds.azure.plugins.plugin_utils._route_parse import parse_ip_json
from ansible_collections.imds.azure.plugins.plugin_utils._route_table import (
    IMDS_DESTINATION,
    RouteTableError,
)

LINUX_READ = ["ip", "-j", "-4", "route", "show", "table", "main"]


def _route_args(gateway: str, device: str, metric: int) -> list:
    args = [IMDS_DESTINATION]
    if gateway:
        args += ["via", checked_ipv4(gateway, "gateway")]
    args += ["dev", checked_device(device), "metric", str(int(metric))]
    if not gateway:
        args += ["scope", "link"]
    return args


def linux_apply_commands(plan: dict) -> list:
    """argv lists: delete each active route in ``remove``, then (when the active store needs it) add."""
    commands = [["ip", "route", "del"] + _route_args(route["gateway"], route["interface"], route["metric"] or 0)
                for route in plan["remove"] if route.get("store", "active") == "active"]
    if "active" in plan["add"]:
        commands.append(["ip", "route", "replace"] + _route_args(plan["gateway"], plan["interface"], plan["metric"]))
    return commands


class LinuxIpBackend(RouteBackend):
    name = "ip"
    stores = ("active",)

    def read(self) -> list:
        output = self.host.command(LINUX_READ, read_only=True)["stdout"]
        try:
            data = json.loads(output or "[]")
        except ValueError as exc:
            raise RouteTableError("`%s` did not print JSON (%s); iproute2 4.13 or newer is needed"
                                  % (" ".join(LINUX_READ), exc)) from None
        return parse_ip_json(data)

    def steps(self, plan: dict) -> list:
        return [Step(" ".join(argv), lambda argv=argv: self.host.command(argv)) for argv in linux_apply_commands(plan)]
