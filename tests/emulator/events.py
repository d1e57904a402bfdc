"""Scheduled events: a document with an incarnation number, and approval by POST."""

from __future__ import annotations

import email.utils
import threading
import time
import uuid

# Minimum notice per event type, in seconds (IMDS.md).
MINIMUM_NOTICE = {"Freeze": 900, "Reboot": 900, "Redeploy": 600, "Preempt": 30, "Terminate": 300}

# Fields that scheduled-events api-versions before 2020-07-01 do not return.
FIELDS_SINCE_2020_07_01 = ("Description", "EventSource", "DurationInSeconds")


class UnknownEventError(KeyError):
    """A StartRequest named an event that is not scheduled."""


class ScheduledEvents:
    """Thread-safe event store. Tests schedule, approve and complete events through it."""

    def __init__(self, incarnation: int = 1) -> None:
        self.incarnation = incarnation
        self._events = []  # type: list[dict]
        self._lock = threading.Lock()

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
            known = {e["EventId"]: e for e in self._events}
            missing = [i for i in event_ids if i not in known]
            if missing:
                raise UnknownEventError(", ".join(missing))
            changed = False
            for event_id in event_ids:
                event = known[event_id]
                if event["EventStatus"] != "Started":
                    event["EventStatus"] = "Started"
                    event["NotBefore"] = ""
                    changed = True
            if changed:
                self.incarnation += 1

    def complete(self, event_id: str) -> None:
        """Finished events simply disappear from the document."""
        with self._lock:
            self._events = [e for e in self._events if e["EventId"] != event_id]
            self.incarnation += 1

    def document(self, api_version: str) -> dict:
        with self._lock:
            events = [dict(e) for e in self._events]
            incarnation = self.incarnation
        if api_version < "2020-07-01":
            for event in events:
                for key in FIELDS_SINCE_2020_07_01:
                    event.pop(key, None)
        return {"DocumentIncarnation": incarnation, "Events": events}
