"""A local stand-in for a CA's AIA publication host, and a fetcher pointed at it through the fetcher's test seams.

The fetcher's rules refuse loopback, so a test cannot simply name ``http://127.0.0.1:port``. Instead
the fetcher's resolver seam answers ``PUBLIC_ADDRESS`` (a public address that is never contacted)
for every allowed name, and its socket seam connects that address to the local server. Everything
else (URL rules, address rules, redirects, bounds, notes) runs as in production.
"""

from __future__ import annotations

import base64
import http.server
import json
import socket
import sys
import threading

PUBLIC_ADDRESS = "203.0.114.80"  # global unicast; only ever mapped to the local server here


def _handler(routes, record) -> type:
    """A request handler answering from ``routes()`` (path -> (status, headers, body)); ``record(path)`` first."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # pylint: disable=invalid-name
            record(self.path)
            status, headers, body = routes().get(self.path, (404, {}, b"no such certificate"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args) -> None:  # pylint: disable=redefined-builtin
            """Quiet."""

    return Handler


class AiaServer:
    """Serves ``routes`` (path -> (status, headers, body)) on 127.0.0.1 and records every request path."""

    def __init__(self, routes: dict | None = None) -> None:
        self.routes = dict(routes or {})
        self.requests = []  # type: list[str]
        handler = _handler(lambda: self.routes, self.requests.append)
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "AiaServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def fetcher_for(server: AiaServer, answers: dict | None = None, **kwargs):
    """An AiaFetcher whose resolver answers ``answers`` (host -> addresses; default PUBLIC_ADDRESS for any host)
    and whose sockets to PUBLIC_ADDRESS reach ``server``. ``lookups`` on it lists each name looked up."""
    lookups = []

    def getaddrinfo(host, port, type=0):  # pylint: disable=redefined-builtin
        lookups.append(host)
        addresses = (answers or {}).get(host, [PUBLIC_ADDRESS])
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, type, 6, "", (a, port)) for a in addresses]

    def connect(address, port, timeout):
        assert address == PUBLIC_ADDRESS, "the fetcher tried to connect to %s" % address
        return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)

    # Imported here: this file also runs as a script inside namespaces, where the collection is not importable.
    from ansible_collections.imds.azure.plugins.plugin_utils import _aia_fetch  # pylint: disable=import-outside-toplevel

    kwargs.setdefault("enabled", True)
    fetcher = _aia_fetch.AiaFetcher(getaddrinfo=getaddrinfo, connect=connect, **kwargs)
    fetcher.lookups = lookups  # type: ignore[attr-defined]
    return fetcher


def main() -> None:
    """``python aia_server.py BIND_ADDRESS PORT ROUTES_JSON LOG``: serve routes (path -> [status, headers, body
    base64]) inside a test's network namespace, appending each request path to LOG; prints one line when ready."""
    bind, port, routes_file, log = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    routes = {path: (status, headers, base64.b64decode(body))
              for path, (status, headers, body) in json.loads(open(routes_file, encoding="utf-8").read()).items()}

    def record(path: str) -> None:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(path + "\n")

    server = http.server.ThreadingHTTPServer((bind, port), _handler(lambda: routes, record))
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
