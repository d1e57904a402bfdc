"""The transport against peers that misbehave on purpose (issue 12), over real loopback HTTP."""

from __future__ import annotations

import errno
import io
import json
import math
import os
import socket
import time

import pytest
from ansible_collections.imds.azure.plugins.module_utils import _errors, _transport, _transport_errors
from ansible_collections.imds.azure.plugins.module_utils._client import ImdsClient, metadata_path
from ansible_collections.imds.azure.plugins.module_utils._attestation_info_logic import attested_document
from ansible_collections.imds.azure.plugins.plugin_utils import _windows_transport
from azure_imds_emulator.faults import Fault
from helpers.python_probe import run_python


@pytest.fixture
def virtual(make_emulator, clock):
    """An emulator and a client sharing one virtual clock (retry waits take no real time)."""
    emulator = make_emulator(clock=clock)

    def client(**kwargs) -> ImdsClient:
        return ImdsClient(endpoint=emulator.url, clock=clock, sleep=clock.sleep, **kwargs)

    return emulator, client


def raw(status_line: bytes, headers: bytes = b"", body: bytes = b"") -> Fault:
    return Fault(kind="raw", body=status_line + b"\r\n" + headers + b"\r\n" + body)


def test_headers_dripping_one_byte_at_a_time_cannot_outlast_the_timeout(virtual):
    """The status line and headers count against the deadline too, not only the body."""
    emulator, client = virtual
    fault = emulator.add_fault(kind="drip_head", interval=0.2)  # ~150 header bytes: 30 s if let run
    started = time.monotonic()
    with pytest.raises(_errors.ImdsTimeoutError, match="did not answer within 1.0 s") as caught:
        client(timeout=1.0, max_retry_time=0).instance()
    elapsed = time.monotonic() - started
    assert fault.hits == 1 and caught.value.attempts == 1
    assert elapsed < 10, "a dripping peer held the attempt for %.1f s with timeout 1.0" % elapsed
    assert "status line, the headers and the body" in str(caught.value)


def test_the_deadline_covers_the_whole_attempt_not_each_read(virtual):
    """A body dripping a byte every 0.2 s: each read is quick, the attempt is not."""
    emulator, client = virtual
    emulator.add_fault(kind="drip", interval=0.2)
    started = time.monotonic()
    with pytest.raises(_errors.ImdsTimeoutError):
        client(timeout=1.0, max_retry_time=0).instance()
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("length", [b"\xb2", b"1\xb3", b"-1", b"5, 5", b"0x10", b"99999999999999999999"])
def test_content_length_that_is_no_ascii_number_is_a_bad_response(virtual, length):
    emulator, client = virtual
    emulator.add_fault(raw(b"HTTP/1.1 200 OK", b"Content-Length: " + length + b"\r\n", b"{}"))
    with pytest.raises(_errors.ImdsBadResponseError) as caught:
        client(max_retry_time=0).instance()
    assert "Content-Length" in str(caught.value) or "limit" in str(caught.value)


def test_unicode_digit_in_retry_after_falls_back_to_the_backoff(virtual, clock):
    emulator, client = virtual
    emulator.add_fault(Fault(status=429, retry_after="\u00b2", count=1))
    assert client(jitter=lambda: 1.0).instance().data == emulator.profile
    assert [r.status for r in emulator.requests] == [429, 200]
    assert clock.sleeps == [4.0]  # the first 429 ceiling, not 2 s


@pytest.mark.parametrize("reason", [b"\x1b[31mRED\x1b[0m \x1b]0;pwned\x07", b"Service\x00Unavailable\x7f\x9b2J"])
def test_reason_phrase_reaches_no_message_raw(virtual, reason):
    emulator, client = virtual
    emulator.add_fault(raw(b"HTTP/1.1 503 " + reason, b"Content-Length: 0\r\n"))
    with pytest.raises(_errors.ImdsServerError) as caught:
        client(max_retry_time=0).instance()
    message = str(caught.value)
    assert "\x1b" not in message and "\x00" not in message and "\x07" not in message and "\x9b" not in message
    assert all(ch.isprintable() for ch in message)
    assert "503" in message


@pytest.mark.parametrize("body", [b'{"a": NaN}', b'{"a": Infinity}', b'[-Infinity]', b'{"a": 1e999}',
                                  b'{"a": [1, -1E400]}'])
def test_non_finite_numbers_are_refused(virtual, body):
    emulator, client = virtual
    emulator.add_fault(raw(b"HTTP/1.1 200 OK", b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body),
                           body))
    with pytest.raises(_errors.ImdsBadResponseError, match="not JSON") as caught:
        client(max_retry_time=0).instance()
    assert "NaN" in str(caught.value) or "Infinity" in str(caught.value)


