"""Where AIA downloads may go (_aia_fetch): URL rules, address rules, redirects, bounds, notes, cache, proxies.

The servers are local; the fetcher reaches them through its resolver and socket seams
(helpers.aia_server), so the production rules run unchanged. End-to-end runs are in
tests/functional/test_attestation_aia.py.
"""

from __future__ import annotations

import http.server
import socket
import ssl
import threading
import time

import pytest
from ansible_collections.imds.azure.plugins.plugin_utils import _aia_fetch
from ansible_collections.imds.azure.plugins.plugin_utils._aia_fetch import (
    DEFAULT_ALLOWED_HOSTS,
    AiaFetcher,
    AiaRefused,
    address_problem,
    cache_name,
    check_url,
    normalize_hosts,
)
from cryptography.hazmat.primitives import serialization
from helpers import hostile_pkcs7 as hostile
from helpers.aia_server import PUBLIC_ADDRESS, AiaServer, fetcher_for

CERT = b"0\x82\x01\x00" + b"c" * 256  # the fetcher does not parse; any bytes stand for a certificate
URL = "http://cacerts.digicert.com/DigiCertGlobalRootG2.crt"


def test_default_hosts_are_microsofts_aia_list():
    """Microsoft, "Azure Certificate Authority details", Certificate downloads and revocation lists, AIA."""
    assert DEFAULT_ALLOWED_HOSTS == ("cacerts.digicert.com", "cacerts.digicert.cn", "cacerts.geotrust.com",
                                     "caissuers.microsoft.com", "www.microsoft.com")


@pytest.mark.parametrize("url, rule", [
    ("http://127.0.0.1:8080/internal-admin?action=delete", "port 8080 is not the default port of http"),
    ("http://127.0.0.1/internal-admin?action=delete", "host 127.0.0.1 is not in aia_allowed_hosts"),
    ("http://169.254.169.254/metadata/instance", "host 169.254.169.254 is not in aia_allowed_hosts"),
    ("http://www.microsoft.com.evil.example/x.crt", "not in aia_allowed_hosts"),
    ("http://evilwww.microsoft.com/x.crt", "not in aia_allowed_hosts"),
    ("ftp://www.microsoft.com/x.crt", "scheme ftp is not http or https"),
    ("file:///etc/passwd", "scheme file is not http or https"),
    ("ldap://www.microsoft.com/x", "scheme ldap"),
    ("https://www.microsoft.com:8443/x.crt", "port 8443"),
    ("http://www.microsoft.com:443/x.crt", "port 443 is not the default port of http"),
    ("http://user:pw@www.microsoft.com/x.crt", "user name or password"),
    ("http://[::1]/x.crt", "not in aia_allowed_hosts"),
    ("http://www.microsoft.com:99999/x.crt", "not a valid URL"),
])
def test_url_rules(url, rule):
    with pytest.raises(AiaRefused, match=rule.replace(".", r"\.")):
        check_url(url, DEFAULT_ALLOWED_HOSTS)


@pytest.mark.parametrize("url", [
    "http://www.microsoft.com/pkiops/certs/Microsoft%20Azure%20TLS%20Issuing%20CA%2005%20-%20xsign.crt",
    "HTTP://WWW.MICROSOFT.COM/pki/mscorp/Microsoft%20RSA%20TLS%20CA%2001.crt",
    "https://cacerts.digicert.com:443/DigiCertGlobalRootG2.crt",
    "http://caissuers.microsoft.com./pkiops/certs/x.crt",
])
def test_urls_allowed(url):
    check_url(url, DEFAULT_ALLOWED_HOSTS)


@pytest.mark.parametrize("address, words", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.1.2.3", "private"), ("192.168.0.1", "private"),
    ("172.16.5.4", "private"), ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("100.64.0.1", "shared address space"), ("100.127.255.254", "shared address space"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"), ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("240.0.0.1", "reserved"), ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "link-local"),
    ("::ffff:10.0.0.1", "private"), ("168.63.129.16", None), ("fc00::1", "private"), ("198.18.0.1", "private"),
])
def test_address_rules(address, words):
    problem = address_problem(address)
    if words is None:
        assert problem is None  # the wire server's address is public; it is not an AIA host either
    else:
        assert problem and words in problem


