# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""The one small interface behind which each platform backend of imds.azure.route lives.

A backend keeps one or more route *stores* of a host (``active``: the kernel's table;
``persistent``: what comes back at boot - Windows' persistent store, a NetworkManager
connection, a systemd-networkd drop-in). It reads its routes in the shape of ``_route_table`` and
turns a plan into ``Step`` objects: a line that says what will run, and the call that runs it.
Backends talk to the host only through ``Host`` (which the action plugin implements), so they
are tested with doubles of a host.
"""

from __future__ import annotations

import ipaddress
import re

_DEVICE_RE = re.compile(r"^[A-Za-z0-9_.:@][A-Za-z0-9_.:@-]{0,14}\Z")


class HostError(Exception):
    """A command on the managed host failed, or answered what it never answers."""


class RouteCommandError(ValueError):
    """A value that must not reach a command line (bad device name or address)."""


class Host:
    """What a backend may do on the host. ``read_only`` calls also run in check mode."""

    def command(self, argv: list, read_only: bool = False, stdin: str | None = None) -> dict:
        raise NotImplementedError

    def try_command(self, argv: list) -> str | None:
        """stdout of a read-only command, or None when it is missing or fails."""
        raise NotImplementedError

    def powershell(self, script: str, parameters: dict | None = None, read_only: bool = False) -> dict:
        """Run one of the collection's .ps1 files (by name) through win_powershell; the module's result."""
        raise NotImplementedError


class Step:
    """One change on the host: ``text`` for check mode and the result, ``run`` to do it."""

    def __init__(self, text: str, run) -> None:
        self.text = text
        self.run = run


class RouteBackend:
    """A store (or stores) of routes on one kind of host."""

    name = ""
    stores = ()

    def __init__(self, host: Host) -> None:
        self.host = host

    def read(self) -> list:
        """The routes of this backend's stores (``store`` set on each)."""
        raise NotImplementedError

    def steps(self, plan: dict) -> list:
        """What applying ``plan`` takes in this backend's stores: removals first, then the addition."""
        raise NotImplementedError

    def note(self, plan: dict) -> str:
        """What the user should know about this store after ``plan``."""
        return ""


def checked_device(device: str) -> str:
    if not isinstance(device, str) or not _DEVICE_RE.match(device):
        raise RouteCommandError("%r is not a Linux interface name" % (device,))
    return device


def checked_ipv4(address: str, what: str) -> str:
    try:
        return str(ipaddress.IPv4Address(address))
    except ValueError:
        raise RouteCommandError("%s %r is not an IPv4 address" % (what, address)) from None
