"""Scheduled events: a document with an incarnation number, approval by POST, one shape per api-version."""

from __future__ import annotations

import email.utils
import threading
import time
import uuid

# Minimum notice per event type, in seconds (IMDS.md).
MINIMUM_NOTICE = {"Freeze": 900, "Reboot": 900, "Redeploy": 600, "Preempt": 30, "Terminate": 300}

# Scheduled events api-versions (IMDS.md) and what each adds.
VERSIONS = ("2017-03-01", "2017-08-01", "2017-11-01", "2019-01-01", "2019-04-01", "2019-08-01", "2020-07-01")
FIELD_SINCE = {"Description": "2019-04-01", "EventSource": "2019-08-01", "DurationInSeconds": "2020-07-01"}
EVENT_TYPE_SINCE = {"Preempt": "2017-11-01", "Terminate": "2019-01-01"}
# 2017-03-01 (preview) put an underscore before resource names and did not yet enforce the Metadata header.
PREVIEW_VERSION = "2017-03-01"

EVENT_FIELDS = ("EventId", "EventStatus", "EventType", "ResourceType", "Resources", "NotBefore", "Description",
                "EventSource", "DurationInSeconds")
# A started event whose duration is unknown (-1) finishes after this long when auto-completing.
UNKNOWN_DURATION_COMPLETES_AFTER = 30.0


EVENT_TYPES = tuple(MINIMUM_NOTICE)
EVENT_SOURCES = ("Platform", "User")
# What a control request (POST /events, a config's scheduled_events) may give; the rest is made up.
REQUEST_KEYS = ("EventType", "after_seconds", "NotBefore", "Resources", "DurationInSeconds", "EventSource",
                "Description", "EventId")
MAX_AFTER_SECONDS = 7 * 24 * 3600


class UnknownEventError(KeyError):
    """A StartRequest named an event that is not scheduled."""


class EventRequestError(ValueError):
    """A request to schedule an event that IMDS could not show; the message names the field."""


def check_event_request(request) -> None:
    """Refuse anything but the fields IMDS documents for an event, with values it could send."""
    if not isinstance(request, dict):
        raise EventRequestError("an event is a mapping with keys from %s" % ", ".join(REQUEST_KEYS))
    unknown = [key for key in request if key not in REQUEST_KEYS]
    if unknown:
        raise EventRequestError("%s: unknown field; allowed: %s" % (unknown[0], ", ".join(REQUEST_KEYS)))
    if request.get("EventType") not in EVENT_TYPES:
        raise EventRequestError("EventType: %r; one of %s" % (request.get("EventType"), ", ".join(EVENT_TYPES)))
    after = request.get("after_seconds", 0)
    if isinstance(after, bool) or not isinstance(after, (int, float)) or not 0 <= after <= MAX_AFTER_SECONDS:
        raise EventRequestError("after_seconds: a number of seconds from 0 to %d" % MAX_AFTER_SECONDS)
    resources = request.get("Resources", [])
    if not isinstance(resources, list) or not all(isinstance(r, str) and r for r in resources):
        raise EventRequestError("Resources: a list of VM names")
    duration = request.get("DurationInSeconds", -1)
    if isinstance(duration, bool) or not isinstance(duration, int) or duration < -1:
        raise EventRequestError("DurationInSeconds: a whole number of seconds, or -1 (unknown)")
    if request.get("EventSource", "Platform") not in EVENT_SOURCES:
        raise EventRequestError("EventSource: %r; one of %s" % (request.get("EventSource"), ", ".join(EVENT_SOURCES)))
    for key in ("Description", "EventId"):
        if not isinstance(request.get(key, ""), str):
            raise EventRequestError("%s: must be text" % key)
    not_before = request.get("NotBefore")
    if not_before is not None and (not isinstance(not_before, str)
                                   or (not_before and email.utils.parsedate_tz(not_before) is None)):
        raise EventRequestError("NotBefore: an RFC 1123 date as IMDS sends it (Mon, 19 Sep 2016 18:29:47 GMT)")


