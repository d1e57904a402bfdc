"""An HTTP server that behaves like Azure IMDS (see ../shared/imds/IMDS.md), with scriptable faults."""

from __future__ import annotations

import collections
import datetime
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from . import instance
from .events import PREVIEW_VERSION as SCHEDULED_EVENTS_PREVIEW
from .events import VERSIONS as SCHEDULED_EVENTS_VERSIONS
from .events import ScheduledEvents, UnknownEventError
from .faults import Fault, FaultPlan
from .identities import DEFAULT_OBJECT_ID, SELECTORS, Identities, IdentityError
from .pki import EmulatorPki

DATA_DIR = Path(__file__).resolve().parent / "data"

API_VERSIONS = (
    "2017-03-01", "2017-04-02", "2017-08-01", "2017-10-01", "2017-12-01", "2018-02-01", "2018-04-02",
    "2018-10-01", "2019-02-01", "2019-03-11", "2019-04-30", "2019-06-01", "2019-06-04", "2019-08-01",
    "2019-08-15", "2019-11-01", "2020-06-01", "2020-07-15", "2020-09-01", "2020-10-01", "2020-12-01",
    "2021-01-01", "2021-02-01", "2021-03-01", "2021-05-01", "2021-08-01", "2021-10-01", "2021-11-01",
    "2021-11-15", "2021-12-13", "2023-07-01", "2023-11-15", "2024-03-15", "2024-07-17", "2025-04-07",
)

# The first version of each category (seeds, "endpoint categories").
CATEGORY_SINCE = {"attested": "2018-10-01", "identity": "2018-02-01", "instance": instance.INSTANCE_SINCE,
                  "loadbalancer": "2020-10-01", "scheduledevents": SCHEDULED_EVENTS_PREVIEW}

# Documented error texts; the ones marked (assumed) are not documented word for word.
ERR_VERSION = ("Bad request. api-version is invalid or was not specified in the request. "
               "For more information refer to aka.ms/azureimds")
ERR_METADATA_HEADER = "Bad request. Required metadata header not specified"
ERR_FORWARDED = "Bad request. Header X-Forwarded-For is not allowed"  # (assumed)
ERR_DUPLICATE = "Bad request. Duplicate query parameters are not allowed"  # (assumed)
ERR_LEAF_JSON = "Bad request. format=json is not supported for leaf nodes; use format=text"  # (assumed)
ERR_FORMAT = "Bad request. Unsupported format"  # (assumed)
ERR_NOT_FOUND = "Not found"
ERR_METHOD = "Method not allowed"  # (assumed)
ERR_TOO_MANY = "Too many requests"  # (assumed)
FAULT_BODIES = {410: "Gone", 429: ERR_TOO_MANY, 500: "Internal server error", 503: "Service unavailable",
                408: "Request timeout"}  # (assumed)

NONCE_RE = re.compile(r"^[A-Za-z0-9]{1,32}$")
RATE_WINDOW = 1.0
DEFAULT_RATE_LIMIT = 5
IDENTITY_RATE_LIMIT = 20
# How refused requests weigh on the limit; IMDS does not document which it is, so tests try both.
RATE_LIMIT_MODELS = ("arrivals", "served")
MAX_REQUEST_BODY = 64 * 1024
OVERSIZE_BYTES = 2 * 1024 * 1024
HANG_LIMIT = 600.0
HTML_PAGE = (b"<!DOCTYPE html><html><head><title>407 Proxy Authentication Required</title></head>"
             b"<body><h1>Proxy Authentication Required</h1><p>corporate-proxy.example</p></body></html>")


class Reply:
    """Status, content type and body of one emulator answer."""

    __slots__ = ("status", "content_type", "body", "headers")

    def __init__(self, status: int, body: bytes = b"", content_type: str = "application/json; charset=utf-8",
                 headers: dict | None = None) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