def test_large_finite_numbers_are_kept(virtual):
    emulator, client = virtual
    body = b'{"a": 1e308, "b": -2.5E-300, "c": 12345678901234567890}'
    emulator.add_fault(raw(b"HTTP/1.1 200 OK", b"Content-Length: %d\r\n" % len(body), body))
    assert client().instance().data == {"a": 1e308, "b": -2.5e-300, "c": 12345678901234567890}


@pytest.mark.parametrize("option", ["timeout", "connect_timeout", "max_retry_time"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -1.0])
def test_non_finite_or_negative_times_name_the_option(option, value):
    with pytest.raises(_errors.ImdsRequestError, match=r"^The %s option" % option) as caught:
        ImdsClient(endpoint="http://127.0.0.1:9", **{option: value})
    assert repr(value) in str(caught.value) or str(value) in str(caught.value)


@pytest.mark.parametrize("option", ["timeout", "connect_timeout"])
def test_zero_timeouts_are_refused(option):
    with pytest.raises(_errors.ImdsRequestError, match="greater than 0"):
        ImdsClient(endpoint="http://127.0.0.1:9", **{option: 0})


def test_zero_max_retry_time_means_one_attempt():
    assert ImdsClient(endpoint="http://127.0.0.1:9", max_retry_time=0).max_retry_time == 0.0


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:0", "http://127.0.0.1:65536", "http://127.0.0.1:-1",
                                      "http://127.0.0.1:http", "http://127.0.0.1:\u0668\u0660", "http://[::1]:0",
                                      "http://127.0.0.1:80:80", "http://127.0.0.1: 80", "http://[::1]x",
                                      "http://127.0.0.1:+80", "http://127.0.0.1:000000080"])
def test_invalid_ports_are_refused(endpoint):
    with pytest.raises(_errors.ImdsRequestError, match="port must be a number from 1 to 65535"):
        _transport.Endpoint(endpoint)


@pytest.mark.parametrize("endpoint, base_url, port", [
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080", 8080), ("http://169.254.169.254", "http://169.254.169.254", 80),
    ("http://169.254.169.254:80/", "http://169.254.169.254", 80), ("http://[::1]:65535", "http://[::1]:65535", 65535),
    ("http://localhost:", "http://localhost", 80), ("http://imds.example:1", "http://imds.example:1", 1),
])
def test_valid_endpoints(endpoint, base_url, port):
    parsed = _transport.Endpoint(endpoint)
    assert (parsed.base_url, parsed.port) == (base_url, port)


@pytest.mark.parametrize("endpoint", ["http://bad host", "http://[::1", "http://[1.2.3.4]", "http://host\u0000"])
def test_invalid_hosts_are_refused(endpoint):
    with pytest.raises(_errors.ImdsRequestError, match="Invalid IMDS endpoint"):
        _transport.Endpoint(endpoint)


@pytest.mark.parametrize("path", ["instance/compute\n", "instance/compute\n/", ["instance", "compute\n"],
                                  " instance", "instance/compute ", "instance/\ncompute", ["instance\r"]])
def test_paths_are_full_matches(path):
    with pytest.raises(_errors.ImdsRequestError, match="Invalid IMDS path segment"):
        metadata_path(path)


def test_nonce_is_a_full_match(emulator):
    with pytest.raises(_errors.ImdsRequestError, match="nonce"):
        attested_document(ImdsClient(endpoint=emulator.url), nonce="abc\n")
    assert emulator.requests == []


# -- the messages users read, whole (each says what happened and what to do) -------------------

URL = "http://127.0.0.1:8080/metadata/instance"


def read_bytes(data: bytes, cap: int = 64):
    from test_fuzz_transport import peer_stream  # pylint: disable=import-outside-toplevel

    return _transport.read_response(peer_stream(data), "GET", URL, cap, 2.5)


def test_message_for_a_declared_body_over_the_cap():
    with pytest.raises(_errors.ImdsResponseTooLargeError) as caught:
        read_bytes(b"HTTP/1.1 200 OK\r\nContent-Length: 65\r\n\r\n" + b"x" * 65)
    assert str(caught.value) == (
        "The answer from %s is larger than the 64-byte limit (declared 65 bytes). IMDS documents are a few "
        "kilobytes; a proxy or another server probably answered. Query a narrower path (for example "
        "instance/compute) if you really need more." % URL)
    assert caught.value.url == URL


