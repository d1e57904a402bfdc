"""The Windows transport: request bytes, and every kind of attempt result turned into an answer or a typed error.

The end-to-end behaviour (through ansible-playbook, with the host module's double) is in
tests/functional/test_windows_facts.py; here each mapping is pinned down on its own.
"""

from __future__ import annotations

import base64
import re

import pytest
from ansible_collections.imds.azure.plugins.module_utils import _errors
from ansible_collections.imds.azure.plugins.module_utils._client import ImdsClient
from ansible_collections.imds.azure.plugins.module_utils._transport import Endpoint
from ansible_collections.imds.azure.plugins.plugin_utils._imds_action import is_windows_host
from ansible_collections.imds.azure.plugins.plugin_utils._windows_transport import (
    ATTEMPT_MODULE,
    HEADER_ALLOWANCE,
    ImdsHostModuleError,
    attempt_args,
    host_transport,
    request_bytes,
    response_from_attempt,
)

ENDPOINT = Endpoint("http://169.254.169.254")
PATH = "/metadata/instance?api-version=2025-04-07&format=json"
URL = "http://169.254.169.254" + PATH


def attempt(raw: bytes = b"", error: dict | None = None, **extra) -> dict:
    result = {"changed": False, "response": base64.b64encode(raw).decode(), "received": len(raw),
              "complete": error is None, "limit_reached": False, "error": error, "elapsed": 0.01}
    result.update(extra)
    return result


def answer(result: dict, max_body_bytes: int = 1024 * 1024):
    return response_from_attempt(result, ENDPOINT, "GET", PATH, 2.0, 10.0, max_body_bytes)


def test_request_bytes_are_what_http_client_sends_plus_connection_close():
    raw = request_bytes(ENDPOINT, "GET", PATH, {"Metadata": "true", "User-Agent": "imds.azure"})
    head, _sep, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "GET %s HTTP/1.1" % PATH
    assert set(lines[1:]) == {"Host: 169.254.169.254", "Accept-Encoding: identity", "Metadata: true",
                              "User-Agent: imds.azure", "Connection: close"}
    assert body == b""


def test_request_bytes_with_a_body_declare_its_length():
    raw = request_bytes(Endpoint("http://127.0.0.1:8080"), "POST", "/metadata/scheduledevents?api-version=2020-07-01",
                        {"Metadata": "true", "Content-Type": "application/json"}, b'{"StartRequests": []}')
    assert b"Host: 127.0.0.1:8080\r\n" in raw and b"Content-Length: 21\r\n" in raw
    assert raw.endswith(b'\r\n\r\n{"StartRequests": []}')


@pytest.mark.parametrize("headers, path", [
    ({"Metadata": "true\r\nX-Forwarded-For: 10.0.0.1"}, PATH),
    ({"Metadata": "true"}, "/metadata/instance\r\nX-Forwarded-For: 1"),
])
def test_line_breaks_never_reach_the_wire(headers, path):
    with pytest.raises(_errors.ImdsRequestError, match="Cannot build the HTTP request"):
        request_bytes(ENDPOINT, "GET", path, headers)


def test_a_plain_answer():
    response = answer(attempt(b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                              b"Content-Length: 2\r\n\r\n{}"))
    assert (response.status, response.body, response.content_type) == (200, b"{}", "application/json")


def test_a_chunked_answer_and_repeated_headers():
    response = answer(attempt(b"HTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: chunked\r\nRetry-After: 3\r\n"
                              b"X-Note: a\r\nX-Note: b\r\n\r\n4\r\nslow\r\n5\r\n down\r\n0\r\n\r\n"))
    assert (response.status, response.body) == (429, b"slow down")
    assert response.headers["retry-after"] == "3" and response.headers["x-note"] == "a, b"


def test_a_redirect_is_returned_not_followed():
    response = answer(attempt(b"HTTP/1.1 302 Found\r\nLocation: http://login.proxy.example/\r\nContent-Length: 0\r\n\r\n"))
    assert response.status == 302 and response.headers["location"] == "http://login.proxy.example/"


