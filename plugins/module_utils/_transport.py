# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""One HTTP exchange with IMDS, on the Python standard library only.

Why ``http.client`` and not ``ansible.module_utils.urls.Request``: that helper
takes a single socket timeout (so a 2 s connect limit would also cut off a slow
but healthy answer), installs a process-wide urllib opener, and brings handlers
(proxies from the environment, redirects, file:// and ftp://) that IMDS must
never use. ``http.client`` does none of these things: it never reads proxy
variables, never follows a redirect, and lets us time the connect and the read
separately. A managed node still needs nothing beyond Python.

Every attempt has ONE deadline, ``read_timeout`` seconds after it starts:
connecting (itself at most ``connect_timeout``), sending, the status line, the
headers and the body all happen before it. A socket timeout alone would not do:
it restarts with every byte, so a peer sending one header byte a second could
hold a task for as long as it liked.
"""

from typing import Optional

import errno
import io
import ipaddress
import re
import socket
import sys


def _import_http_client_without_tls():
    """http.client, imported without loading the ssl module when nothing loaded it yet.

    IMDS is plain HTTP; http.client only imports ssl to offer HTTPSConnection, and loading
    OpenSSL costs every module run several milliseconds (Linux facts must stay as fast as
    ansible.builtin.ping). ``import ssl`` works again afterwards.
    """
    if "ssl" not in sys.modules:
        sys.modules["ssl"] = None  # type: ignore  # "import ssl" inside http.client now fails quietly
        try:
            import http.client  # pylint: disable=import-outside-toplevel,unused-import
        finally:
            del sys.modules["ssl"]
    import http.client  # pylint: disable=import-outside-toplevel,redefined-outer-name
    return http.client


http_client = _import_http_client_without_tls()
import time
from urllib.parse import urlsplit

from ansible_collections.imds.azure.plugins.module_utils._errors import (
    ImdsBadResponseError,
    ImdsConnectionResetError,
    ImdsRequestError,
    ImdsResponseTooLargeError,
    ImdsTimeoutError,
    ImdsUnreachableError,
    ROUTE_HINT,
    excerpt,
)

DEFAULT_ENDPOINT = "http://169.254.169.254"
CONNECT_TIMEOUT = 2.0
DEFAULT_READ_TIMEOUT = 10.0
MAX_BODY_BYTES = 1024 * 1024
READ_CHUNK_BYTES = 64 * 1024
# A reason phrase is a few words ("Too Many Requests"); more is shortened, never shown raw.
REASON_LIMIT = 80

_NO_ROUTE_ERRNOS = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL})
_PORT_RE = re.compile(r"[0-9]{1,5}")
_HOST_NAME_RE = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?")
# Content-Length in ASCII digits only: str.isdigit() also takes "²", which int() refuses.
_LENGTH_RE = re.compile(r"[0-9]{1,15}")


class Endpoint:
    """A validated ``http://host[:port]`` base address."""

    __slots__ = ("host", "port", "base_url")

    def __init__(self, url: str) -> None:
        try:
            parts = urlsplit(url.strip())
        except ValueError as exc:  # "[::1" or a bracketed IPv4 address, for example
            raise ImdsRequestError("Invalid IMDS endpoint %r: %s. Example: http://169.254.169.254 or "
                                   "http://127.0.0.1:8080." % (url, exc))
        problems = []
        if parts.scheme != "http":
            problems.append("the scheme must be http (IMDS has no TLS)")
        if not parts.hostname:
            problems.append("a host is required")
        elif not _valid_host(parts.hostname):
            problems.append("%r is not a host name or IP address" % parts.hostname)
        if parts.username or parts.password:
            problems.append("credentials are not allowed")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            problems.append("give only scheme, host and port; the client adds /metadata/...")
        port = _port(parts.netloc, problems)
        if problems:
            raise ImdsRequestError(
                "Invalid IMDS endpoint %r: %s. Example: http://169.254.169.254 or http://127.0.0.1:8080."
                % (url, "; ".join(problems)))
        self.host = parts.hostname or ""
        self.port = port
        host_text = "[%s]" % self.host if ":" in self.host else self.host
        self.base_url = "http://%s:%d" % (host_text, port) if port != 80 else "http://%s" % host_text


def _valid_host(host: str) -> bool:
    if ":" in host:
        try:
            return ipaddress.ip_address(host).version == 6
        except ValueError:
            return False
    return bool(_HOST_NAME_RE.fullmatch(host))


def _port(netloc: str, problems: list) -> int:
    """The port of ``[user@]host[:port]``: 80 when absent; 1 to 65535 in ASCII digits otherwise."""
    host_port = netloc.rpartition("@")[2]
    if host_port.startswith("["):
        rest = host_port.partition("]")[2]
    else:
        rest = host_port[host_port.find(":"):] if ":" in host_port else ""
    text = rest[1:]
    if rest in ("", ":"):
        return 80
    if rest.startswith(":") and _PORT_RE.fullmatch(text) and 1 <= int(text) <= 65535:
        return int(text)
    problems.append("the port must be a number from 1 to 65535, got %r" % (text if rest.startswith(":") else rest))
    return 80


class HttpResponse:
    """Status, headers (lower-case names) and the complete body of one answer.

    The reason phrase is made printable here, for every transport: it is untrusted
    text that error messages quote (ANSI escapes in it must not reach a terminal).
    """

    __slots__ = ("status", "reason", "headers", "body")

    def __init__(self, status: int, reason: str, headers: dict, body: bytes) -> None:
        self.status = status
        self.reason = excerpt(reason, REASON_LIMIT)
        self.headers = headers
        self.body = body

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def send(endpoint: Endpoint, method: str, path: str, headers: dict, body: Optional[bytes] = None,
         connect_timeout: float = CONNECT_TIMEOUT, read_timeout: float = DEFAULT_READ_TIMEOUT,
         max_body_bytes: int = MAX_BODY_BYTES) -> HttpResponse:
    """Send one request and return the full answer, whatever its status.

    The whole exchange ends within ``read_timeout`` seconds (see the module doc).
    Raises the transport errors of ``_errors``: unreachable, timeout, reset,
    bad response, too large.
    """
    url = endpoint.base_url + path
    deadline = time.monotonic() + read_timeout
    connect_limit = min(connect_timeout, read_timeout)
    connection = http_client.HTTPConnection(endpoint.host, endpoint.port, timeout=connect_limit)
    try:
        _connect(connection, url, connect_limit)
        try:
            _limit_to_deadline(connection.sock, deadline)
            connection.request(method, path, body=body, headers=headers)
        except socket.timeout:
            raise read_timeout_error(url, read_timeout)
        except OSError as exc:
            raise talk_failed_error(url, _describe(exc))
        return read_response(_DeadlineSocket(connection.sock, deadline), method, url, max_body_bytes,
                             read_timeout)
    finally:
        connection.close()


def read_response(source, method: str, url: str, max_body_bytes: int = MAX_BODY_BYTES,
                  time_limit: float = DEFAULT_READ_TIMEOUT) -> HttpResponse:
    """Read one complete answer (status line, headers, body) from ``source``.

    ``source`` is what ``http.client.HTTPResponse`` reads: an object whose ``makefile("rb")``
    gives the byte stream. Every failure becomes a typed error; ``time_limit`` only words
    the timeout message.
    """
    response = http_client.HTTPResponse(source, method=method)
    try:
        response.begin()
        payload = _read_body(response, url, max_body_bytes)
    except socket.timeout:
        raise read_timeout_error(url, time_limit)
    except (http_client.IncompleteRead, ConnectionError) as exc:
        raise ImdsConnectionResetError(
            "The connection to IMDS at %s was closed before a complete answer arrived (%s)."
            % (url, _describe(exc)), url=url)
    except (http_client.HTTPException, ValueError) as exc:
        raise ImdsBadResponseError(
            "The answer from %s is not valid HTTP (%s). Something other than IMDS may be "
            "listening on this address." % (url, _describe(exc)), url=url)
    except OSError as exc:
        raise talk_failed_error(url, _describe(exc))
    finally:
        response.close()
    headers_out = {}
    for name, value in response.getheaders():
        key = name.lower()
        headers_out[key] = headers_out[key] + ", " + value if key in headers_out else value
    return HttpResponse(response.status, response.reason, headers_out, payload)


def request_bytes(endpoint: Endpoint, method: str, path: str, headers: dict, body: Optional[bytes] = None) -> bytes:
    """The exact bytes ``send`` writes for this request, plus ``Connection: close``.

    For transports that hand the bytes to another machine to send (the Windows host):
    the same serialisation and the same refusal of line breaks in the path or headers,
    and a connection the server closes after its answer, so the end of the answer is
    the end of the stream.
    """
    connection = http_client.HTTPConnection(endpoint.host, endpoint.port)
    connection.sock = _RecordingSocket()
    try:
        connection.request(method, path, body=body, headers=dict(headers, Connection="close"))
    except (ValueError, http_client.HTTPException) as exc:
        raise ImdsRequestError("Cannot build the HTTP request for %s%s: %s" % (endpoint.base_url, path, exc))
    return connection.sock.data


def parse_response(raw: bytes, endpoint: Endpoint, method: str, path: str,
                   max_body_bytes: int = MAX_BODY_BYTES) -> HttpResponse:
    """Read an answer that another machine received, with the checks ``send`` applies.

    ``raw`` is everything the server sent until it closed the connection: status line,
    headers, body (chunked or not). A body that stops short of its Content-Length, or
    that is larger than ``max_body_bytes``, fails exactly as it would in ``send``.
    """
    return read_response(_ReplaySocket(raw), method, endpoint.base_url + path, max_body_bytes, 0.0)


def too_large_error(url: str, limit: int) -> ImdsResponseTooLargeError:
    """The error for an answer that went on past ``limit`` bytes."""
    return _too_large(url, limit, "more than %d bytes arrived" % limit)


def talk_failed_error(url: str, detail: str) -> ImdsConnectionResetError:
    """The error for a connection that broke while the request or the answer was under way."""
    return ImdsConnectionResetError(
        "The connection to IMDS at %s failed while talking (%s)." % (url, detail), url=url)


class _RecordingSocket:
    """Stands in for a socket to capture what http.client would send."""

    def __init__(self) -> None:
        self.data = b""

    def sendall(self, data: bytes) -> None:
        self.data += bytes(data)

    def close(self) -> None:
        pass


class _ReplaySocket:
    """Stands in for a socket whose whole answer has already arrived."""

    def __init__(self, raw: bytes) -> None:
        self._raw = raw

    def makefile(self, mode: str, *_args, **_kwargs):
        return io.BytesIO(self._raw)

    def settimeout(self, value) -> None:
        pass


class _DeadlineStream(io.RawIOBase):
    """The bytes arriving on a socket; no read waits past the attempt's deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        _limit_to_deadline(self._sock, self._deadline)
        return self._sock.recv_into(buffer)


class _DeadlineSocket:
    """Gives ``http.client.HTTPResponse`` a stream whose every read obeys the deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str, *_args, **_kwargs) -> io.BufferedReader:
        if mode != "rb":
            raise ValueError("only binary reading is supported")
        return io.BufferedReader(_DeadlineStream(self._sock, self._deadline))


