# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""NetworkManager backend of imds.azure.route: the ``ipv4.routes`` of NM connections (a persistent store).

Connections are always addressed by UUID (names may hold any character, and two may share one).
Every connection is read, so that an IMDS route the collection once added to the connection of
another interface is found and removed when the primary interface changes.
"""

from __future__ import annotations

import re

from ansible_collections.imds.azure.plugins.plugin_utils._route_backend import (
    HostError,
    RouteBackend,
    Step,
    checked_ipv4,
)
from ansible_collections.imds.azure.plugins.plugin_utils._route_table import IMDS_ADDRESS, IMDS_DESTINATION, new_route

_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
# One ipv4.routes entry: "169.254.169.254/32 [next hop] [metric] [attribute=value ...]".
_IMDS_ENTRY_RE = re.compile(r"^169\.254\.169\.254(?:/32)?(?:\s+(\d{1,3}(?:\.\d{1,3}){3}))?(?:\s+(\d{1,10}))?(?:\s+\S+=\S*)*\Z",
                            re.ASCII)


def nmcli_route_value(route: dict) -> str:
    """The ipv4.routes entry (``dest gateway metric``) of a plan or a route."""
    gateway = checked_ipv4(route["gateway"], "gateway") if route["gateway"] else "0.0.0.0"
    return "%s %s %d" % (IMDS_DESTINATION, gateway, int(route["metric"] or 0))


def split_terse(line: str) -> list:
    """Fields of one ``nmcli -t`` line (``:`` separates, ``\\:`` is a colon inside a field)."""
    return [field.replace("\\:", ":").replace("\\\\", "\\") for field in re.split(r"(?<!\\):", line)]


def active_devices(nmcli_output: str) -> dict:
    """UUID -> device of the active connections, from ``nmcli -t -f UUID,DEVICE connection show --active``."""
    devices = {}
    for line in (nmcli_output or "").splitlines():
        fields = split_terse(line)
        if len(fields) == 2 and _UUID_RE.match(fields[0]) and fields[1]:
            devices[fields[0]] = fields[1]
    return devices


def imds_entries(routes_value: str) -> list:
    """(entry text, gateway, metric) of the IMDS routes in an ``ipv4.routes`` value (entries joined by ", ")."""
    entries = []
    for entry in (routes_value or "").split(","):
        match = _IMDS_ENTRY_RE.match(entry.strip())
        if match:
            gateway = "" if match.group(1) in (None, "0.0.0.0") else match.group(1)
            entries.append((entry.strip(), gateway, int(match.group(2)) if match.group(2) else None))
    return entries


class NetworkManagerBackend(RouteBackend):
    name = "networkmanager"
    stores = ("persistent",)

    def __init__(self, host, device: str, uuid: str, devices: dict) -> None:
        super().__init__(host)
        self.device = device
        self.uuid = uuid
        self.devices = devices
        self.owners = []  # (route, connection uuid, entry text)

    @classmethod
    def detect(cls, host, device: str):
        """The backend when NetworkManager has an active connection on ``device``, else None."""
        output = host.try_command(["nmcli", "-t", "-f", "UUID,DEVICE", "connection", "show", "--active"])
        devices = active_devices(output) if output is not None else {}
        for uuid, active_device in devices.items():
            if active_device == device:
                return cls(host, device, uuid, devices)
        return None

    def read(self) -> list:
        self.owners = []
        listing = self.host.command(["nmcli", "-t", "-f", "UUID", "connection", "show"], read_only=True)["stdout"]
        for uuid in (line.strip() for line in listing.splitlines()):
            if not _UUID_RE.match(uuid):
                continue
            shown = self.host.command(["nmcli", "-g", "connection.interface-name,ipv4.routes", "connection", "show",
                                       uuid], read_only=True)["stdout"].split("\n")
            interface = self.devices.get(uuid) or (shown[0].strip() if shown else "")
            for entry, gateway, metric in imds_entries(shown[1] if len(shown) > 1 else ""):
                route = new_route(IMDS_ADDRESS, 32, gateway, interface, metric, store="persistent")
                self.owners.append((route, uuid, entry))
        return [route for route, _uuid, _entry in self.owners]

    def steps(self, plan: dict) -> list:
        steps = []
        for route in plan["remove"]:
            for owned, uuid, entry in self.owners:
                if owned is route:
                    steps.append(self._modify(uuid, "-ipv4.routes", entry))
        if "persistent" in plan["add"]:
            steps.append(self._modify(self.uuid, "+ipv4.routes", nmcli_route_value(plan)))
        return steps

    def _modify(self, uuid: str, operation: str, value: str) -> Step:
        if not _UUID_RE.match(uuid):
            raise HostError("nmcli gave %r as a connection UUID" % uuid)
        argv = ["nmcli", "connection", "modify", uuid, operation, value]
        return Step(" ".join(argv[:5]) + " '%s'" % value, lambda: self.host.command(argv))

    def note(self, plan: dict) -> str:
        return "ipv4.routes of NetworkManager connection %s (%s); applies from the next activation" % (
            self.uuid, self.device)