def test_a_body_of_exactly_the_cap_is_accepted_both_ways():
    assert read_bytes(b"HTTP/1.1 200 OK\r\nContent-Length: 64\r\n\r\n" + b"x" * 64).body == b"x" * 64
    assert read_bytes(b"HTTP/1.1 200 OK\r\n\r\n" + b"y" * 64).body == b"y" * 64
    with pytest.raises(_errors.ImdsResponseTooLargeError, match=r"\(more than 64 bytes arrived\)"):
        read_bytes(b"HTTP/1.1 200 OK\r\n\r\n" + b"y" * 65)


def test_message_for_an_invalid_content_length():
    with pytest.raises(_errors.ImdsBadResponseError) as caught:
        read_bytes(b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\n{}")
    assert str(caught.value) == ("The answer from %s has an invalid Content-Length '\u00b2' (not one number in ASCII "
                                 "digits). IMDS never sends that; something else answered." % URL)


def test_chunked_bodies_ignore_content_length():
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: x\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    assert read_bytes(data).body == b"ok"


def test_message_for_a_truncated_body():
    with pytest.raises(_errors.ImdsConnectionResetError) as caught:
        read_bytes(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}")
    assert str(caught.value) == ("The connection to IMDS at %s was closed before a complete answer arrived "
                                 "(body truncated: 2 bytes read, 8 more expected)." % URL)
    assert caught.value.retryable


def test_message_for_an_answer_that_is_not_http():
    with pytest.raises(_errors.ImdsBadResponseError) as caught:
        read_bytes(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
    assert str(caught.value) == ("The answer from %s is not valid HTTP (the status line 'SSH-2.0-OpenSSH_9.6' is not "
                                 "'HTTP/1.x NNN reason'). Something other than IMDS may be listening on this address."
                                 % URL)
    assert not caught.value.retryable


def test_a_closed_connection_without_an_answer_is_a_reset():
    with pytest.raises(_errors.ImdsConnectionResetError, match="closed before a complete answer arrived"):
        read_bytes(b"")


def test_headers_are_lower_case_and_repeated_ones_joined():
    response = read_bytes(b"HTTP/1.1 503 Busy\r\nX-A: 1\r\nx-a: 2\r\nContent-Type: Text/Plain; charset=x\r\n"
                          b"Content-Length: 0\r\n\r\n")
    assert (response.status, response.reason, response.body) == (503, "Busy", b"")
    assert response.headers["x-a"] == "1, 2" and response.content_type == "text/plain"


def test_a_long_reason_is_shortened():
    response = read_bytes(b"HTTP/1.1 500 " + b"r" * 300 + b"\r\nContent-Length: 0\r\n\r\n")
    assert response.reason == "r" * _transport.REASON_LIMIT + "..."


def test_message_for_the_deadline():
    error = _transport_errors.read_timeout_error(URL, 2.5)
    assert str(error) == (
        "IMDS at %s accepted the connection but did not answer within 2.5 s (the timeout option bounds each attempt: "
        "connecting, the status line, the headers and the body together). It may be overloaded, or something "
        "other than IMDS holds this address. %s" % (URL, _errors.ROUTE_HINT))
    assert error.url == URL and error.retryable


def test_message_for_a_refused_connection():
    from helpers.ports import free_port  # pylint: disable=import-outside-toplevel

    endpoint = _transport.Endpoint("http://127.0.0.1:%d" % free_port())
    with pytest.raises(_errors.ImdsUnreachableError) as caught:
        _transport.send(endpoint, "GET", "/metadata/instance", {}, connect_timeout=1.0, read_timeout=2.0)
    url = endpoint.base_url + "/metadata/instance"
    assert str(caught.value) == (
        "IMDS at %s refused the connection: nothing listens on that address and port. If you overrode the "
        "endpoint (option endpoint or AZURE_IMDS_ENDPOINT), check it. %s" % (url, _errors.ROUTE_HINT))
    assert caught.value.url == url


def test_message_for_an_invalid_endpoint():
    with pytest.raises(_errors.ImdsRequestError) as caught:
        _transport.Endpoint("https://user:pw@h:0/x?y#z")
    assert str(caught.value) == (
        "Invalid IMDS endpoint 'https://user:pw@h:0/x?y#z': the scheme must be http (IMDS has no TLS); "
        "credentials are not allowed; give only scheme, host and port; the client adds /metadata/...; "
        "the port must be a number from 1 to 65535, got '0'. Example: http://169.254.169.254 or "
        "http://127.0.0.1:8080.")
    with pytest.raises(_errors.ImdsRequestError, match="a host is required"):
        _transport.Endpoint("http://:80")


def test_the_whole_exchange_over_a_real_socket(emulator):
    response = _transport.send(_transport.Endpoint(emulator.url), "GET", "/metadata/versions",
                               {"Metadata": "true"}, connect_timeout=2.0, read_timeout=5.0, max_body_bytes=4096)
    assert response.status == 200 and response.content_type == "application/json"
    assert json.loads(response.body)["apiVersions"]
    assert emulator.requests[0].headers["metadata"] == "true"


@pytest.mark.parametrize("error, text", [
    (ValueError("ValueError: already named"), "ValueError: already named"),
    (ValueError(""), "ValueError"),
    (OSError("no route"), "OSError: no route"),
    (ValueError("bad \x1b[31m"), "ValueError: bad  [31m"),
])
def test_describe_names_the_exception_once_and_printably(error, text):
    assert _transport_errors.describe(error) == text


@pytest.mark.parametrize("reason, kwargs, text", [
    (_transport_errors.CONNECT_TIMED_OUT, {"connect_timeout": 1.5},
     "No connection to IMDS at %s within 1.5 s (connect timed out): no route leads there, or packets are dropped on "
     "the way."),
    (_transport_errors.CONNECT_REFUSED, {},
     "IMDS at %s refused the connection: nothing listens on that address and port. "
     "If you overrode the endpoint (option endpoint or AZURE_IMDS_ENDPOINT), check it."),
    (_transport_errors.NO_ROUTE, {"detail": "OSError: [Errno 113] No route to host"},
     "Could not connect to IMDS at %s: there is no route to it (OSError: [Errno 113] No route to host)."),
    ("PermissionError: denied", {}, "Could not connect to IMDS at %s: PermissionError: denied."),
])
def test_messages_for_connections_that_could_not_be_made(reason, kwargs, text):
    error = _transport_errors.unreachable_error(URL, reason, **kwargs)
    assert str(error) == (text % URL) + " " + _errors.ROUTE_HINT
    assert error.url == URL and error.retryable


def test_a_request_is_serialised_as_send_writes_it():
    endpoint = _transport.Endpoint("http://169.254.169.254")
    raw = _windows_transport.request_bytes(endpoint, "POST", "/metadata/scheduledevents?api-version=2020-07-01",
                                           {"Metadata": "true"}, b"{}")
    assert raw.startswith(b"POST /metadata/scheduledevents?api-version=2020-07-01 HTTP/1.1\r\n")
    assert b"\r\nMetadata: true\r\n" in raw and b"\r\nConnection: close\r\n" in raw and raw.endswith(b"\r\n\r\n{}")
    with pytest.raises(_errors.ImdsRequestError, match="Cannot build the HTTP request"):
        _windows_transport.request_bytes(endpoint, "GET", "/metadata/x\r\nX-Forwarded-For: 1", {})


def test_an_answer_received_elsewhere_is_read_with_the_same_checks():
    endpoint = _transport.Endpoint("http://169.254.169.254")
    answer = _windows_transport.parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", endpoint, "GET", "/metadata/x")
    assert (answer.status, answer.body) == (200, b"{}")
    with pytest.raises(_errors.ImdsBadResponseError, match="invalid Content-Length"):
        _windows_transport.parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\n{}", endpoint, "GET", "/metadata/x")
    with pytest.raises(_errors.ImdsResponseTooLargeError, match="4-byte limit"):
        _windows_transport.parse_response(b"HTTP/1.1 200 OK\r\n\r\n12345", endpoint, "GET", "/metadata/x", max_body_bytes=4)
    assert str(_transport_errors.too_large_error(URL, 9)).startswith(
        "The answer from %s is larger than the 9-byte limit (more than 9 bytes arrived)." % URL)
    assert str(_transport_errors.talk_failed_error(URL, "ConnectionResetError: reset")) == (
        "The connection to IMDS at %s failed while talking (ConnectionResetError: reset)." % URL)


# -- the HTTP/1.1 rules the reader and the request writer apply (no http.client behind them) ------

def test_interim_answers_are_skipped_and_folded_headers_joined():
    response = read_bytes(b"HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
                          b"HTTP/1.0 200 OK\r\nX-Long: first\r\n \t second\r\nContent-Length: 2\r\n\r\n{}")
    assert (response.status, response.body) == (200, b"{}")
    assert response.headers == {"x-long": "first second", "content-length": "2"}


def test_trailers_after_the_last_chunk_are_read_and_dropped():
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n"
    assert read_bytes(data + b"\r\n").body == b"abc0123456789"
    assert read_bytes(data).body == b"abc0123456789"  # closed before the empty line: the body was complete


LONG = "x" * 70


@pytest.mark.parametrize("data, detail", [
    (b"HTTP/2 200 OK\r\n\r\n", "the status line 'HTTP/2 200 OK' is not 'HTTP/1.x NNN reason'"),
    (b"HTTP/1.1 099 Low\r\n\r\n", "the status line 'HTTP/1.1 099 Low' is not 'HTTP/1.x NNN reason'"),
    (b"HTTP/1.1 2000 OK\r\n\r\n", "the status line 'HTTP/1.1 2000 OK' is not 'HTTP/1.x NNN reason'"),
    (b"HTTP/1.1 2" + LONG.encode() + b"\r\n\r\n",
     "the status line 'HTTP/1.1 2%s...' is not 'HTTP/1.x NNN reason'" % ("x" * 50)),
    (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "the header line 'no colon here' is not 'Name: value'"),
    (b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "the header line 'Bad Name: x' is not 'Name: value'"),
    (b"HTTP/1.1 200 OK\r\n folded first\r\n\r\n", "the header line 'folded first' is not 'Name: value'"),
    (b"HTTP/1.1 200 OK\r\n" + LONG.encode() + b"\r\n\r\n",
     "the header line '%s...' is not 'Name: value'" % ("x" * 60)),
    (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 101 + b"\r\n", "more than 100 header lines"),
    (b"HTTP/1.1 200 OK\r\nX: " + b"y" * 70000 + b"\r\n\r\n", "a line is longer than 65536 bytes"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
     "Transfer-Encoding 'gzip, chunked', which IMDS never sends"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: " + LONG.encode() + b"\r\n\r\n",
     "Transfer-Encoding '%s...', which IMDS never sends" % ("x" * 40)),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
     "the chunk size line '0x5' is not a hexadecimal number"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n", "the chunk size line '-5' is not a hexadecimal number"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + LONG.encode() + b"\r\n",
     "the chunk size line '%s...' is not a hexadecimal number" % ("x" * 40)),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n",
     "a chunk is longer than its size line says"),
])
def test_answers_that_break_http_framing_are_bad_responses(data, detail):
    with pytest.raises(_errors.ImdsBadResponseError) as caught:
        read_bytes(data, cap=1 << 20)
    assert str(caught.value) == ("The answer from %s is not valid HTTP (%s). Something other than IMDS may be listening "
                                 "on this address." % (URL, detail))
    assert caught.value.url == URL and not caught.value.retryable