def test_allowed_hosts_option_is_validated():
    assert normalize_hosts(["CAcerts.DigiCert.com."]) == ("cacerts.digicert.com",)
    assert normalize_hosts(None) == DEFAULT_ALLOWED_HOSTS
    for bad in (["http://x.example/"], ["x.example:80"], ["user@x.example"]):
        with pytest.raises(ValueError, match="host names"):
            normalize_hosts(bad)


def test_download_through_the_checked_address_only():
    with AiaServer({"/DigiCertGlobalRootG2.crt": (200, {}, CERT)}) as server:
        fetcher = fetcher_for(server)
        fetcher.start_document()
        assert fetcher.fetch(URL) == CERT
        assert server.requests == ["/DigiCertGlobalRootG2.crt"]
        assert fetcher.lookups == ["cacerts.digicert.com"]  # one lookup, then the checked address


@pytest.mark.parametrize("answers, words", [
    (["127.0.0.1"], "resolves to an address that 127.0.0.1 is loopback"),
    (["203.0.114.80", "10.0.0.7"], "address that 10.0.0.7 is private"),  # any bad answer refuses the name
    (["::ffff:169.254.169.254"], "link-local"),
    (["100.64.3.4"], "shared address space"),
])
def test_a_name_resolving_inward_is_refused_before_connecting(answers, words):
    with AiaServer({"/DigiCertGlobalRootG2.crt": (200, {}, CERT)}) as server:
        fetcher = fetcher_for(server, answers={"cacerts.digicert.com": answers})
        assert fetcher.fetch(URL) is None
        assert server.requests == []
        assert len(fetcher.notes) == 1 and words in fetcher.notes[0] and "refused" in fetcher.notes[0]


def test_each_redirect_hop_is_checked():
    routes = {
        "/hop1": (302, {"Location": "http://www.microsoft.com/hop2"}, b""),
        "/hop2": (301, {"Location": "/final.crt"}, b""),
        "/final.crt": (200, {}, CERT),
        "/to-inside": (302, {"Location": "http://127.0.0.1/internal-admin?action=delete"}, b""),
        "/to-odd-port": (307, {"Location": "http://www.microsoft.com:8080/x"}, b""),
        "/to-file": (302, {"Location": "file:///etc/shadow"}, b""),
    }
    with AiaServer(routes) as server:
        fetcher = fetcher_for(server)
        assert fetcher.fetch("http://cacerts.digicert.com/hop1") == CERT
        assert server.requests == ["/hop1", "/hop2", "/final.crt"]
        for start, rule in (("/to-inside", "host 127.0.0.1 is not in aia_allowed_hosts"),
                            ("/to-odd-port", "port 8080"), ("/to-file", "scheme file")):
            fetcher = fetcher_for(server)
            assert fetcher.fetch("http://www.microsoft.com" + start) is None
            assert rule in fetcher.notes[-1]
        assert "/internal-admin?action=delete" not in server.requests


def test_redirect_loop_is_bounded():
    with AiaServer({"/loop": (302, {"Location": "/loop"}, b"")}) as server:
        fetcher = fetcher_for(server)
        assert fetcher.fetch("http://www.microsoft.com/loop") is None
        assert len(server.requests) == _aia_fetch.MAX_REDIRECTS + 1
        assert "more than %d redirects" % _aia_fetch.MAX_REDIRECTS in fetcher.notes[0]


