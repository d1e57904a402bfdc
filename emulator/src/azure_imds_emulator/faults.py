"""Scripted faults: make the emulator misbehave the way networks, proxies and IMDS do."""

from __future__ import annotations

import threading

KINDS = (
    "status",      # answer with ``status`` (410, 429, 500, ...) and the IMDS error body
    "html",        # 200 text/html, as a captive portal or proxy error page
    "redirect",    # 302 to another host
    "malformed",   # 200 application/json whose body is not JSON
    "truncate",    # Content-Length larger than the bytes sent, then close
    "oversize",    # a 2 MiB body with Content-Length
    "oversize_stream",  # a 2 MiB body without Content-Length
    "hang",        # accept, read the request, never answer
    "drip",        # answer one byte at a time, slowly (every ``interval`` seconds)
    "drip_head",   # send the status line and headers one byte every ``interval`` seconds
    "raw",         # write ``body`` verbatim (status line, headers, body: anything) and close
    "reset",       # close the connection without answering
)


class Fault:
    """One scripted fault. It matches requests whose path starts with ``path`` and lasts for
    ``count`` requests or ``duration`` seconds (emulator clock) from its first hit, or forever."""

    def __init__(self, kind: str = "status", status: int = 500, path: str = "/metadata",
                 count: int | None = None, duration: float | None = None, retry_after: str | None = None,
                 body: bytes | None = None, interval: float = 0.5) -> None:
        if kind not in KINDS:
            raise ValueError("unknown fault kind %r; choose from %s" % (kind, ", ".join(KINDS)))
        self.kind = kind
        self.status = status
        self.path = path
        self.count = count
        self.duration = duration
        self.retry_after = retry_after
        self.body = body
        self.interval = interval
        self.hits = 0
        self.first_hit_at = None  # type: float | None

    @property
    def wire_status(self) -> int:
        """The HTTP status the client sees (0: none at all)."""
        if self.kind == "status":
            return self.status
        if self.kind == "raw":
            return _raw_status(self.body or b"")
        return {"redirect": 302, "hang": 0, "reset": 0}.get(self.kind, 200)

    @classmethod
    def parse(cls, spec: str) -> "Fault":
        """Build a fault from ``key=value,...``, e.g. ``status=410,duration=30`` or ``kind=hang``."""
        options = {}
        for item in spec.split(","):
            key, _sep, value = item.partition("=")
            options[key.strip()] = value.strip()
        kwargs = {}
        if "status" in options:
            kwargs["status"] = int(options.pop("status"))
            kwargs["kind"] = "status"
        for key, convert in (("kind", str), ("path", str), ("count", int), ("duration", float),
                             ("retry_after", str), ("interval", float)):
            if key in options:
                kwargs[key] = convert(options.pop(key))
        if options:
            raise ValueError("unknown fault options: %s" % ", ".join(sorted(options)))
        return cls(**kwargs)

    def active(self, path: str, now: float) -> bool:
        """True when this request is hit by the fault (and count it)."""
        if not path.startswith(self.path):
            return False
        if self.count is not None and self.hits >= self.count:
            return False
        if self.duration is not None and self.first_hit_at is not None and now - self.first_hit_at >= self.duration:
            return False
        if self.first_hit_at is None:
            self.first_hit_at = now
        self.hits += 1
        return True


def _raw_status(data: bytes) -> int:
    """The status a raw answer's first line claims, or 0 when it claims none."""
    parts = data.split(b"\r\n", 1)[0].split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() and len(parts[1]) == 3 else 0


class FaultPlan:
    """The faults of one emulator, checked in order; the first active one applies."""

    def __init__(self) -> None:
        self._faults = []  # type: list[Fault]
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def match(self, path: str, now: float) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.active(path, now):
                    return fault
        return None


# Control requests and config files name faults by what a user sees; each maps onto a KINDS entry.
REQUEST_ALIASES = {
    "drop": {"kind": "reset"},              # dropped connections: closed without an answer
    "rate_limit_storm": {"kind": "status", "status": 429},  # every request refused with 429
}
REQUEST_KEYS = ("kind", "status", "path", "count", "duration", "retry_after", "interval", "body")
REQUEST_TYPES = {"status": int, "path": str, "count": int, "duration": (int, float), "retry_after": str,
                 "interval": (int, float), "body": str}


def fault_from_request(spec) -> Fault:
    """A Fault from ``{"kind": "status", "status": 503, "duration": 30, ...}`` (POST /faults, a config's faults).

    ``kind`` is one of KINDS or an alias (drop, rate_limit_storm); ``status`` alone means kind status.
    """
    if not isinstance(spec, dict):
        raise ValueError("a fault is a mapping with keys from %s" % ", ".join(REQUEST_KEYS))
    unknown = [key for key in spec if key not in REQUEST_KEYS]
    if unknown:
        raise ValueError("%s: unknown fault field; allowed: %s" % (unknown[0], ", ".join(REQUEST_KEYS)))
    for key, kind in REQUEST_TYPES.items():
        value = spec.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
            raise ValueError("%s: must be %s" % (key, "text" if kind is str else "a number"))
    options = dict(spec)
    name = options.pop("kind", "status")
    if name not in KINDS and name not in REQUEST_ALIASES:
        raise ValueError("kind: %r; one of %s" % (name, ", ".join(KINDS + tuple(REQUEST_ALIASES))))
    options.update(REQUEST_ALIASES.get(name, {"kind": name}))
    if options["kind"] == "status" and not 100 <= options.get("status", 500) <= 599:
        raise ValueError("status: an HTTP status from 100 to 599")
    for key in ("count", "duration", "interval"):
        if key in options and options[key] <= 0:
            raise ValueError("%s: must be more than 0" % key)
    if "body" in options:
        options["body"] = options["body"].encode("utf-8")
    return Fault(**options)
