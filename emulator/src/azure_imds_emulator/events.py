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


class UnknownEventError(KeyError):
    """A StartRequest named an event that is not scheduled."""


class ScheduledEvents:
    """Thread-safe event store. Tests schedule, approve and complete events through it.

    With ``auto_complete``, a started event disappears once its DurationInSeconds has passed on
    ``clock``, as the platform's maintenance would finish (``serve.py --scheduled-events``).
    """

    def __init__(self, incarnation: int = 1, auto_complete: bool = False, clock=time.monotonic) -> None:
        self.incarnation = incarnation
        self.auto_complete = auto_complete
        self.clock = clock
        self._events = []  # type: list[dict]
        self._started_at = {}  # type: dict[str, float]
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

    def approve(self, event_ids: list) -> None:
        """Start the named events; approving a started event again is accepted, as IMDS does."""
        with self._lock:
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
