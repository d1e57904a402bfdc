"""The control listener: JSON over HTTP on its own address, never on the IMDS port.

    GET  /vms        {"vms": [name, ...]}
    POST /events     {"vm"?, "EventType", "after_seconds"?, "NotBefore"?, "Resources"?, "DurationInSeconds"?,
                      "EventSource"?, "Description"?, "EventId"?}  -> {"vm": name, "event": {...}}
    POST /faults     {"vm"?, "kind"?, "status"?, "path"?, "count"?, "duration"?, "retry_after"?, "interval"?,
                      "body"?}  -> {"vms": [name, ...], "fault": {...}}
    GET  /requests   ?vm=NAME  -> {"requests": [{"vm", "method", "path", "query", "headers", "client",
                      "status", "at"}, ...]}
    GET  /tokens     ?vm=NAME  -> {"tokens": [access_token, ...]}  (the managed-identity tokens issued)
    POST /reset      {"vm"?}  -> {"reset": [name, ...]}

``vm`` names a VM by its vm.name; without it faults, requests and reset mean every VM, and an event
means the only VM (a fleet must name one).
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .events import EventRequestError
from .faults import fault_from_request

MAX_BODY = 64 * 1024


class ControlError(Exception):
    """A control request that cannot be done: ``status`` and a message naming what was wrong."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Control:
    """What the control API does to a fleet (fleet.Fleet); the HTTP part is ControlServer."""

    def __init__(self, fleet) -> None:
        self.fleet = fleet

    def dispatch(self, method: str, path: str, query: dict, body) -> dict:
        routes = {("GET", "/vms"): self.vms, ("POST", "/events"): self.add_event, ("POST", "/faults"): self.add_fault,
                  ("GET", "/requests"): self.requests, ("GET", "/tokens"): self.tokens,
                  ("POST", "/reset"): self.reset}
        handler = routes.get((method, path.rstrip("/") or "/"))
        if handler is None:
            known = sorted({p for _m, p in routes})
            if any(p == path.rstrip("/") for _m, p in routes):
                raise ControlError(405, "%s does not take %s" % (path, method))
            raise ControlError(404, "no such control path %s; the paths are %s" % (path, ", ".join(known)))
        return handler(query if method == "GET" else body)

    def vms(self, _query: dict) -> dict:
        return {"vms": self.fleet.names()}

    def _members(self, name) -> list:
        if name is not None and not isinstance(name, str):
            raise ControlError(400, "vm: the name of a VM (one of %s)" % ", ".join(self.fleet.names()))
        try:
            return self.fleet.select(name)
        except KeyError as exc:
            raise ControlError(400, "vm: %s" % exc.args[0]) from None

    def add_event(self, body: dict) -> dict:
        body = dict(body)
        members = self._members(body.pop("vm", None))
        if len(members) > 1:
            raise ControlError(400, "vm: this emulator serves several VMs; name one of %s" % ", ".join(self.fleet.names()))
        settings, emulator = members[0]
        try:
            event = emulator.events.request(body, settings.name)
        except EventRequestError as exc:
            raise ControlError(400, str(exc)) from None
        return {"vm": settings.name, "event": event}

    def add_fault(self, body: dict) -> dict:
        body = dict(body)
        members = self._members(body.pop("vm", None))
        try:
            fault_from_request(body)  # checked once, before any VM gets it
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None
        for _settings, emulator in members:
            emulator.add_fault(fault_from_request(body))
        return {"vms": [settings.name for settings, _emulator in members], "fault": body}

    def requests(self, query: dict) -> dict:
        seen = []
        for settings, emulator in self._members(query.get("vm")):
            for request in emulator.requests_to("/"):
                seen.append(dict(request.as_dict(), vm=settings.name))
        seen.sort(key=lambda item: item["at"])
        return {"requests": seen}

    def tokens(self, query: dict) -> dict:
        issued = []
        for _settings, emulator in self._members(query.get("vm")):
            issued.extend(emulator.identities.issued_tokens)
        return {"tokens": issued}

    def reset(self, body: dict) -> dict:
        members = self._members(body.get("vm"))
        unknown = [key for key in body if key != "vm"]
        if unknown:
            raise ControlError(400, "%s: unknown field; reset takes only vm" % unknown[0])
        for settings, _emulator in members:
            self.fleet.reset(settings.name)
        return {"reset": [settings.name for settings, _emulator in members]}


class ControlServer:
    """Control on ``host:port`` (port 0 picks a free one), in a thread."""

    def __init__(self, fleet, host: str = "127.0.0.1", port: int = 0) -> None:
        self.control = Control(fleet)
        self._server = (_V6ControlServer if ":" in host else _ControlServer)((host, port), _ControlHandler)
        self._server.control = self.control
        self.host = host
        self.port = self._server.server_address[1]

    @property
    def url(self) -> str:
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "http://%s:%d" % (host, self.port)

    def start(self) -> "ControlServer":
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         name="imds-emulator-control", daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _ControlServer(ThreadingHTTPServer):
    daemon_threads = True
    control = None  # set by ControlServer


class _V6ControlServer(_ControlServer):
    address_family = socket.AF_INET6


class _ControlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "azure-imds-emulator-control"

    def do_GET(self) -> None:  # pylint: disable=invalid-name
        self._handle("GET")

    def do_POST(self) -> None:  # pylint: disable=invalid-name
        self._handle("POST")

    def log_message(self, format, *args) -> None:  # pylint: disable=redefined-builtin
        """Quiet: the control API's callers see the answers."""

    def _handle(self, method: str) -> None:
        split = urlsplit(self.path)
        try:
            body = self._body() if method == "POST" else {}
            answer = self.server.control.dispatch(method, split.path, dict(parse_qsl(split.query)), body)
            self._send(200, answer)
        except ControlError as exc:
            self._send(exc.status, {"error": str(exc)})

    def _body(self) -> dict:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ControlError(400, "Content-Length must be a number") from None
        if not 0 <= length <= MAX_BODY:
            raise ControlError(413, "the body is larger than %d bytes" % MAX_BODY)
        raw = self.rfile.read(length) if length else b"{}"
        try:
            body = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise ControlError(400, "the body must be a JSON object") from None
        if not isinstance(body, dict):
            raise ControlError(400, "the body must be a JSON object")
        return body

    def _send(self, status: int, data: dict) -> None:
        body = json.dumps(data).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