def test_the_redirect_limit_is_named_before_a_last_target_is_judged():
    """The redirect after the last allowed one is never followed, so the note names the limit, not that target."""
    hops = {"/r%d" % n: (302, {"Location": "/r%d" % (n + 1)}, b"") for n in range(_aia_fetch.MAX_REDIRECTS)}
    hops["/r%d" % _aia_fetch.MAX_REDIRECTS] = (302, {"Location": "http://127.0.0.1/internal"}, b"")
    with AiaServer(hops) as server:
        fetcher = fetcher_for(server)
        assert fetcher.fetch("http://www.microsoft.com/r0") is None
        assert len(server.requests) == _aia_fetch.MAX_REDIRECTS + 1
        assert "more than %d redirects" % _aia_fetch.MAX_REDIRECTS in fetcher.notes[-1]


def test_notes_never_echo_an_answer():
    secret = b"root:x:0:0 internal-admin-token=hunter2"
    with AiaServer({"/big.crt": (200, {}, secret * 5000), "/denied": (403, {}, secret)}) as server:
        fetcher = fetcher_for(server)
        assert fetcher.fetch("http://www.microsoft.com/big.crt") is None
        assert fetcher.fetch("http://www.microsoft.com/denied") is None
        assert "larger than %d bytes" % _aia_fetch.MAX_BYTES in fetcher.notes[0]
        assert "answered HTTP 403" in fetcher.notes[1]
        assert not any("hunter2" in note or "root:x" in note for note in fetcher.notes)


def test_downloads_per_document_are_bounded():
    routes = {"/c%d.crt" % n: (200, {}, CERT) for n in range(10)}
    with AiaServer(routes) as server:
        fetcher = fetcher_for(server)
        fetcher.start_document()
        got = [fetcher.fetch("http://www.microsoft.com/c%d.crt" % n) for n in range(10)]
        assert got.count(CERT) == _aia_fetch.MAX_DOWNLOADS == len(server.requests)
        assert "limit of %d downloads per document" % _aia_fetch.MAX_DOWNLOADS in fetcher.notes[-1]
        fetcher.start_document()
        assert fetcher.fetch("http://www.microsoft.com/c9.crt") == CERT  # a new document, a new budget


def test_seconds_per_document_are_bounded(monkeypatch):
    with AiaServer({"/c.crt": (200, {}, CERT)}) as server:
        fetcher = fetcher_for(server)
        monkeypatch.setattr(_aia_fetch, "DOCUMENT_SECONDS", 0.0)
        fetcher.start_document()
        assert fetcher.fetch("http://www.microsoft.com/c.crt") is None
        assert server.requests == [] and "seconds for AIA downloads of this document was spent" in fetcher.notes[0]


def test_cache_is_read_first_and_can_be_pre_seeded(tmp_path):
    cache = tmp_path / "aia"
    cache.mkdir()
    (cache / cache_name(URL)).write_bytes(CERT)  # what the guide tells an air-gapped controller to do
    with AiaServer() as server:
        for enabled in (False, True):
            fetcher = fetcher_for(server, cache_dir=str(cache), enabled=enabled)
            assert fetcher.fetch(URL) == CERT
        assert server.requests == []
        # A refused URL is refused even when a file of its name sits in the cache.
        bad = "http://127.0.0.1/internal-admin?action=delete"
        (cache / cache_name(bad)).write_bytes(CERT)
        fetcher = fetcher_for(server, cache_dir=str(cache))
        assert fetcher.fetch(bad) is None and "not in aia_allowed_hosts" in fetcher.notes[0]


def test_download_is_cached(tmp_path):
    with AiaServer({"/c.crt": (200, {}, CERT)}) as server:
        for _run in range(2):
            assert fetcher_for(server, cache_dir=str(tmp_path)).fetch("http://www.microsoft.com/c.crt") == CERT
        assert server.requests == ["/c.crt"]


def test_disabled_fetcher_never_connects():
    with AiaServer({"/c.crt": (200, {}, CERT)}) as server:
        fetcher = fetcher_for(server, enabled=False)
        assert fetcher.fetch("http://www.microsoft.com/c.crt") is None
        assert server.requests == [] and fetcher.lookups == []