@pytest.mark.parametrize("data, detail", [
    (b"HTTP/1.1 200 OK\r\nContent-Le", "the connection closed in the middle of the headers"),
    (b"HTTP/1.1 200 OK\r\n", "the connection closed in the middle of the headers"),
    (b"HTTP/1.1 100 Continue\r\n\r\n", "no status line arrived"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "body truncated: 3 bytes read, 2 more expected"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello", "a chunk was cut short"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", "the chunked body ended before its last chunk"),
])
def test_answers_cut_short_are_resets(data, detail):
    with pytest.raises(_errors.ImdsConnectionResetError) as caught:
        read_bytes(data)
    assert str(caught.value) == ("The connection to IMDS at %s was closed before a complete answer arrived (%s)."
                                 % (URL, detail))
    assert caught.value.url == URL and caught.value.retryable


def test_chunk_extensions_are_ignored_whatever_they_hold():
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=1;b=2\r\nhello\r\n0;last\r\n"
    assert read_bytes(data).body == b"hello"  # closed right after the last chunk: complete, no trailers


def test_header_values_lose_spaces_and_tabs_around_them_only():
    response = read_bytes(b"HTTP/1.1 200 MAX\r\nX-A: \t v\x0b \t\r\nX-B: one\r\n\ttwo \r\nContent-Length: 0\r\n\r\n")
    assert response.headers["x-a"] == "v\x0b" and response.headers["x-b"] == "one two"
    assert response.reason == "MAX"


