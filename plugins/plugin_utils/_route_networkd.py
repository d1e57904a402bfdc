# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""systemd-networkd backend of imds.azure.route: a drop-in for the device's .network file (a persistent store)."""

from __future__ import annotations

import re

from ansible_collections.imds.azure.plugins.plugin_utils._route_backend import RouteBackend, Step, checked_ipv4
from ansible_collections.imds.azure.plugins.plugin_utils._route_table import IMDS_ADDRESS, IMDS_DESTINATION, new_route

_NETWORK_FILE_RE = re.compile(r"^\s*Network File:\s*(/\S+\.network)\s*$", re.MULTILINE)
_KEY_RE = re.compile(r"^\s*(Destination|Gateway|Metric|Scope)\s*=\s*(\S*)\s*$", re.MULTILINE | re.ASCII)
DROPIN_NAME = "60-imds-route.conf"


def network_file(networkctl_status: str) -> str | None:
    """The .network file systemd-networkd applies to a device, from ``networkctl status DEV``."""
    match = _NETWORK_FILE_RE.search(networkctl_status or "")
    return match.group(1) if match else None


def dropin_path(network_file_path: str) -> str:
    """Where the drop-in for a .network file lives (drop-ins also apply to files under /run)."""
    return "/etc/systemd/network/%s.d/%s" % (network_file_path.rsplit("/", 1)[-1], DROPIN_NAME)


def dropin_content(plan: dict) -> str:
    """The drop-in that makes the route survive reboots under systemd-networkd."""
    lines = ["# Managed by imds.azure.route: the route to the Azure Instance Metadata Service.",
             "[Route]", "Destination=%s" % IMDS_DESTINATION]
    if plan["gateway"]:
        lines.append("Gateway=%s" % checked_ipv4(plan["gateway"], "gateway"))
    else:
        lines.append("Scope=link")
    lines.append("Metric=%d" % int(plan["metric"]))
    return "\n".join(lines) + "\n"


def dropin_route(content: str, device: str):
    """The route our drop-in holds, or None when the file is not one of ours."""
    keys = dict(_KEY_RE.findall(content or ""))
    if keys.get("Destination") != IMDS_DESTINATION:
        return None
    metric = keys.get("Metric", "")
    return new_route(IMDS_ADDRESS, 32, keys.get("Gateway", ""), device, int(metric) if metric.isdigit() else None,
                     store="persistent")


class NetworkdBackend(RouteBackend):
    name = "systemd-networkd"
    stores = ("persistent",)

    def __init__(self, host, device: str, network_file_path: str) -> None:
        super().__init__(host)
        self.device = device
        self.network_file = network_file_path
        self.path = dropin_path(network_file_path)

    @classmethod
    def detect(cls, host, device: str):
        """The backend when systemd-networkd applies a .network file to ``device``, else None."""
        status = host.try_command(["networkctl", "status", "--no-pager", device])
        found = network_file(status) if status is not None else None
        return cls(host, device, found) if found else None

    def read(self) -> list:
        route = dropin_route(self.host.try_command(["cat", self.path]) or "", self.device)
        return [route] if route else []

    def steps(self, plan: dict) -> list:
        steps = []
        if any(r.get("store") == "persistent" for r in plan["remove"]) and "persistent" not in plan["add"]:
            argv = ["rm", "-f", self.path]
            steps.append(Step(" ".join(argv), lambda: self.host.command(argv)))
        if "persistent" in plan["add"]:
            argv = ["install", "-D", "-m", "0644", "/dev/stdin", self.path]
            content = dropin_content(plan)
            steps.append(Step(" ".join(argv), lambda: self.host.command(argv, stdin=content)))
        return steps

    def note(self, plan: dict) -> str:
        return "drop-in %s for %s" % (self.path, self.network_file)
