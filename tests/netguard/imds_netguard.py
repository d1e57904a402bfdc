"""Network-safety guard for the test suite.

From the machine's own (root) network namespace, tests may only talk to loopback.
Above all they must never reach 169.254.0.0/16 (IMDS, link-local) or 168.63.129.16
(the Azure wire server): on a cloud machine that would reach a real metadata
service. Processes inside a network namespace a test created are not restricted:
there 169.254.169.254 belongs to the emulator.

``install()`` wraps ``socket.socket.connect``/``connect_ex``/``sendto`` so that a
forbidden destination raises ``NetworkGuardError`` before any packet is sent, and
appends a JSON line to the file named by ``IMDS_AZURE_NETGUARD_LOG``; the pytest
fixture in ``conftest.py`` fails the test that caused it. ``sitecustomize.py`` in
this directory installs the guard in every Python subprocess the tests start.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import sys

LOG_ENV = "IMDS_AZURE_NETGUARD_LOG"
ROOT_NETNS_ENV = "IMDS_AZURE_ROOT_NETNS"

CLOUD_ONLY = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("168.63.129.16/32"))


class NetworkGuardError(RuntimeError):
    """A connection that could reach a real cloud service (or leave the machine) was stopped."""


def netns_id(pid: str = "self") -> str:
    try:
        return os.readlink("/proc/%s/ns/net" % pid)
    except OSError:
        return "unknown"


def in_root_namespace() -> bool:
    root = os.environ.get(ROOT_NETNS_ENV) or netns_id("1")
    return netns_id() == root


def _addresses(host: str) -> list:
    try:
        return [ipaddress.ip_address(host.split("%")[0])]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return []
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def forbidden_reason(family: int, address) -> str | None:
    """Why connecting to ``address`` from here is forbidden, or None when it is allowed."""
    if family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
        return None
    if not in_root_namespace():
        return None
    for ip in _addresses(str(address[0])):
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if any(ip in network for network in CLOUD_ONLY):
            return "%s is a cloud metadata/wire-server address" % ip
        if not (ip.is_loopback or ip.is_unspecified):
            return "%s is not a loopback address" % ip
    return None


def _record(address, reason: str) -> None:
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    entry = {"pid": os.getpid(), "argv": sys.argv[:4], "address": repr(address), "reason": reason}
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")


def _check(sock: socket.socket, address) -> None:
    reason = forbidden_reason(sock.family, address)
    if reason:
        _record(address, reason)
        raise NetworkGuardError("network guard: refused to connect to %r from the root network namespace: %s"
                                % (address, reason))


def install() -> None:
    """Wrap the socket methods once per process."""
    if getattr(socket.socket, "_imds_netguard", False):
        return
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_sendto = socket.socket.sendto

    def connect(self, address):
        _check(self, address)
        return original_connect(self, address)

    def connect_ex(self, address):
        _check(self, address)
        return original_connect_ex(self, address)

    def sendto(self, data, *args):
        _check(self, args[-1])
        return original_sendto(self, data, *args)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.socket.sendto = sendto
    socket.socket._imds_netguard = True
