# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Download issuing-CA certificates named by Authority Information Access (AIA), on the controller.

The URL comes from a certificate inside a document the VM handed over, so it is untrusted: it may
name the controller's own admin endpoints or cloud metadata (server-side request forgery). A URL
is followed only when every rule holds, and each redirect hop is checked by the same rules:

- ``http`` or ``https`` on its default port, no user name or password in it;
- its host is one of ``allowed_hosts`` (default: the AIA hosts on Microsoft's "Azure Certificate
  Authority details" page, ``DEFAULT_ALLOWED_HOSTS``);
- every address the host name resolves to is public (not loopback, private, link-local, shared
  100.64.0.0/10, multicast, unspecified or reserved, IPv4-mapped IPv6 included), and the
  connection goes to the address that was checked, without a second lookup (no DNS rebinding).

Through a proxy (the controller's HTTP(S)_PROXY and NO_PROXY, as for any controller traffic) the
proxy resolves the name; the scheme, port and host rules still apply.

Work per document is bounded: ``MAX_DOWNLOADS`` downloads, ``MAX_BYTES`` each, ``TIMEOUT``
seconds each and ``DOCUMENT_SECONDS`` in all. Notes say which rule refused a URL and never
repeat what a server answered.
"""

from __future__ import annotations

from collections.abc import Callable

import base64
import hashlib
import http.client
import ipaddress
import os
import socket
import ssl
import time
import urllib.parse
import urllib.request
from pathlib import Path

from ansible_collections.imds.azure.plugins.module_utils._errors import excerpt

# Source: Microsoft, "Azure Certificate Authority details", section "Certificate downloads and
# revocation lists", AIA hosts (MicrosoftDocs/azure-docs, articles/security/fundamentals/
# azure-certificate-authority-details.md, revision of 17 Nov 2025, commit 03e5750a).
DEFAULT_ALLOWED_HOSTS = (
    "cacerts.digicert.com",
    "cacerts.digicert.cn",
    "cacerts.geotrust.com",
    "caissuers.microsoft.com",
    "www.microsoft.com",
)
DEFAULT_PORTS = {"http": 80, "https": 443}
TIMEOUT = 10.0
DOCUMENT_SECONDS = 20.0
MAX_BYTES = 64 * 1024
MAX_REDIRECTS = 3
MAX_DOWNLOADS = 4
MAX_URLS_PER_CERTIFICATE = 4
DEFAULT_CACHE_DIR = "~/.cache/imds.azure/aia"
_REDIRECTS = (301, 302, 303, 307, 308)
# Special-purpose IPv4 blocks that ipaddress does not count as private or reserved.
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_BUDGET_SPENT = "the budget of %g seconds for AIA downloads of this document was spent" % DOCUMENT_SECONDS


class AiaRefused(Exception):
    """A URL or an address broke a rule; ``str()`` names the rule."""


def normalize_hosts(hosts) -> tuple:
    """``aia_allowed_hosts`` as lower-case names; raises ValueError for anything but plain host names."""
    if hosts is None:
        return DEFAULT_ALLOWED_HOSTS
    if isinstance(hosts, str):
        hosts = [part for part in hosts.split(",") if part.strip()]
    names = []
    for host in hosts:
        name = str(host).strip().lower().rstrip(".")
        if not name or any(ch in name for ch in "/:@?#[] \t"):
            raise ValueError("aia_allowed_hosts must list host names such as cacerts.digicert.com, got %r" % host)
        names.append(name)
    return tuple(names)


def check_url(url: str, allowed_hosts) -> urllib.parse.SplitResult:
    """The parsed URL when scheme, port, credentials and host follow the rules; else AiaRefused."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise AiaRefused("not a valid URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise AiaRefused("scheme %s is not http or https" % (scheme or "(none)"))
    if parts.username is not None or parts.password is not None:
        raise AiaRefused("a user name or password in the URL")
    if port is not None and port != DEFAULT_PORTS[scheme]:
        raise AiaRefused("port %d is not the default port of %s" % (port, scheme))
    host = (parts.hostname or "").rstrip(".")
    if host not in allowed_hosts:
        raise AiaRefused("host %s is not in aia_allowed_hosts" % (host or "(none)"))
    return parts


def address_problem(address: str) -> str | None:
    """Why connecting to ``address`` is refused, or None when it is a public address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "%s is not an IP address" % address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # The specific kinds first: Python also counts link-local, unspecified and others as private.
    for kind in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(ip, "is_" + kind):
            return "address %s is %s" % (ip, kind.replace("_", "-"))
    if ip in _SHARED:
        return "address %s is shared address space (100.64.0.0/10)" % ip
    if not ip.is_global:
        return "address %s is not a public address" % ip
    return None


def resolve_public(host: str, port: int, getaddrinfo=socket.getaddrinfo) -> str:
    """One public address of ``host``; AiaRefused if it does not resolve or any of its addresses is not public.

    Every answer is checked, not only the first: a name that also resolves to an internal address is
    refused outright rather than raced.
    """
    try:
        answers = getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise AiaRefused("host %s does not resolve" % host) from exc
    addresses = [answer[4][0] for answer in answers]
    if not addresses:
        raise AiaRefused("host %s does not resolve" % host)
    for address in addresses:
        problem = address_problem(address)
        if problem:
            raise AiaRefused("%s resolves to an %s" % (host, problem.replace("address ", "address that ", 1)))
    return addresses[0]


def open_socket(address: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to an IP address (no name lookup happens for an IP literal)."""
    return socket.create_connection((address, port), timeout=timeout)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to the address that was checked; the Host header still names the host."""

    def __init__(self, host: str, port: int, address: str, connect: Callable, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address, self._connect = address, connect

    def connect(self):
        self.sock = self._connect(self._address, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the address that was checked; SNI and the certificate check use the host name."""

    def __init__(self, host: str, port: int, address: str, connect: Callable, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address, self._connect = address, connect

    def connect(self):
        sock = self._connect(self._address, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class AiaFetcher:
    """Issuing-CA certificates by AIA URL, from the cache or (when ``enabled``) downloaded under the rules above.

    ``getaddrinfo`` and ``connect`` are seams for tests (a resolver and a socket opener); plugin
    options never reach them.
    """

    def __init__(self, enabled: bool = True, cache_dir: str | None = None, allowed_hosts=None,
                 getaddrinfo=socket.getaddrinfo, connect=open_socket) -> None:
        self.enabled = enabled
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else None
        self.allowed_hosts = normalize_hosts(allowed_hosts)
        self._getaddrinfo = getaddrinfo
        self._connect = connect
        self.notes: list[str] = []
        self.downloads = 0
        self._deadline: float | None = None

    def start_document(self) -> None:
        """Reset the per-document budget (downloads and seconds)."""
        self.downloads = 0
        self._deadline = time.monotonic() + DOCUMENT_SECONDS

    def fetch(self, url: str) -> bytes | None:
        """The bytes published at ``url`` (cache first), or None with a note saying why not."""
        shown = excerpt(url, 120)
        try:
            parts = check_url(url, self.allowed_hosts)
        except AiaRefused as refused:
            self.notes.append("AIA URL %s refused: %s" % (shown, refused))
            return None
        data = self._cached(url) if self.cache_dir else None
        if data is not None or not self.enabled:
            return data
        if self.downloads >= MAX_DOWNLOADS:
            self.notes.append("AIA URL %s not fetched: the limit of %d downloads per document was reached"
                              % (shown, MAX_DOWNLOADS))
            return None
        self.downloads += 1
        try:
            data = self._download(url, parts)
        except AiaRefused as refused:
            self.notes.append("AIA URL %s refused: %s" % (shown, refused))
            return None
        except (OSError, http.client.HTTPException) as exc:
            self.notes.append("AIA URL %s could not be fetched (%s)" % (shown, type(exc).__name__))
            return None
        if data is not None and self.cache_dir:
            self._store(url, data)
        return data

    def _remaining(self) -> float:
        if self._deadline is None:
            self.start_document()
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise AiaRefused(_BUDGET_SPENT)
        return min(TIMEOUT, remaining)

    def _download(self, url: str, parts: urllib.parse.SplitResult) -> bytes | None:
        """The body at ``url`` (already checked, as ``parts``); every redirect target is checked before it is followed."""
        for hop in range(MAX_REDIRECTS + 1):
            status, location, body = self._get(parts)
            if status in _REDIRECTS and location:
                if hop == MAX_REDIRECTS:
                    break
                url = urllib.parse.urljoin(url, location)
                parts = check_url(url, self.allowed_hosts)
                continue
            if status != 200:
                self.notes.append("AIA URL %s answered HTTP %d" % (excerpt(url, 120), status))
                return None
            return body
        raise AiaRefused("more than %d redirects" % MAX_REDIRECTS)

    def _get(self, parts: urllib.parse.SplitResult) -> tuple:
        """(status, Location, body) of one GET; the body only for a 200, at most MAX_BYTES."""
        scheme, host = parts.scheme.lower(), parts.hostname.rstrip(".")
        origin_path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        connection, path, headers = self._connection(scheme, host, origin_path)
        headers.update({"Host": host, "Accept": "application/pkix-cert, */*"})
        try:
            connection.request("GET", path, headers=headers)
            sock = connection.sock  # kept: getresponse() may drop the connection's reference, the answer reads on
            answer = connection.getresponse()
            if answer.status != 200:
                return answer.status, answer.getheader("Location"), None
            return 200, None, self._read_body(answer, sock)
        finally:
            connection.close()

    def _read_body(self, answer, sock) -> bytes:
        """At most MAX_BYTES, within the document's time budget even when a server trickles its answer."""
        chunks, size = [], 0
        while True:
            if answer.isclosed():  # the whole body is in (from Python 3.13 its socket is closed by then)
                return b"".join(chunks)
            timeout = self._remaining()  # raises once the budget is spent
            sock.settimeout(timeout)  # so no read outlasts it
            try:
                chunk = answer.read1(8192)
            except TimeoutError as exc:
                if timeout < TIMEOUT:  # the read was cut by the document's budget, not by the per-read timeout
                    raise AiaRefused(_BUDGET_SPENT) from exc
                raise
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_BYTES:
                raise AiaRefused("the answer is larger than %d bytes" % MAX_BYTES)
            chunks.append(chunk)

    def _connection(self, scheme: str, host: str, origin_path: str) -> tuple:
        """(connection, request path, headers): to the checked address, or through the controller's proxy."""
        timeout = self._remaining()
        port = DEFAULT_PORTS[scheme]
        proxy = _proxy_for(scheme, host)
        if proxy is None:
            address = resolve_public(host, port, self._getaddrinfo)
            kind = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
            return kind(host, port, address, self._connect, timeout), origin_path, {}
        proxy_parts = urllib.parse.urlsplit(proxy)
        proxy_port = proxy_parts.port or DEFAULT_PORTS.get(proxy_parts.scheme, 8080)
        credentials = _proxy_auth_header(proxy_parts)
        if scheme == "https":
            connection = http.client.HTTPSConnection(proxy_parts.hostname, proxy_port, timeout=timeout,
                                                     context=ssl.create_default_context())
            connection.set_tunnel(host, port, headers=credentials)
            return connection, origin_path, {}
        connection = http.client.HTTPConnection(proxy_parts.hostname, proxy_port, timeout=timeout)
        return connection, "http://%s%s" % (host, origin_path), credentials

    def _cache_file(self, url: str) -> Path:
        return self.cache_dir / cache_name(url)

    def _cached(self, url: str) -> bytes | None:
        try:
            data = self._cache_file(url).read_bytes()
        except OSError:
            return None
        return data if len(data) <= MAX_BYTES else None

    def _store(self, url: str, data: bytes) -> None:
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            temporary = self._cache_file(url).with_suffix(".tmp%d" % os.getpid())
            temporary.write_bytes(data)
            temporary.replace(self._cache_file(url))
        except OSError as exc:
            self.notes.append("could not cache the certificate from %s: %s" % (excerpt(url, 120), exc.strerror or exc))


def cache_name(url: str) -> str:
    """The cache file name of an AIA URL: its SHA-256 in hex plus ``.crt`` (how the AIA cache is pre-seeded)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest() + ".crt"


def _proxy_for(scheme: str, host: str) -> str | None:
    """The controller's proxy for this URL (HTTP(S)_PROXY, NO_PROXY), as Python's urllib reads them."""
    if urllib.request.proxy_bypass(host):
        return None
    return urllib.request.getproxies().get(scheme)


def _proxy_auth_header(proxy_parts: urllib.parse.SplitResult) -> dict:
    if proxy_parts.username is None:
        return {}
    credentials = "%s:%s" % (urllib.parse.unquote(proxy_parts.username),
                             urllib.parse.unquote(proxy_parts.password or ""))
    return {"Proxy-Authorization": "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii")}
