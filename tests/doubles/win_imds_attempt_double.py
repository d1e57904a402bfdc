# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""TEST DOUBLE of imds.azure.win_imds_attempt (plugins/modules/win_imds_attempt.ps1), in Python.

The tests have no Windows machine. They install this file as win_imds_attempt.py in a test-only
copy of the collection (tests/helpers/windows_double.py), for hosts whose shell reports the
PowerShell family. It does what the .ps1 does, step for step, with real sockets:
connect within connect_timeout; send the request bytes; read until the server closes the
connection, one deadline of read_timeout for the whole answer; stop past max_bytes; report
failures by the name Windows gives them (SocketError: ConnectionRefused, TimedOut,
NetworkUnreachable, HostUnreachable, ConnectionReset, ...), never by a message. Same options,
same return keys, same failure behaviour. There is no proxy and no redirect handling, as a
socket has none.
"""

from __future__ import annotations

import base64
import errno
import socket
import time

from ansible.module_utils.basic import AnsibleModule

# errno -> the System.Net.Sockets.SocketError name Windows would report.
SOCKET_ERROR_NAMES = {
    errno.ECONNREFUSED: "ConnectionRefused",
    errno.ENETUNREACH: "NetworkUnreachable",
    errno.EHOSTUNREACH: "HostUnreachable",
    errno.EADDRNOTAVAIL: "AddressNotAvailable",
    errno.ECONNRESET: "ConnectionReset",
    errno.ECONNABORTED: "ConnectionAborted",
    errno.EPIPE: "Shutdown",
    errno.ETIMEDOUT: "TimedOut",
}


def socket_error_name(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return "TimedOut"
    if isinstance(exc, socket.gaierror):
        return "HostNotFound"
    return SOCKET_ERROR_NAMES.get(getattr(exc, "errno", None), type(exc).__name__)


def error(kind: str, exc: BaseException | None, code: str = "", message: str = "") -> dict:
    return {"kind": kind, "code": code or socket_error_name(exc), "message": message or str(exc)}


def exchange(sock: socket.socket, request: bytes, read_timeout: float, max_bytes: int, result: dict) -> None:
    started = time.monotonic()
    sock.settimeout(read_timeout)
    sock.sendall(request)
    answer = bytearray()
    while True:
        remaining = read_timeout - (time.monotonic() - started)
        if remaining <= 0:
            result["error"] = error("read_timeout", None, "TimedOut", "answer not complete before the read deadline")
            break
        sock.settimeout(remaining)
        chunk = sock.recv(65536)
        if not chunk:
            result["complete"] = True
            break
        answer.extend(chunk)
        if len(answer) > max_bytes:
            result["limit_reached"] = True
            break
    result["received"] = len(answer)
    result["response"] = base64.b64encode(bytes(answer)).decode("ascii")


def main() -> None:
    module = AnsibleModule(argument_spec=dict(
        address=dict(type="str", required=True),
        port=dict(type="int", default=80),
        request=dict(type="str", required=True),
        connect_timeout=dict(type="float", required=True),
        read_timeout=dict(type="float", required=True),
        max_bytes=dict(type="int", required=True),
    ), supports_check_mode=True)
    params = module.params
    result = dict(changed=False, response="", received=0, complete=False, limit_reached=False, error=None,
                  elapsed=0.0)
    request = base64.b64decode(params["request"])
    started = time.monotonic()
    sock = None
    try:
        try:
            sock = socket.create_connection((params["address"], params["port"]), timeout=params["connect_timeout"])
        except socket.timeout as exc:
            result["error"] = error("connect_timeout", exc, "TimedOut", "no connection within the connect timeout")
        except OSError as exc:
            result["error"] = error("connect_failed", exc)
        if sock is not None:
            try:
                exchange(sock, request, params["read_timeout"], params["max_bytes"], result)
            except OSError as exc:
                code = socket_error_name(exc)
                result["error"] = error("read_timeout" if code == "TimedOut" else "connection_failed", exc, code)
    finally:
        if sock is not None:
            sock.close()
    result["elapsed"] = time.monotonic() - started
    module.exit_json(**result)


if __name__ == "__main__":
    main()
