"""The double of win_imds_attempt holds to what Windows does: Ansible.Basic's Int32 options, PowerShell's
exception wrapper around the .NET failure, Windows Sockets' names and texts; where it cannot know, it refuses."""

from __future__ import annotations

import errno
import socket

import pytest
from doubles.windows_double import attempt_double_module

DOUBLE = attempt_double_module()


@pytest.mark.parametrize("value, parsed", [(80, 80), (2147483647, 2147483647), (" 42 ", 42), ("-7", -7)])
def test_int_options_as_ansible_basic_reads_them(value, parsed):
    assert DOUBLE.parse_int(value) == parsed


@pytest.mark.parametrize("value, net_type, message", [
    (2147483648, "System.Int64", DOUBLE.OVERFLOW),
    (2 ** 63, "System.Decimal", DOUBLE.OVERFLOW),
    (2.5, "System.Decimal", DOUBLE.BAD_FORMAT),
    (2000.0, "System.Decimal", DOUBLE.BAD_FORMAT),
    (True, "System.Boolean", DOUBLE.BAD_FORMAT),
    ("1e3", "System.String", DOUBLE.BAD_FORMAT),
])
def test_what_an_int32_cannot_hold_fails_as_on_the_host(value, net_type, message):
    assert DOUBLE.dotnet_type(value) == net_type
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        DOUBLE.parse_int(value)


def test_numbers_past_what_the_double_knows_are_refused():
    with pytest.raises(DOUBLE.DoubleCannotKnow):
        DOUBLE.parse_int(10 ** 30)


def test_the_wrapper_is_unwrapped_to_the_socket_failure():
    failure = DOUBLE.dotnet_failure(ConnectionResetError(errno.ECONNRESET, "reset"), "Read", 3, True)
    assert failure.type_name == "System.Management.Automation.MethodInvocationException"
    assert failure.message.startswith('Exception calling "Read" with "3" argument(s)')
    assert failure.inner.type_name == "System.IO.IOException"
    error = DOUBLE.failure_error("exchange", failure)
    assert error == {"kind": "connection_failed", "code": "ConnectionReset",
                     "message": "An existing connection was forcibly closed by the remote host"}
    timed_out = DOUBLE.failure_error("exchange", DOUBLE.dotnet_failure(socket.timeout(), "Read", 3, True))
    assert (timed_out["kind"], timed_out["code"]) == ("read_timeout", "TimedOut")


def test_a_failure_without_a_socket_error_names_the_innermost_type():
    inner = DOUBLE.DotNetException("System.ObjectDisposedException", "Cannot access a disposed object.")
    wrapper = DOUBLE.DotNetException("System.Management.Automation.MethodInvocationException",
                                     'Exception calling "Read" with "3" argument(s): "..."', inner)
    assert DOUBLE.failure_error("exchange", wrapper) == {
        "kind": "connection_failed", "code": "System.ObjectDisposedException",
        "message": "Cannot access a disposed object."}


def test_an_errno_windows_has_no_name_for_here_is_refused():
    with pytest.raises(DOUBLE.DoubleCannotKnow):
        DOUBLE.dotnet_failure(OSError(errno.EPROTO, "protocol error"), "EndConnect", 1, False)