@pytest.mark.parametrize("raw, error, words", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", _errors.ImdsConnectionResetError, "truncated"),
    (b"", _errors.ImdsConnectionResetError, "closed before a complete answer"),
    (b"SSH-2.0-OpenSSH_9.6\r\n", _errors.ImdsBadResponseError, "not valid HTTP"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 3000000\r\n\r\n{", _errors.ImdsResponseTooLargeError, "declared 3000000"),
])
def test_broken_answers_fail_as_on_linux(raw, error, words):
    with pytest.raises(error, match=words):
        answer(attempt(raw))


def test_the_body_cap_holds_for_answers_without_length():
    raw = b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 2000
    with pytest.raises(_errors.ImdsResponseTooLargeError, match="more than 1000 bytes arrived"):
        answer(attempt(raw), max_body_bytes=1000)


def test_an_answer_cut_at_the_host_limit_is_too_large():
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n" + b"x" * 5000
    with pytest.raises(_errors.ImdsResponseTooLargeError, match="more than 1000 bytes arrived"):
        answer(attempt(raw, limit_reached=True), max_body_bytes=1000)


@pytest.mark.parametrize("error, expected, words", [
    ({"kind": "connect_timeout", "code": "TimedOut", "message": "x"}, _errors.ImdsUnreachableError,
     "within 2.0 s (connect timed out)"),
    ({"kind": "connect_failed", "code": "ConnectionRefused", "message": "Es konnte keine Verbindung hergestellt"},
     _errors.ImdsUnreachableError, "refused the connection"),
    ({"kind": "connect_failed", "code": "NetworkUnreachable", "message": "ネットワークに到達できません"},
     _errors.ImdsUnreachableError, "there is no route to it"),
    ({"kind": "connect_failed", "code": "HostNotFound", "message": "No such host is known"},
     _errors.ImdsUnreachableError, "HostNotFound"),
    ({"kind": "read_timeout", "code": "TimedOut", "message": "x"}, _errors.ImdsTimeoutError,
     "did not answer within 10.0 s"),
    ({"kind": "connection_failed", "code": "ConnectionReset", "message": "x"}, _errors.ImdsConnectionResetError,
     "failed while talking (ConnectionReset"),
])
def test_host_socket_errors_map_by_name_not_by_message(error, expected, words):
    with pytest.raises(expected, match=re.escape(words)) as caught:
        answer(attempt(error=error))
    assert caught.value.url == URL
    assert caught.value.retryable


@pytest.mark.parametrize("result, words", [
    ({"failed": True, "msg": "Unsupported parameters"}, "Unsupported parameters"),
    ({"changed": False}, "it returned no answer"),
    (dict(attempt(), response="!!not base64!!"), "not base64"),
])
def test_a_module_that_did_not_run_is_not_retried(result, words):
    with pytest.raises(ImdsHostModuleError, match=words) as caught:
        answer(result)
    assert not caught.value.retryable


def test_the_client_drives_attempts_through_the_host(clock):
    """Retries, pacing and decoding stay in the client: 500 then 200 makes two module runs."""
    answers = [b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
               b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"compute": {}, "network": {}}']
    runs = []

    def run_module(name: str, args: dict) -> dict:
        runs.append((name, args))
        return attempt(answers[len(runs) - 1])

    # jitter 1.0: the waits are the ceilings of the backoff (full jitter draws below them).
    client = ImdsClient(transport=host_transport(run_module), clock=clock, sleep=clock.sleep, environ={},
                        jitter=lambda: 1.0)
    result = client.instance()
    assert result.data == {"compute": {}, "network": {}} and result.attempts == 2
    assert [name for name, _args in runs] == [ATTEMPT_MODULE] * 2
    args = runs[0][1]
    assert (args["address"], args["port"], args["connect_timeout_ms"], args["read_timeout_ms"]) == (
        "169.254.169.254", 80, 2000, 10000)
    assert "seal_to" not in args
    assert args["max_bytes"] == 1024 * 1024 + HEADER_ALLOWANCE
    assert base64.b64decode(args["request"]).startswith(b"GET /metadata/instance?api-version=")
    assert clock.sleeps == [1.0]


class _Shell:
    def __init__(self, family: str) -> None:
        self.SHELL_FAMILY = family  # pylint: disable=invalid-name


class _Connection:
    def __init__(self, family: str) -> None:
        self._shell = _Shell(family)


@pytest.mark.parametrize("family, windows", [("powershell", True), ("cmd", True), ("sh", False), ("csh", False)])
def test_windows_is_told_by_the_shell_family(family, windows):
    assert is_windows_host(_Connection(family)) is windows


def test_a_status_line_http_client_refuses_is_refused():
    with pytest.raises(_errors.ImdsBadResponseError, match="not valid HTTP"):
        answer(attempt(b"HTTP/1.1 abc Broken\r\n\r\n"))


@pytest.mark.parametrize("seconds, milliseconds", [(2.0, 2000), (0.21, 210), (0.0001, 1), (10.0005, 10001),
                                                   (2147483.647, 2147483647)])
def test_timeouts_cross_as_whole_milliseconds_rounded_up(seconds, milliseconds):
    assert attempt_args(ENDPOINT, b"GET", seconds, seconds, 1000)["read_timeout_ms"] == milliseconds


@pytest.mark.parametrize("timeout", [2147483.648, 1e10, 3e6])
def test_a_timeout_the_host_cannot_hold_is_refused_before_any_attempt(timeout):
    runs = []
    client = ImdsClient(transport=host_transport(lambda name, args: runs.append(args)), timeout=timeout, environ={})
    with pytest.raises(_errors.ImdsRequestError, match="longer than a Windows host can wait in one attempt"):
        client.instance()
    assert runs == []


def test_a_number_past_int32_is_refused():
    with pytest.raises(_errors.ImdsRequestError, match="does not fit the Windows attempt module's 32-bit number"):
        attempt_args(ENDPOINT, b"GET", 2.0, 10.0, 2 ** 31)


def test_the_hosts_error_text_is_shortened_and_stripped():
    """A host's exception type and message are untrusted text: no escape sequences, no 5,000 characters."""
    hostile = "\x1b]0;owned\x07" + "A" * 5000 + "\r\nforged line"
    with pytest.raises(_errors.ImdsConnectionResetError) as caught:
        answer(attempt(error={"kind": "connection_failed", "code": "System.IO.IOException\x1b[2J" + "B" * 300,
                              "message": hostile}))
    message = str(caught.value)
    assert "\x1b" not in message and "\x07" not in message and "\r" not in message and "\n" not in message
    assert len(message) < 600 and "System.IO.IOException" in message


def test_a_host_failure_message_is_shortened_and_stripped():
    with pytest.raises(ImdsHostModuleError) as caught:
        answer({"failed": True, "msg": "\x1b]0;owned\x07" + "C" * 5000})
    assert "\x1b" not in str(caught.value) and "\x07" not in str(caught.value) and len(str(caught.value)) < 400