def json_reply(status: int, data) -> Reply:
    # IMDS sends compact JSON.
    return Reply(status, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def error_reply(status: int, message: str, **extra) -> Reply:
    body = {"error": message}
    body.update(extra)
    return json_reply(status, body)


class RecordedRequest:
    """What one request looked like on the wire, for tests to inspect."""

    __slots__ = ("method", "path", "query", "headers", "client", "status", "at")

    def __init__(self, method: str, path: str, query: list, headers: dict, client: str, at: float) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.client = client
        self.status = None  # type: int | None
        self.at = at

    def as_dict(self) -> dict:
        return {"method": self.method, "path": self.path, "query": self.query, "headers": self.headers,
                "client": self.client, "status": self.status, "at": self.at}


class ImdsEmulator:
    """IMDS on ``host:port`` (port 0 picks a free one). Use as a context manager or start()/stop()."""

    def __init__(self, profile: dict | str | Path | None = None, host: str = "127.0.0.1", port: int = 0,
                 clock=time.monotonic, rate_limit: int | None = DEFAULT_RATE_LIMIT,
                 rate_limit_model: str = "arrivals",
                 supported_versions: tuple = API_VERSIONS, newest_versions: list | None = None,
                 identity: bool = True, tenant_id: str = "abd8daee-d393-4239-9377-883adda3d40f",
                 client_id: str = "be5947ed-3560-4afe-9504-59967a63f810", loadbalancer: dict | None = None,
                 leaf_common_name: str = "metadata.azure.com", request_log: str | None = None,
                 identities: Identities | dict | None = None, scheduled_events: dict | None = None) -> None:
        self.profile = profile if isinstance(profile, dict) else instance.load_profile(profile)
        self.host = host
        self.port = port
        self.clock = clock
        self.rate_limit = rate_limit
        if rate_limit_model not in RATE_LIMIT_MODELS:
            raise ValueError("rate_limit_model must be one of %s, got %r"
                             % (", ".join(RATE_LIMIT_MODELS), rate_limit_model))
        self.rate_limit_model = rate_limit_model
        self.supported_versions = tuple(supported_versions)
        # What a 400 lists; the default is the three newest supported versions, newest first.
        self.newest_versions = list(newest_versions or sorted(self.supported_versions, reverse=True)[:3])
        self.tenant_id = tenant_id
        self.client_id = client_id
        # ``identities`` (a profile's {"systemAssigned", "userAssigned"}) wins; else one system-assigned
        # identity with ``client_id``, or none when ``identity`` is false.
        if isinstance(identities, dict):
            identities = Identities.from_dict(dict({"tenantId": tenant_id}, **identities))
        if identities is None:
            system = {"client_id": client_id, "object_id": DEFAULT_OBJECT_ID} if identity else None
            identities = Identities(system, tenant_id=tenant_id)
        self.identities = identities
        if loadbalancer is None:
            with open(DATA_DIR / "loadbalancer.json", encoding="utf-8") as handle:
                loadbalancer = json.load(handle)
        self.loadbalancer = loadbalancer
        self.pki = EmulatorPki(leaf_common_name)
        # IMDS may answer with a cached document whose nonce is an older one (IMDS.md); set to emulate that.
        self.cached_attested_nonce = None  # type: str | None
        # Given a document (serve --scheduled-events), started events finish on their own, as on Azure.
        self.events = ScheduledEvents(auto_complete=scheduled_events is not None)
        if scheduled_events is not None:
            self.events.load(scheduled_events)
        self.faults = FaultPlan()
        self.requests = []  # type: list[RecordedRequest]
        self._request_log = request_log
        self._lock = threading.Lock()
        self._arrivals = collections.defaultdict(collections.deque)
        self._stopping = threading.Event()
        self._server = None  # type: ThreadingHTTPServer | None
        self._thread = None  # type: threading.Thread | None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> "ImdsEmulator":
        self._server, self._thread = listen(self.host, self.port, lambda _client: self)
        self.port = self._server.server_address[1]
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "ImdsEmulator":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "http://%s:%d" % (host, self.port)

    def add_fault(self, spec: str | Fault | None = None, **kwargs) -> Fault:
        """Script a fault: ``add_fault("status=410,duration=30")`` or ``add_fault(kind="hang")``."""
        fault = spec if isinstance(spec, Fault) else (Fault.parse(spec) if spec else Fault(**kwargs))
        return self.faults.add(fault)

    def requests_to(self, prefix: str = "/metadata") -> list:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(prefix)]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def forget_arrivals(self) -> None:
        """Start the rate limit's window afresh (a reset)."""
        with self._lock:
            self._arrivals.clear()

    # -- request handling ---------------------------------------------------------------

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def finish_record(self, request: RecordedRequest, status: int) -> None:
        request.status = status
        if self._request_log:
            with self._lock, open(self._request_log, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(request.as_dict()) + "\n")

    def rate_limited(self, client: str, category: str) -> bool:
        """Is this request over the limit of its client (one VM) in the last second?

        ``arrivals``: every request counts, refused ones too, so callers that keep trying keep
        the window full. ``served``: only answered requests count, so a refusal costs nothing.
        """
        if self.rate_limit is None:
            return False
        limit = IDENTITY_RATE_LIMIT if category == "identity" else self.rate_limit
        now = self.clock()
        with self._lock:
            counted = self._arrivals[(client, category == "identity")]
            while counted and now - counted[0] >= RATE_WINDOW:
                counted.popleft()
            refused = len(counted) >= limit
            if not refused or self.rate_limit_model == "arrivals":
                counted.append(now)
            return refused

    def respond(self, method: str, path: str, query: list, headers: dict, body: bytes) -> Reply:
        """The IMDS answer to one request (no faults, no rate limit)."""
        segments = [s for s in path.split("/") if s]
        if not segments or segments[0] != "metadata" or len(segments) < 2:
            return error_reply(404, ERR_NOT_FOUND)
        category, route = segments[1], segments[2:]
        allowed = ("GET", "POST") if category == "scheduledevents" else ("GET",)
        if method not in allowed:
            return error_reply(405, ERR_METHOD)
        if "x-forwarded-for" in headers:
            return error_reply(400, ERR_FORWARDED)
        names = [name for name, _value in query]
        if len(names) != len(set(names)):
            return error_reply(400, ERR_DUPLICATE)
        params = dict(query)
        # The scheduled events preview (2017-03-01) did not yet require the header.
        preview = category == "scheduledevents" and params.get("api-version") == SCHEDULED_EVENTS_PREVIEW
        if headers.get("metadata", "").lower() != "true" and not preview:
            return error_reply(400, ERR_METADATA_HEADER)
        handler = {
            "versions": self._versions,
            "instance": self._instance,
            "attested": self._attested,
            "identity": self._identity,
            "loadbalancer": self._loadbalancer,
            "scheduledevents": self._scheduled_events,
        }.get(category)
        if handler is None:
            return error_reply(404, ERR_NOT_FOUND)
        return handler(method, route, params, body)

    def _version_error(self, params: dict, category: str, versions: tuple | None = None) -> Reply | None:
        version = params.get("api-version")
        if versions is None:
            versions = self.supported_versions
            newest = self.newest_versions
        else:
            newest = sorted(versions, reverse=True)[:3]
        if version not in versions or version < CATEGORY_SINCE.get(category, ""):
            return error_reply(400, ERR_VERSION, **{"newest-versions": newest})
        return None

    def _format(self, params: dict, allow_text: bool) -> str | Reply:
        fmt = params.get("format", "json")
        if fmt == "json" or (fmt == "text" and allow_text):
            return fmt
        return error_reply(400, ERR_FORMAT)

    def _versions(self, _method, route, _params, _body) -> Reply:
        if route:
            return error_reply(404, ERR_NOT_FOUND)
        return json_reply(200, {"apiVersions": list(self.supported_versions)})

    def _instance(self, _method, route, params, _body) -> Reply:
        error = self._version_error(params, "instance")
        if error:
            return error
        fmt = self._format(params, allow_text=True)
        if isinstance(fmt, Reply):
            return fmt
        document = instance.filter_for_version(self.profile, params["api-version"])
        try:
            node = instance.navigate(document, route)
        except instance.RouteError:
            return error_reply(404, ERR_NOT_FOUND)
        if fmt == "text":
            return Reply(200, instance.render_text(node).encode("utf-8"), "text/plain; charset=utf-8")
        if instance.is_leaf(node):
            return error_reply(400, ERR_LEAF_JSON)
        return json_reply(200, node)

    def _attested(self, _method, route, params, _body) -> Reply:
        if route != ["document"]:
            return error_reply(404, ERR_NOT_FOUND)
        error = self._version_error(params, "attested")
        if error:
            return error
        fmt = self._format(params, allow_text=False)
        if isinstance(fmt, Reply):
            return fmt
        nonce = params.get("nonce")
        if nonce is not None and not NONCE_RE.match(nonce):
            return error_reply(400, "Bad request. nonce must be at most 32 alphanumeric characters")  # (assumed)
        content = self.attested_content(params["api-version"], self.cached_attested_nonce or nonce)
        signature = self.pki.sign(json.dumps(content, separators=(",", ":")).encode("utf-8"))
        return json_reply(200, {"encoding": "pkcs7", "signature": signature})

    def attested_content(self, api_version: str, nonce: str | None) -> dict:
        """The signed JSON: fields appear from the version that introduced them."""
        now = datetime.datetime.now(datetime.timezone.utc)
        compute = self.profile.get("compute", {})
        plan = compute.get("plan") or {"name": "", "product": "", "publisher": ""}
        stamp = "%m/%d/%y %H:%M:%S -0000"
        content = {"nonce": nonce or now.strftime("%Y%m%d-%H%M%S"), "plan": plan,
                   "timeStamp": {"createdOn": now.strftime(stamp),
                                 "expiresOn": (now + datetime.timedelta(hours=6)).strftime(stamp)},
                   "vmId": compute.get("vmId", "")}
        if api_version >= "2019-04-30":
            content["subscriptionId"] = compute.get("subscriptionId", "")
        if api_version >= "2019-11-01":
            content["sku"] = compute.get("sku", "")
        if api_version >= "2020-09-01" and compute.get("licenseType"):
            content["licenseType"] = compute["licenseType"]
        return content

    def _identity(self, _method, route, params, _body) -> Reply:
        if route not in (["oauth2", "token"], ["info"]):
            return error_reply(404, ERR_NOT_FOUND)
        error = self._version_error(params, "identity")
        if error:
            return error
        if not self.identities.any:
            return self._identity_error("Identity not found")
        if route == ["info"]:
            return json_reply(200, {"tenantId": self.identities.tenant_id})
        if not params.get("resource"):
            return self._identity_error("Required query variable 'resource' is missing")  # (assumed)
        if sum(1 for key in SELECTORS if params.get(key)) > 1:
            return self._identity_error("Only one of client_id, object_id, msi_res_id may be given")  # (assumed)
        try:
            chosen = self.identities.select(params)
        except IdentityError as exc:
            return self._identity_error(exc.args[0])
        return json_reply(200, self.identities.token(chosen, params["resource"]))

    @staticmethod
    def _identity_error(description: str) -> Reply:
        return json_reply(400, {"error": "invalid_request", "error_description": description})

    def _loadbalancer(self, _method, route, params, _body) -> Reply:
        error = self._version_error(params, "loadbalancer")
        if error:
            return error
        if route or not self.loadbalancer:
            return error_reply(404, ERR_NOT_FOUND)
        return json_reply(200, self.loadbalancer)

    def _scheduled_events(self, method, route, params, body) -> Reply:
        if route:
            return error_reply(404, ERR_NOT_FOUND)
        error = self._version_error(params, "scheduledevents", SCHEDULED_EVENTS_VERSIONS)
        if error:
            return error
        if method == "GET":
            return json_reply(200, self.events.document(params["api-version"]))
        try:
            requests = json.loads(body.decode("utf-8"))["StartRequests"]
            event_ids = [item["EventId"] for item in requests]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return error_reply(400, "Bad request. Body must be {\"StartRequests\": [{\"EventId\": ...}]}")
        try:
            self.events.approve(event_ids)
        except UnknownEventError as exc:
            return error_reply(400, "Bad request. Unknown EventId %s" % exc.args[0])  # (assumed)
        return Reply(200, b"")

    def apply_fault(self, fault: Fault, handler: "_Handler") -> None:
        """Misbehave as ``fault`` says."""
        kind = fault.kind
        if kind == "status":
            reply = error_reply(fault.status, FAULT_BODIES.get(fault.status, "Error"))
            if fault.retry_after is not None:
                reply.headers["Retry-After"] = fault.retry_after
            handler.send_reply(reply)
            return
        if kind == "html":
            handler.send_reply(Reply(200, HTML_PAGE, "text/html; charset=utf-8"))
            return
        if kind == "redirect":
            handler.send_reply(Reply(302, b"", "text/plain", {"Location": "http://login.proxy.example/portal"}))
            return
        if kind == "malformed":
            handler.send_reply(Reply(200, b'{"compute": {"name": "examplevmname", "location": '))
            return
        if kind == "truncate":
            body = json.dumps(self.profile).encode("utf-8")
            handler.send_raw_head(200, "application/json; charset=utf-8", len(body))
            handler.wfile.write(body[: len(body) // 2])
            handler.close_connection = True
            return
        if kind in ("oversize", "oversize_stream"):
            handler.send_raw_head(200, "application/json; charset=utf-8",
                                  OVERSIZE_BYTES if kind == "oversize" else None)
            _write_quietly(handler, b'{"padding": "' + b"x" * OVERSIZE_BYTES + b'"}')
            handler.close_connection = True
            return
        if kind == "raw":
            _write_quietly(handler, fault.body or b"")
            handler.close_connection = True
            return
        if kind in ("drip", "drip_head"):
            body = json.dumps(self.profile).encode("utf-8")
            head = ("HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                    "Content-Length: %d\r\n\r\n" % len(body)).encode("ascii")
            if kind == "drip":
                _write_quietly(handler, head)
            self._drip(handler, body if kind == "drip" else head + body, fault.interval)
            handler.close_connection = True
            return
        if kind == "hang":
            self._stopping.wait(HANG_LIMIT)
        handler.close_connection = True

    def _drip(self, handler: "_Handler", data: bytes, interval: float) -> None:
        """Write ``data`` one byte every ``interval`` seconds, until done, stopped or hung up on."""
        for index in range(len(data)):
            if self._stopping.wait(interval) or not _write_quietly(handler, data[index:index + 1]):
                return


def _write_quietly(handler: "_Handler", data: bytes) -> bool:
    """Write to a client that may already have hung up (that is the point of some faults)."""
    try:
        handler.wfile.write(data)
        handler.wfile.flush()
        return True
    except OSError:
        return False


def listen(host: str, port: int, route) -> tuple:
    """Serve IMDS on ``host:port`` in a thread; ``route(client_address)`` picks the ImdsEmulator that
    answers that client (a fleet has one per VM), or None to close the connection unanswered."""
    server_class = _V6Server if ":" in host else _Server
    server = server_class((host, port), _Handler)
    server.route = route
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="imds-emulator", daemon=True)
    thread.start()
    return server, thread


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    route = None  # set by listen()


class _V6Server(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The head and the body go out in two writes; with Nagle's algorithm the body then waits for
    # the client's (delayed) ACK of the head, adding milliseconds that IMDS does not.
    disable_nagle_algorithm = True
    server_version = "IMDS-emulator/1.0"
    sys_version = ""

    def do_GET(self) -> None:  # pylint: disable=invalid-name
        self._handle("GET")

    def do_POST(self) -> None:  # pylint: disable=invalid-name
        self._handle("POST")

    def do_PUT(self) -> None:  # pylint: disable=invalid-name
        self._handle("PUT")

    def do_DELETE(self) -> None:  # pylint: disable=invalid-name
        self._handle("DELETE")

    def do_PATCH(self) -> None:  # pylint: disable=invalid-name
        self._handle("PATCH")

    def log_message(self, format, *args) -> None:  # pylint: disable=redefined-builtin
        """Tests read the recorded requests instead of a log on stderr."""

    def _handle(self, method: str) -> None:
        emulator = self.server.route(self.client_address[0])
        if emulator is None:
            # A fleet with no VM for this client: nothing answers, as no VM there would get an answer.
            self.close_connection = True
            return
        split = urlsplit(self.path)
        query = parse_qsl(split.query, keep_blank_values=True)
        headers = {name.lower(): value for name, value in self.headers.items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_REQUEST_BODY)) if length else b""
        record = RecordedRequest(method, split.path, query, headers, self.client_address[0], emulator.clock())
        emulator.record(record)
        fault = emulator.faults.match(split.path, emulator.clock())
        if fault is not None:
            emulator.finish_record(record, fault.wire_status)
            emulator.apply_fault(fault, self)
            return
        segments = [s for s in split.path.split("/") if s]
        category = segments[1] if len(segments) > 1 else ""
        if emulator.rate_limited(self.client_address[0], category):
            reply = error_reply(429, ERR_TOO_MANY)
        else:
            reply = emulator.respond(method, split.path, query, headers, body)
        # Recorded before sending, so a client that has its answer also sees the record.
        emulator.finish_record(record, reply.status)
        self.send_reply(reply)

    def send_reply(self, reply: Reply) -> None:
        self.send_raw_head(reply.status, reply.content_type, len(reply.body), reply.headers)
        _write_quietly(self, reply.body)

    def send_raw_head(self, status: int, content_type: str, length: int | None, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
