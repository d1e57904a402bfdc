"""The network-safety guard itself: it must stop, before any packet, connections from the root
namespace to IMDS, the wire server and any non-loopback address, in this process and in subprocesses."""

from __future__ import annotations

import os
import socket
import subprocess

import imds_netguard
import pytest
from helpers import paths

FORBIDDEN = [("169.254.169.254", 80), ("169.254.1.1", 80), ("168.63.129.16", 80), ("10.1.2.3", 80),
             ("::ffff:169.254.169.254", 80)]


@pytest.mark.expect_netguard_violation
@pytest.mark.parametrize("address", FORBIDDEN)
def test_guard_stops_forbidden_connections_in_process(address):
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        with pytest.raises(imds_netguard.NetworkGuardError, match="root network namespace"):
            sock.connect(address)
        with pytest.raises(imds_netguard.NetworkGuardError):
            sock.connect_ex(address)


@pytest.mark.expect_netguard_violation
def test_guard_stops_udp_and_create_connection():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        with pytest.raises(imds_netguard.NetworkGuardError):
            sock.sendto(b"x", ("168.63.129.16", 53))
    with pytest.raises(imds_netguard.NetworkGuardError):
        socket.create_connection(("169.254.169.254", 80), timeout=0.1)


@pytest.mark.expect_netguard_violation
def test_guard_covers_python_subprocesses():
    env = dict(os.environ, PYTHONPATH=str(paths.NETGUARD_DIR))
    code = "import socket; socket.create_connection(('169.254.169.254', 80), timeout=0.1)"
    completed = subprocess.run([paths.PYTHON, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert completed.returncode != 0
    assert "NetworkGuardError" in completed.stderr


def test_loopback_is_allowed(emulator):
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=2):
        pass
    assert imds_netguard.forbidden_reason(socket.AF_INET, ("127.0.0.1", 80)) is None
    assert imds_netguard.forbidden_reason(socket.AF_INET6, ("::1", 80)) is None
    assert imds_netguard.forbidden_reason(socket.AF_UNIX, "/tmp/x") is None


def test_inside_a_test_namespace_imds_is_allowed(make_netns):
    namespace = make_netns("guard")
    namespace.add_address("169.254.169.254/32")
    code = ("import imds_netguard, socket; "
            "print(imds_netguard.forbidden_reason(socket.AF_INET, ('169.254.169.254', 80)))")
    env = dict(os.environ, PYTHONPATH=str(paths.NETGUARD_DIR))
    completed = subprocess.run(namespace.prefix + [paths.PYTHON, "-c", code], env=env, capture_output=True,
                               text=True, check=True)
    assert completed.stdout.strip() == "None"