def test_a_status_line_without_reason_and_exactly_100_headers_are_fine():
    response = read_bytes(b"HTTP/1.1 204\r\n" + b"".join(b"X-%d: v\r\n" % n for n in range(99)) +
                          b"Content-Length: 0\r\n\r\n")
    assert (response.status, response.reason, len(response.headers)) == (204, "", 100)


def test_a_line_of_exactly_the_limit_is_read_and_no_more_is_buffered():
    value = b"v" * (_transport.MAX_LINE_BYTES - len(b"X: \r\n"))
    assert read_bytes(b"HTTP/1.1 200 OK\r\nX: " + value + b"\r\nContent-Length: 0\r\n\r\n").headers["x"] == value.decode()
    endless = _CountingPeer(b"HTTP/1.1 200 OK\r\nX: " + b"v" * (4 << 20))
    with pytest.raises(_errors.ImdsBadResponseError, match="a line is longer than 65536 bytes"):
        _transport.read_response(endless.stream(), "GET", URL, 64, 2.5)
    assert endless.delivered < 2 * _transport.MAX_LINE_BYTES  # the line was not read whole first


def test_bodies_framed_every_way_at_exactly_the_cap():
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n" + b"c" * 32 + b"\r\n20\r\n" + b"d" * 32
    assert read_bytes(chunked + b"\r\n0\r\n\r\n").body == b"c" * 32 + b"d" * 32
    with pytest.raises(_errors.ImdsResponseTooLargeError) as caught:
        read_bytes(chunked + b"\r\n1\r\nx\r\n0\r\n\r\n")
    assert caught.value.url == URL and "(more than 64 bytes arrived)" in str(caught.value)
    with pytest.raises(_errors.ImdsResponseTooLargeError) as caught:
        read_bytes(b"HTTP/1.1 200 OK\r\n\r\n" + b"y" * 65)
    assert caught.value.url == URL