def test_plain_http_goes_through_the_controller_proxy(monkeypatch):
    """Proxies as for any controller traffic: the proxy gets the absolute URL and resolves the name itself."""
    seen = []

    class Proxy(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # pylint: disable=invalid-name
            seen.append((self.path, self.headers.get("Host"), self.headers.get("Proxy-Authorization")))
            self.send_response(200)
            self.send_header("Content-Length", str(len(CERT)))
            self.end_headers()
            self.wfile.write(CERT)

        def log_message(self, format, *args) -> None:  # pylint: disable=redefined-builtin
            """Quiet."""

    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        for name in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("http_proxy", "http://u:p@127.0.0.1:%d" % proxy.server_address[1])

        def no_lookups(*_args, **_kwargs):
            raise AssertionError("with a proxy the controller does not resolve the AIA host")

        fetcher = AiaFetcher(enabled=True, getaddrinfo=no_lookups)
        assert fetcher.fetch(URL) == CERT
        assert seen == [(URL, "cacerts.digicert.com", "Basic dTpw")]
        # The host rules hold through the proxy too.
        assert fetcher.fetch("http://127.0.0.1/internal-admin?action=delete") is None
        assert len(seen) == 1
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_https_goes_to_the_checked_address_and_verifies_the_host_name(tmp_path, monkeypatch):
    """TLS to the pinned address: SNI and the certificate check use the URL's host, against the system store
    (a certificate from an unknown CA is refused, nothing is read)."""
    for name in ("https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    ca_key, key = hostile.new_key(), hostile.new_key()
    cert = hostile.certificate("www.microsoft.com", key, "Untrusted Test TLS CA", ca_key, ca=False,
                               dns_names=["www.microsoft.com"])
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))
    names = []
    context.sni_callback = lambda _sock, name, _context: names.append(name)
    listener = socket.create_server(("127.0.0.1", 0))

    def serve_one() -> None:
        connection, _peer = listener.accept()
        try:
            context.wrap_socket(connection, server_side=True).close()
        except (ssl.SSLError, OSError):
            connection.close()

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()
    connects = []

    def connect(address, port, timeout):
        connects.append((address, port))
        return socket.create_connection(listener.getsockname(), timeout=timeout)

    fetcher = AiaFetcher(enabled=True, connect=connect,
                         getaddrinfo=lambda host, port, type=0: [(socket.AF_INET, type, 6, "", (PUBLIC_ADDRESS, port))])
    try:
        assert fetcher.fetch("https://www.microsoft.com/pkiops/certs/x.crt") is None
    finally:
        thread.join(5)
        listener.close()
    assert connects == [(PUBLIC_ADDRESS, 443)] and names == ["www.microsoft.com"]
    assert "could not be fetched (SSLCertVerificationError)" in fetcher.notes[0]


def test_a_trickling_answer_is_cut_at_the_document_budget(monkeypatch):
    """Each read is within the socket timeout, but the whole answer is bounded by the per-document seconds."""
    sent = []

    class Trickle(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # pylint: disable=invalid-name
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _byte in range(1000):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    sent.append(1)
                    time.sleep(0.05)
            except OSError:
                pass

        def log_message(self, format, *args) -> None:  # pylint: disable=redefined-builtin
            """Quiet."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    monkeypatch.setattr(_aia_fetch, "DOCUMENT_SECONDS", 0.5)
    try:
        fetcher = AiaFetcher(enabled=True, getaddrinfo=lambda host, port, type=0: [
            (socket.AF_INET, type, 6, "", (PUBLIC_ADDRESS, port))],
            connect=lambda _address, _port, timeout: socket.create_connection(server.server_address, timeout=timeout))
        fetcher.start_document()
        assert fetcher.fetch("http://www.microsoft.com/slow.crt") is None
        assert "seconds for AIA downloads of this document was spent" in fetcher.notes[0]
        assert len(sent) < 1000
    finally:
        server.shutdown()
        server.server_close()
