# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""One HTTP/1.1 exchange with IMDS, on the Python standard library's sockets only.

Why not ``ansible.module_utils.urls.Request``: it takes a single socket timeout (so a
2 s connect limit would also cut off a slow but healthy answer), installs a
process-wide urllib opener, and brings handlers (proxies from the environment,
redirects, file:// and ftp://) that IMDS must never use. Why not ``http.client``:
importing it (and the ``email`` package it parses headers with) costs every module
run about 10 ms, more than the whole request, and Linux facts must stay as fast as
``ansible.builtin.ping``. IMDS speaks a small part of HTTP/1.1, so the few rules
it needs are written out below: one request, a status line, at most
``MAX_HEADERS`` header lines of at most ``MAX_LINE_BYTES`` each, then a body framed
by ``Content-Length``, by chunked encoding, or by the end of the connection. No
proxy variable is ever read and no redirect is followed: nothing here knows how.
A managed node still needs nothing beyond Python.

Every attempt has ONE deadline, ``read_timeout`` seconds after it starts:
connecting (itself at most ``connect_timeout``), sending, the status line, the
headers and the body all happen before it. A socket timeout alone would not do:
it restarts with every byte, so a peer sending one header byte a second could
hold a task for as long as it liked.
"""

from typing import Optional

import io
import ipaddress
import re
import socket
import time
from urllib.parse import urlsplit

from ansible_collections.imds.azure.plugins.module_utils._errors import (
    ImdsBadResponseError,
    ImdsRequestError,
    excerpt,
)
from ansible_collections.imds.azure.plugins.module_utils._transport_errors import (
    connect_error,
    cut_short_error,
    describe,
    read_timeout_error,
    talk_failed_error,
    too_large_error,
)

DEFAULT_ENDPOINT = "http://169.254.169.254"
CONNECT_TIMEOUT = 2.0
DEFAULT_READ_TIMEOUT = 10.0
MAX_BODY_BYTES = 1024 * 1024
READ_CHUNK_BYTES = 64 * 1024
# A reason phrase is a few words ("Too Many Requests"); more is shortened, never shown raw.
REASON_LIMIT = 80

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
    Raises the transport errors of ``_errors``: request, unreachable, timeout, reset,
    bad response, too large.
    """
    url = endpoint.base_url + path
    request = serialise_request(endpoint, method, path, headers, body)  # refused before any packet leaves
    deadline = time.monotonic() + read_timeout
    sock = _connect(endpoint, url, min(connect_timeout, read_timeout))
    try:
        try:
            _limit_to_deadline(sock, deadline)
            sock.sendall(request)
        except socket.timeout:
            raise read_timeout_error(url, read_timeout)
        except OSError as exc:
            raise talk_failed_error(url, describe(exc))
        with io.BufferedReader(_DeadlineStream(sock, deadline)) as stream:
            return read_response(stream, method, url, max_body_bytes, read_timeout)
    finally:
        sock.close()


def read_response(stream, method: str, url: str, max_body_bytes: int = MAX_BODY_BYTES,
                  time_limit: float = DEFAULT_READ_TIMEOUT) -> HttpResponse:
    """Read one complete answer (status line, headers, body) from ``stream``.

    ``stream`` is a binary file-like object (``read`` and ``readline``) holding the bytes
    the peer sent, up to the end of the connection; the caller closes it. Every failure
    becomes a typed error; ``time_limit`` only words the timeout message.
    """
    try:
        status, reason, headers = _read_head(stream)
        payload = _read_body(stream, method, status, headers, url, max_body_bytes)
    except socket.timeout:
        raise read_timeout_error(url, time_limit)
    except _Truncated as exc:
        raise cut_short_error(url, excerpt(str(exc)))
    except ConnectionError as exc:
        raise cut_short_error(url, describe(exc))
    except _NotHttp as exc:
        raise ImdsBadResponseError(
            "The answer from %s is not valid HTTP (%s). Something other than IMDS may be "
            "listening on this address." % (url, excerpt(str(exc))), url=url)
    except OSError as exc:
        raise talk_failed_error(url, describe(exc))
    return HttpResponse(status, reason, headers, payload)


# A method is an HTTP token; a request target and header values hold no control characters
# or spaces (a line break there would let text from a task option add a header of its own).
_TOKEN_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_UNSAFE_TARGET_RE = re.compile(r"[\x00-\x20\x7f]")
_UNSAFE_VALUE_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


def serialise_request(endpoint: Endpoint, method: str, path: str, headers: dict, body: Optional[bytes]) -> bytes:
    """Request line and headers as HTTP/1.1 puts them on the wire, then the body.

    Refuses (ImdsRequestError) a method, path or header that could break the framing."""
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s" % _host_header(endpoint), "Accept-Encoding: identity"]
    if body is not None or method in _METHODS_WITH_BODY:
        lines.append("Content-Length: %d" % len(body or b""))
    lines.extend("%s: %s" % (name, value) for name, value in headers.items())
    problem = _request_problem(method, path, headers)
    if problem:
        raise ImdsRequestError("Cannot build the HTTP request for %s%s: %s" % (endpoint.base_url, excerpt(path), problem))
    try:
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
    except UnicodeEncodeError:
        raise ImdsRequestError("Cannot build the HTTP request for %s%s: it holds characters other than ASCII."
                               % (endpoint.base_url, excerpt(path)))
    return head + (body or b"")


def _request_problem(method: str, path: str, headers: dict) -> str:
    if not _TOKEN_RE.fullmatch(method):
        return "the method %r is not an HTTP token" % method
    if not path.startswith("/") or _UNSAFE_TARGET_RE.search(path):
        return "the path must start with / and hold no spaces or control characters"
    for name, value in headers.items():
        if not _TOKEN_RE.fullmatch(str(name)) or _UNSAFE_VALUE_RE.search(str(value)):
            return "the header %r holds characters a header cannot hold" % excerpt(str(name), 40)
    return ""


def _host_header(endpoint: Endpoint) -> str:
    host = "[%s]" % endpoint.host if ":" in endpoint.host else endpoint.host
    return host if endpoint.port == 80 else "%s:%d" % (host, endpoint.port)


# What an answer may hold before it is not HTTP from IMDS (the limits http.client also applies).
MAX_LINE_BYTES = 65536
MAX_HEADERS = 100
_STATUS_RE = re.compile(r"[1-9][0-9][0-9]")
_CHUNK_SIZE_RE = re.compile(rb"[0-9A-Fa-f]{1,15}")
_NO_BODY_STATUSES = frozenset({204, 304})
_LINE_ENDS = (b"\r\n", b"\n")


class _NotHttp(Exception):
    """The peer's bytes break HTTP/1.1 framing (the message says where)."""


class _Truncated(Exception):
    """The connection ended before the answer was complete (the message says how far it came)."""


def _read_line(stream) -> bytes:
    line = stream.readline(MAX_LINE_BYTES + 1)
    if len(line) > MAX_LINE_BYTES:
        raise _NotHttp("a line is longer than %d bytes" % MAX_LINE_BYTES)
    return line


def _read_head(stream) -> tuple:
    """Status, reason and headers of the final answer; interim 1xx answers are skipped."""
    while True:
        line = _read_line(stream)
        if not line:
            raise _Truncated("no status line arrived")
        status, reason = _status_line(line)
        headers = _header_lines(stream)
        if status >= 200:
            return status, reason, headers


def _status_line(line: bytes) -> tuple:
    text = line.decode("iso-8859-1").rstrip("\r\n")
    version, _space, rest = text.partition(" ")
    code, _space, reason = rest.partition(" ")
    if version not in ("HTTP/1.0", "HTTP/1.1") or not _STATUS_RE.fullmatch(code):
        raise _NotHttp("the status line %r is not 'HTTP/1.x NNN reason'" % excerpt(text, 60))
    return int(code), reason.strip()


def _header_lines(stream, closing_ends: bool = False) -> dict:
    """Header lines up to the empty line: lower-case names, repeated names joined with ", ".

    ``closing_ends``: the end of the connection also ends them (trailers after the last chunk,
    which nothing here reads: the body is already complete).
    """
    headers = {}
    name = ""
    for _count in range(MAX_HEADERS + 1):
        line = _read_line(stream)
        if line in _LINE_ENDS or (closing_ends and not line):
            return headers
        if not line.endswith(b"\n"):
            raise _Truncated("the connection closed in the middle of the headers")
        text = line.decode("iso-8859-1").rstrip("\r\n")
        if text[:1] in (" ", "\t") and name:  # an obsolete folded line continues the previous value
            headers[name] += " " + text.strip(" \t")
            continue
        name, colon, value = text.partition(":")
        if not colon or not _TOKEN_RE.fullmatch(name):
            raise _NotHttp("the header line %r is not 'Name: value'" % excerpt(text, 60))
        name = name.lower()
        value = value.strip(" \t")
        headers[name] = headers[name] + ", " + value if name in headers else value
    raise _NotHttp("more than %d header lines" % MAX_HEADERS)


def _read_body(stream, method: str, status: int, headers: dict, url: str, max_body_bytes: int) -> bytes:
    if method == "HEAD" or status in _NO_BODY_STATUSES:
        return b""
    coding = headers.get("transfer-encoding")
    if coding is not None:
        if coding.strip().lower() != "chunked":
            raise _NotHttp("Transfer-Encoding %r, which IMDS never sends" % excerpt(coding, 40))
        return _read_chunked(stream, url, max_body_bytes)
    declared = headers.get("content-length")
    if declared is None:
        return _read_until_closed(stream, url, max_body_bytes)
    if not _LENGTH_RE.fullmatch(declared.strip()):
        raise ImdsBadResponseError(
            "The answer from %s has an invalid Content-Length %r (not one number in ASCII digits). "
            "IMDS never sends that; something else answered." % (url, excerpt(declared, 40)), url=url)
    if int(declared) > max_body_bytes:
        raise too_large_error(url, max_body_bytes, "declared %s bytes" % declared.strip())
    return _read_exactly(stream, int(declared))


def _read_exactly(stream, length: int) -> bytes:
    chunks = []
    received = 0
    while received < length:
        chunk = stream.read(min(READ_CHUNK_BYTES, length - received))
        if not chunk:
            raise _Truncated("body truncated: %d bytes read, %d more expected" % (received, length - received))
        received += len(chunk)
        chunks.append(chunk)
    return b"".join(chunks)


def _read_until_closed(stream, url: str, max_body_bytes: int) -> bytes:
    chunks = []
    received = 0
    while True:
        chunk = stream.read(READ_CHUNK_BYTES)
        if not chunk:
            return b"".join(chunks)
        received += len(chunk)
        if received > max_body_bytes:
            raise too_large_error(url, max_body_bytes)
        chunks.append(chunk)


def _read_chunked(stream, url: str, max_body_bytes: int) -> bytes:
    chunks = []
    received = 0
    while True:
        size = _chunk_size(_read_line(stream))
        if size == 0:
            break
        received += size
        if received > max_body_bytes:
            raise too_large_error(url, max_body_bytes)
        chunks.append(_read_exactly(stream, size))
        end = _read_line(stream)
        if end not in _LINE_ENDS:
            raise _Truncated("a chunk was cut short") if not end else _NotHttp("a chunk is longer than its size line says")
    _header_lines(stream, closing_ends=True)  # trailers: read to the end of the answer, then dropped
    return b"".join(chunks)


def _chunk_size(line: bytes) -> int:
    if not line:
        raise _Truncated("the chunked body ended before its last chunk")
    text = line.split(b";", 1)[0].strip()
    if not _CHUNK_SIZE_RE.fullmatch(text):
        raise _NotHttp("the chunk size line %r is not a hexadecimal number" % excerpt(line.rstrip(b"\r\n"), 40))
    return int(text, 16)


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


def _limit_to_deadline(sock: socket.socket, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise socket.timeout("the attempt's deadline has passed")
    sock.settimeout(remaining)


def _connect(endpoint: Endpoint, url: str, connect_timeout: float) -> socket.socket:
    try:
        return socket.create_connection((endpoint.host, endpoint.port), timeout=connect_timeout)
    except OSError as exc:
        raise connect_error(url, exc, connect_timeout)