def test_a_body_until_close_arriving_in_pieces_comes_back_whole():
    from test_fuzz_transport import peer_stream  # pylint: disable=import-outside-toplevel

    response = _transport.read_response(peer_stream(b"HTTP/1.1 200 OK\r\n\r\n0123456789", [3]), "GET", URL, 64, 2.5)
    assert response.body == b"0123456789"


def test_answers_to_head_have_no_body():
    from test_fuzz_transport import peer_stream  # pylint: disable=import-outside-toplevel

    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
    assert _transport.read_response(peer_stream(raw), "HEAD", URL, 64, 2.5).body == b""
    assert _windows_transport.parse_response(raw, _transport.Endpoint("http://127.0.0.1:8080"), "HEAD", "/metadata/x").body == b""
    with pytest.raises(_errors.ImdsConnectionResetError):
        _windows_transport.parse_response(raw, _transport.Endpoint("http://127.0.0.1:8080"), "GET", "/metadata/x")


def test_an_answer_received_elsewhere_names_its_url_in_errors():
    endpoint = _transport.Endpoint("http://127.0.0.1:8080")
    with pytest.raises(_errors.ImdsBadResponseError) as caught:
        _windows_transport.parse_response(b"junk\r\n\r\n", endpoint, "GET", "/metadata/x")
    assert caught.value.url == "http://127.0.0.1:8080/metadata/x"


