# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Scheduled events: parse IMDS's document, pick the events a task is about, decide what to approve.

Pure functions on parsed JSON, so the same logic serves the module on the VM and any
controller-side path. The document is untrusted: every field is checked, and an event
that does not have the documented shape is an error naming the field, not a guess.
"""

from typing import List, Optional, Sequence

import datetime
import email.utils

EVENT_TYPES = ("Freeze", "Reboot", "Redeploy", "Preempt", "Terminate")
STATUS_SCHEDULED = "Scheduled"
# api-version 2017-03-01 (preview) put an underscore before resource names; later ones do not.
UNDERSCORE_PREFIX_VERSION = "2017-03-01"
UNKNOWN_DURATION = -1


class ScheduledEventsDocumentError(ValueError):
    """The scheduled events document does not have the shape IMDS documents."""


class ScheduledEvent:
    """One event, with IMDS's fields checked and converted."""

    __slots__ = ("event_id", "event_type", "resource_type", "resources", "event_status", "not_before",
                 "description", "event_source", "duration_seconds")

    def __init__(self, event_id: str, event_type: str, resource_type: str, resources: List[str], event_status: str,
                 not_before: Optional[str], description: Optional[str] = None, event_source: Optional[str] = None,
                 duration_seconds: Optional[int] = None) -> None:
        self.event_id = event_id
        self.event_type = event_type
        self.resource_type = resource_type
        self.resources = resources
        self.event_status = event_status
        self.not_before = not_before
        self.description = description
        self.event_source = event_source
        self.duration_seconds = duration_seconds

    @property
    def pending(self) -> bool:
        return self.event_status == STATUS_SCHEDULED

    def concerns(self, vm_name: str) -> bool:
        return vm_name.lower() in (r.lower() for r in self.resources)

    def to_result(self, vm_name: Optional[str] = None) -> dict:
        result = dict((name, getattr(self, name)) for name in self.__slots__)
        if vm_name is not None:
            result["this_vm"] = self.concerns(vm_name)
        return result


def rfc1123_to_iso(value: str, field: str = "NotBefore") -> Optional[str]:
    """``Mon, 11 Apr 2026 22:26:58 GMT`` -> ``2026-04-11T22:26:58+00:00``; ``""`` (started events) -> None.

    IMDS's own weekday can disagree with the date (Microsoft's docs sample does); the date wins.
    """
    if value == "":
        return None
    try:
        parsed = email.utils.parsedate_tz(value)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is None:
        raise ScheduledEventsDocumentError("%s is not an RFC 1123 date" % field)
    offset = parsed[9] or 0
    try:
        moment = datetime.datetime(*parsed[:6], tzinfo=datetime.timezone.utc) - datetime.timedelta(seconds=offset)
    except ValueError:
        raise ScheduledEventsDocumentError("%s is not a valid date" % field)
    return moment.isoformat()


def _text(event: dict, key: str, index: int, required: bool = True) -> Optional[str]:
    if key not in event and not required:
        return None
    value = event.get(key)
    if not isinstance(value, str):
        raise ScheduledEventsDocumentError("Events[%d].%s is missing or not a string" % (index, key))
    return value


def _resources(event: dict, index: int, api_version: str) -> List[str]:
    value = event.get("Resources")
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        raise ScheduledEventsDocumentError("Events[%d].Resources is missing or not a list of names" % index)
    if api_version == UNDERSCORE_PREFIX_VERSION:
        # Azure VM names cannot start with an underscore, so removing one is safe.
        value = [r[1:] if r.startswith("_") else r for r in value]
    return list(value)


def _duration(event: dict, index: int) -> Optional[int]:
    if "DurationInSeconds" not in event:
        return None
    value = event["DurationInSeconds"]
    if isinstance(value, bool) or not isinstance(value, int) or value < UNKNOWN_DURATION:
        raise ScheduledEventsDocumentError("Events[%d].DurationInSeconds is not a whole number of seconds" % index)
    return value


def parse_event(event: object, index: int, api_version: str) -> ScheduledEvent:
    if not isinstance(event, dict):
        raise ScheduledEventsDocumentError("Events[%d] is not an object" % index)
    return ScheduledEvent(
        event_id=_text(event, "EventId", index),
        event_type=_text(event, "EventType", index),
        resource_type=_text(event, "ResourceType", index),
        resources=_resources(event, index, api_version),
        event_status=_text(event, "EventStatus", index),
        not_before=rfc1123_to_iso(_text(event, "NotBefore", index), "Events[%d].NotBefore" % index),
        description=_text(event, "Description", index, required=False),
        event_source=_text(event, "EventSource", index, required=False),
        duration_seconds=_duration(event, index),
    )


def parse_document(document: object, api_version: str) -> tuple:
    """Return ``(DocumentIncarnation, [ScheduledEvent])``."""
    if not isinstance(document, dict):
        raise ScheduledEventsDocumentError("the document is not a JSON object")
    incarnation = document.get("DocumentIncarnation")
    if isinstance(incarnation, bool) or not isinstance(incarnation, int):
        raise ScheduledEventsDocumentError("DocumentIncarnation is missing or not a number")
    events = document.get("Events")
    if not isinstance(events, list):
        raise ScheduledEventsDocumentError("Events is missing or not a list")
    return incarnation, [parse_event(event, index, api_version) for index, event in enumerate(events)]


def select(events: Sequence[ScheduledEvent], event_types: Optional[Sequence[str]] = None,
           vm_name: Optional[str] = None, event_ids: Optional[Sequence[str]] = None) -> list:
    """The events of the given types, for ``vm_name`` (when given), with the given ids (when given)."""
    wanted_ids = set(i.lower() for i in event_ids) if event_ids else None
    return [event for event in events
            if (not event_types or event.event_type in event_types)
            and (vm_name is None or event.concerns(vm_name))
            and (wanted_ids is None or event.event_id.lower() in wanted_ids)]


class ApprovalPlan:
    """Which of the wanted events to approve now, which are already started, which are gone."""

    __slots__ = ("to_approve", "already_started", "gone")

    def __init__(self, to_approve: List[str], already_started: List[str], gone: List[str]) -> None:
        self.to_approve = to_approve
        self.already_started = already_started
        self.gone = gone


def plan_approval(events: Sequence[ScheduledEvent], wanted_ids: Optional[Sequence[str]] = None,
                  matched: Optional[Sequence[ScheduledEvent]] = None) -> ApprovalPlan:
    """Approve ``wanted_ids`` if given, else the ``matched`` events; approving twice or too late is no error."""
    by_id = dict((event.event_id.lower(), event) for event in events)
    if wanted_ids:
        candidates = [(event_id, by_id.get(event_id.lower())) for event_id in wanted_ids]
    else:
        candidates = [(event.event_id, event) for event in (matched or [])]
    to_approve, started, gone = [], [], []
    for event_id, event in candidates:
        if event is None:
            gone.append(event_id)
        elif event.pending:
            to_approve.append(event.event_id)
        else:
            started.append(event.event_id)
    return ApprovalPlan(to_approve, started, gone)