class ScheduledEvents:
    """Thread-safe event store. Tests schedule, approve and complete events through it.

    With ``auto_complete``, a started event disappears once its DurationInSeconds has passed on
    ``clock``, as the platform's maintenance would finish (``azure-imds-emulator serve``).
    """

    def __init__(self, incarnation: int = 1, auto_complete: bool = False, clock=time.monotonic) -> None:
        self.incarnation = incarnation
        self.auto_complete = auto_complete
        self.clock = clock
        self._events = []  # type: list[dict]
        self._started_at = {}  # type: dict[str, float]
        # Requested events that are not in the document yet: (clock time they appear, event).
        self._pending = []  # type: list[tuple[float, dict]]
        self._lock = threading.Lock()

    def load(self, document: dict) -> None:
        """Replace everything with a document in IMDS's newest shape (every field of every event)."""
        if not isinstance(document, dict) or not isinstance(document.get("DocumentIncarnation"), int) \
                or not isinstance(document.get("Events"), list):
            raise ValueError("a scheduled events document needs DocumentIncarnation (int) and Events (list)")
        for index, event in enumerate(document["Events"]):
            missing = [field for field in EVENT_FIELDS if not isinstance(event, dict) or field not in event]
            if missing:
                raise ValueError("Events[%d] lacks %s (give every field of api-version 2020-07-01)"
                                 % (index, ", ".join(missing)))
        with self._lock:
            self.incarnation = document["DocumentIncarnation"]
            self._events = [dict(event) for event in document["Events"]]
            now = self.clock()
            self._started_at = {e["EventId"]: now for e in self._events if e["EventStatus"] == "Started"}

    def schedule(self, event_type: str = "Reboot", resources: list | None = None, description: str = "",
                 source: str = "Platform", duration: int = -1, event_id: str | None = None) -> dict:
        not_before = email.utils.formatdate(time.time() + MINIMUM_NOTICE.get(event_type, 300), usegmt=True)
        event = {
            "EventId": event_id or str(uuid.uuid4()).upper(),
            "EventStatus": "Scheduled",
            "EventType": event_type,
            "ResourceType": "VirtualMachine",
            "Resources": list(resources or ["examplevmname"]),
            "NotBefore": not_before,
            "Description": description,
            "EventSource": source,
            "DurationInSeconds": duration,
        }
        with self._lock:
            self._events.append(event)
            self.incarnation += 1
        return event

    def request(self, request: dict, default_resource: str) -> dict:
        """Schedule an event from a control request (see check_event_request): it joins the document
        ``after_seconds`` from now, with NotBefore its type's minimum notice after that unless given."""
        check_event_request(request)
        after = float(request.get("after_seconds", 0))
        event_type = request["EventType"]
        not_before = request.get("NotBefore")
        if not_before is None:
            not_before = email.utils.formatdate(time.time() + after + MINIMUM_NOTICE[event_type], usegmt=True)
        event = {
            "EventId": request.get("EventId") or str(uuid.uuid4()).upper(),
            "EventStatus": "Scheduled",
            "EventType": event_type,
            "ResourceType": "VirtualMachine",
            "Resources": list(request.get("Resources") or [default_resource]),
            "NotBefore": not_before,
            "Description": request.get("Description", ""),
            "EventSource": request.get("EventSource", "Platform"),
            "DurationInSeconds": request.get("DurationInSeconds", -1),
        }
        with self._lock:
            self._pending.append((self.clock() + after, event))
            self._reveal()
        return dict(event)

    def clear(self) -> None:
        """No events at all, shown or pending (the incarnation moves on, as the document changed)."""
        with self._lock:
            if self._events:
                self.incarnation += 1
            self._events, self._pending, self._started_at = [], [], {}

    def _reveal(self) -> None:
        """Move pending events whose time has come into the document (caller holds the lock)."""
        now = self.clock()
        due = [event for at, event in self._pending if at <= now]
        if due:
            self._pending = [(at, event) for at, event in self._pending if at > now]
            self._events.extend(due)
            self.incarnation += 1

    def approve(self, event_ids: list) -> None:
        """Start the named events; approving a started event again is accepted, as IMDS does."""
        with self._lock:
            self._reveal()
            self._expire()
            known = {e["EventId"].lower(): e for e in self._events}
            missing = [i for i in event_ids if i.lower() not in known]
            if missing:
                raise UnknownEventError(", ".join(missing))
            changed = False
            for event_id in event_ids:
                event = known[event_id.lower()]
                if event["EventStatus"] != "Started":
                    event["EventStatus"] = "Started"
                    event["NotBefore"] = ""
                    self._started_at[event["EventId"]] = self.clock()
                    changed = True
            if changed:
                self.incarnation += 1

    def complete(self, event_id: str) -> None:
        """Finished events simply disappear from the document."""
        with self._lock:
            self._events = [e for e in self._events if e["EventId"] != event_id]
            self.incarnation += 1

    def _expire(self) -> None:
        """Drop started events whose duration has passed (caller holds the lock)."""
        if not self.auto_complete:
            return
        now = self.clock()
        finished = []
        for event in self._events:
            started = self._started_at.get(event["EventId"])
            if started is None:
                continue
            duration = event.get("DurationInSeconds", -1)
            lasts = UNKNOWN_DURATION_COMPLETES_AFTER if duration is None or duration < 0 else duration
            if now - started >= lasts:
                finished.append(event["EventId"])
        if finished:
            self._events = [e for e in self._events if e["EventId"] not in finished]
            self.incarnation += 1

    def document(self, api_version: str) -> dict:
        """The document as ``api_version`` shows it: fields and event types from the version that added them."""
        with self._lock:
            self._reveal()
            self._expire()
            events = [dict(e) for e in self._events]
            incarnation = self.incarnation
        shown = []
        for event in events:
            if api_version < EVENT_TYPE_SINCE.get(event["EventType"], ""):
                continue
            for key, since in FIELD_SINCE.items():
                if api_version < since:
                    event.pop(key, None)
            if api_version == PREVIEW_VERSION:
                event["Resources"] = ["_" + name for name in event["Resources"]]
            shown.append(event)
        return {"DocumentIncarnation": incarnation, "Events": shown}