class _CountingPeer:
    """A peer whose bytes are counted as the reader takes them (socket-like: up to 8 KiB a read)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.delivered = 0

    def stream(self) -> io.BufferedReader:
        peer = self

        class _Raw(io.RawIOBase):
            def readable(self):
                return True

            def readinto(self, buffer):
                piece = peer.data[peer.delivered:peer.delivered + min(len(buffer), 8192)]
                buffer[:len(piece)] = piece
                peer.delivered += len(piece)
                return len(piece)

        return io.BufferedReader(_Raw())


def _failing_stream(error: BaseException) -> io.BufferedReader:
    """A peer's stream whose every read raises ``error`` (a broken socket, or one whose timeout expires)."""

    class _Raw(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            raise error

    return io.BufferedReader(_Raw())


def test_a_read_that_fails_is_a_talk_failure_naming_the_url():
    with pytest.raises(_errors.ImdsConnectionResetError) as caught:
        _transport.read_response(_failing_stream(OSError(5, "Input/output error")), "GET", URL, 64, 2.5)
    assert str(caught.value) == ("The connection to IMDS at %s failed while talking (OSError: [Errno 5] Input/output "
                                 "error)." % URL)
    assert caught.value.url == URL


class _FakeSocket:
    """What socket.create_connection returns, as far as send() uses it."""

    def __init__(self, fail_send=None, answer=b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"):
        self.fail_send = fail_send
        self.answer = answer
        self.timeouts = []
        self.sent = b""
        self.closed = False

    def settimeout(self, value):
        self.timeouts.append(value)

    def sendall(self, data):
        if self.fail_send is not None:
            raise self.fail_send
        self.sent += data

    def recv_into(self, buffer):
        piece, self.answer = self.answer[:len(buffer)], self.answer[len(buffer):]
        buffer[:len(piece)] = piece
        return len(piece)

    def close(self):
        self.closed = True


@pytest.fixture
def connections(monkeypatch):
    """socket.create_connection replaced: records its calls, returns or raises what the test sets."""
    calls = []
    outcome = {}

    def create_connection(address, timeout=None):
        calls.append((address, timeout))
        if "error" in outcome:
            raise outcome["error"]
        return outcome["socket"]

    monkeypatch.setattr(_transport.socket, "create_connection", create_connection)
    return calls, outcome


ENDPOINT = _transport.Endpoint("http://127.0.0.1:8080")
SENT_URL = "http://127.0.0.1:8080/metadata/x"


@pytest.mark.parametrize("error, text", [
    (socket.timeout("timed out"),
     "No connection to IMDS at %s within 1.5 s (connect timed out): no route leads there, or packets are dropped on "
     "the way."),
    (OSError(errno.ENETUNREACH, "Network is unreachable"),
     "Could not connect to IMDS at %s: there is no route to it (OSError: [Errno 101] Network is unreachable)."),
    (PermissionError(errno.EACCES, "Permission denied"),
     "Could not connect to IMDS at %s: PermissionError: [Errno 13] Permission denied."),
])
def test_connections_that_cannot_be_made_say_why(connections, error, text):
    calls, outcome = connections
    outcome["error"] = error
    with pytest.raises(_errors.ImdsUnreachableError) as caught:
        _transport.send(ENDPOINT, "GET", "/metadata/x", {}, connect_timeout=1.5, read_timeout=4.0)
    assert str(caught.value) == (text % SENT_URL) + " " + _errors.ROUTE_HINT
    assert caught.value.url == SENT_URL
    assert calls == [(("127.0.0.1", 8080), 1.5)]


def test_the_connect_limit_is_the_smaller_of_the_two_timeouts(connections):
    calls, outcome = connections
    outcome["socket"] = _FakeSocket()
    assert _transport.send(ENDPOINT, "GET", "/metadata/x", {}, connect_timeout=2.0, read_timeout=0.5).body == b"{}"
    assert calls == [(("127.0.0.1", 8080), 0.5)]
    sock = outcome["socket"]
    assert sock.closed and sock.sent.startswith(b"GET /metadata/x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n")
    assert all(0 < value <= 0.5 for value in sock.timeouts)


@pytest.mark.parametrize("error, cls, text", [
    (socket.timeout("timed out"), _errors.ImdsTimeoutError,
     "IMDS at %s accepted the connection but did not answer within 3.0 s"),
    (BrokenPipeError(errno.EPIPE, "Broken pipe"), _errors.ImdsConnectionResetError,
     "The connection to IMDS at %s failed while talking (BrokenPipeError: [Errno 32] Broken pipe)."),
])
def test_a_request_that_cannot_be_sent_says_why(connections, error, cls, text):
    _calls, outcome = connections
    outcome["socket"] = _FakeSocket(fail_send=error)
    with pytest.raises(cls) as caught:
        _transport.send(ENDPOINT, "GET", "/metadata/x", {}, connect_timeout=1.0, read_timeout=3.0)
    assert str(caught.value).startswith(text % SENT_URL)
    assert caught.value.url == SENT_URL and outcome["socket"].closed


def test_the_deadline_is_what_remains_of_the_attempt(monkeypatch):
    sock = _FakeSocket()
    monkeypatch.setattr(_transport.time, "monotonic", lambda: 100.0)
    _transport._limit_to_deadline(sock, 104.5)  # pylint: disable=protected-access
    assert sock.timeouts == [4.5]
    with pytest.raises(socket.timeout, match="the attempt's deadline has passed"):
        _transport._limit_to_deadline(sock, 100.0)  # pylint: disable=protected-access
    assert sock.timeouts == [4.5]


@pytest.mark.parametrize("method, path, headers, problem", [
    ("GET\r\nX", "/metadata/x", {}, "the method 'GET\\r\\nX' is not an HTTP token"),
    ("GET", "metadata/x", {}, "the path must start with / and hold no spaces or control characters"),
    ("GET", "/metadata/x y", {}, "the path must start with / and hold no spaces or control characters"),
    ("GET", "/metadata/\x7f", {}, "the path must start with / and hold no spaces or control characters"),
    ("GET", "/metadata/x", {"Bad Name": "1"}, "the header 'Bad Name' holds characters a header cannot hold"),
    ("GET", "/metadata/x", {"X-A:": "1"}, "the header 'X-A:' holds characters a header cannot hold"),
    ("GET", "/metadata/x", {"X-A": "1\x00"}, "the header 'X-A' holds characters a header cannot hold"),
    ("GET", "/metadata/x", {"X" * 50: "1\n"}, "the header '%s...' holds characters a header cannot hold" % ("X" * 40)),
])
def test_requests_that_could_smuggle_or_break_a_line_are_refused(method, path, headers, problem):
    with pytest.raises(_errors.ImdsRequestError) as caught:
        _windows_transport.request_bytes(ENDPOINT, method, path, headers)
    assert str(caught.value) == "Cannot build the HTTP request for http://127.0.0.1:8080%s: %s" % (
        _errors.excerpt(path), problem)


@pytest.mark.parametrize("path, headers", [("/metadata/\u00e9", {}), ("/metadata/x", {"X-A": "caf\u00e9"})])
def test_requests_with_characters_other_than_ascii_are_refused(path, headers):
    with pytest.raises(_errors.ImdsRequestError) as caught:
        _windows_transport.request_bytes(ENDPOINT, "GET", path, headers)
    assert str(caught.value) == ("Cannot build the HTTP request for http://127.0.0.1:8080%s: it holds characters "
                                 "other than ASCII." % path)


def test_no_content_answers_have_no_body_whatever_follows():
    assert read_bytes(b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello").body == b""
    assert read_bytes(b"HTTP/1.1 304 Not Modified\r\n\r\n").body == b""


@pytest.mark.parametrize("endpoint, host", [
    ("http://169.254.169.254", b"Host: 169.254.169.254\r\n"),
    ("http://127.0.0.1:8080", b"Host: 127.0.0.1:8080\r\n"),
    ("http://[::1]:81", b"Host: [::1]:81\r\n"),
    ("http://[fe80::1]", b"Host: [fe80::1]\r\n"),
])
def test_the_host_header_names_the_endpoint(endpoint, host):
    raw = _windows_transport.request_bytes(_transport.Endpoint(endpoint), "GET", "/metadata/versions", {})
    assert raw.split(b"\r\n", 1)[1].startswith(host)
    assert b"Content-Length" not in raw  # a GET without a body declares none


def test_a_post_without_a_body_declares_an_empty_one():
    raw = _windows_transport.request_bytes(_transport.Endpoint("http://127.0.0.1:8080"), "POST", "/metadata/x", {})
    assert b"\r\nContent-Length: 0\r\n" in raw and raw.endswith(b"\r\n\r\n")


def test_a_refused_request_sends_nothing(emulator):
    with pytest.raises(_errors.ImdsRequestError):
        _transport.send(_transport.Endpoint(emulator.url), "GET", "/metadata/x y", {"Metadata": "true"})
    assert emulator.requests == []


def test_a_tab_in_a_header_value_is_kept():
    raw = _windows_transport.request_bytes(_transport.Endpoint("http://127.0.0.1:8080"), "GET", "/m", {"X-A": "a\tb"})
    assert b"\r\nX-A: a\tb\r\n" in raw


@pytest.mark.skipif("MUTANT_UNDER_TEST" in os.environ, reason="mutmut's mutated files import mutmut's own runtime")
def test_the_transport_imports_no_http_client():
    """The reason this module parses HTTP itself: http.client and the email package cost each module run ~10 ms."""
    code = ("import json, sys; import ansible_collections.imds.azure.plugins.module_utils._module_adapter; "
            "print(json.dumps({'loaded': sorted(n for n in ('http.client', 'email.parser', 'email.utils', 'ssl') "
            "if n in sys.modules)}))")
    assert run_python(code) == {"loaded": []}


def test_errors_while_reading_name_the_url():
    with pytest.raises(_errors.ImdsTimeoutError) as caught:
        _transport.read_response(_failing_stream(socket.timeout("timed out")), "GET", URL, 64, 2.5)
    assert caught.value.url == URL and "did not answer within 2.5 s" in str(caught.value)
    with pytest.raises(_errors.ImdsBadResponseError) as caught:
        read_bytes(b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n")
    assert caught.value.url == URL


def test_a_bad_answer_to_a_sent_request_names_the_url(connections):
    _calls, outcome = connections
    outcome["socket"] = _FakeSocket(answer=b"SSH-2.0-OpenSSH_9.6\r\n")
    with pytest.raises(_errors.ImdsBadResponseError) as caught:
        _transport.send(ENDPOINT, "GET", "/metadata/x", {}, connect_timeout=1.0, read_timeout=3.0)
    assert caught.value.url == SENT_URL