def _limit_to_deadline(sock: socket.socket, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise socket.timeout("the attempt's deadline has passed")
    sock.settimeout(remaining)


def _connect(connection: http_client.HTTPConnection, url: str, connect_timeout: float) -> None:
    try:
        connection.connect()
    except socket.timeout:
        raise unreachable_error(url, CONNECT_TIMED_OUT, connect_timeout=connect_timeout)
    except ConnectionRefusedError:
        raise unreachable_error(url, CONNECT_REFUSED)
    except OSError as exc:
        raise unreachable_error(url, NO_ROUTE if exc.errno in _NO_ROUTE_ERRNOS else _describe(exc),
                                detail=_describe(exc))


# Why a connection could not be made, as ``unreachable_error`` takes it.
CONNECT_TIMED_OUT = "timed out"
CONNECT_REFUSED = "refused"
NO_ROUTE = "no route"


def unreachable_error(url: str, reason: str, connect_timeout: float = CONNECT_TIMEOUT,
                      detail: str = "") -> ImdsUnreachableError:
    """The error for a connection that could not be made; ``reason`` is one of the constants above
    or a description of the failure."""
    if reason == CONNECT_TIMED_OUT:
        text = ("No connection to IMDS at %s within %.1f s (connect timed out): no route leads there, "
                "or packets are dropped on the way." % (url, connect_timeout))
    elif reason == CONNECT_REFUSED:
        text = ("IMDS at %s refused the connection: nothing listens on that address and port. "
                "If you overrode the endpoint (option endpoint or AZURE_IMDS_ENDPOINT), check it." % url)
    elif reason == NO_ROUTE:
        text = "Could not connect to IMDS at %s: there is no route to it (%s)." % (url, detail)
    else:
        text = "Could not connect to IMDS at %s: %s." % (url, reason)
    return ImdsUnreachableError("%s %s" % (text, ROUTE_HINT), url=url)


def _read_body(response: http_client.HTTPResponse, url: str, max_body_bytes: int) -> bytes:
    declared = response.getheader("Content-Length")
    if declared is not None and not response.chunked:
        if not _LENGTH_RE.fullmatch(declared.strip()):
            raise ImdsBadResponseError(
                "The answer from %s has an invalid Content-Length %r (not one number in ASCII digits). "
                "IMDS never sends that; something else answered." % (url, excerpt(declared, 40)), url=url)
        if int(declared) > max_body_bytes:
            raise _too_large(url, max_body_bytes, "declared %s bytes" % declared.strip())
    chunks = []
    received = 0
    while True:
        chunk = response.read1(READ_CHUNK_BYTES)
        if not chunk:
            break
        received += len(chunk)
        if received > max_body_bytes:
            raise _too_large(url, max_body_bytes, "more than %d bytes arrived" % max_body_bytes)
        chunks.append(chunk)
    if response.length:
        raise http_client.IncompleteRead(b"".join(chunks), response.length)
    return b"".join(chunks)


def read_timeout_error(url: str, time_limit: float) -> ImdsTimeoutError:
    """The error for a connection that stood but brought no complete answer within the attempt's time."""
    return ImdsTimeoutError(
        "IMDS at %s accepted the connection but did not answer within %.1f s (the timeout option bounds "
        "each attempt: connecting, the status line, the headers and the body together). It may be "
        "overloaded, or something other than IMDS holds this address. %s" % (url, time_limit, ROUTE_HINT),
        url=url)


def _too_large(url: str, limit: int, detail: str) -> ImdsResponseTooLargeError:
    return ImdsResponseTooLargeError(
        "The answer from %s is larger than the %d-byte limit (%s). IMDS documents are a few "
        "kilobytes; a proxy or another server probably answered. Query a narrower path "
        "(for example instance/compute) if you really need more." % (url, limit, detail), url=url)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, http_client.IncompleteRead):
        return "body truncated: %d bytes read, %s more expected" % (len(exc.partial), exc.expected)
    text = excerpt(str(exc)) or type(exc).__name__
    return "%s: %s" % (type(exc).__name__, text) if type(exc).__name__ not in text else text
