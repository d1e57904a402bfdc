# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""The logic of imds.azure.scheduled_events: read, wait for, and approve scheduled events."""

from typing import List, Optional, Sequence

import json
import time

from ansible_collections.imds.azure.plugins.module_utils._api_versions import DEFAULT_SCHEDULED_EVENTS_API_VERSION
from ansible_collections.imds.azure.plugins.module_utils._client import ImdsClient, ImdsResult, check_api_version
from ansible_collections.imds.azure.plugins.module_utils._errors import (
    ImdsBadRequestError,
    ImdsBadResponseError,
    ImdsError,
    ImdsRequestError,
    excerpt,
)
from ansible_collections.imds.azure.plugins.module_utils._module_adapter import (
    ModuleEntry,
    client_argument_spec,
    client_from_params,
)
from ansible_collections.imds.azure.plugins.module_utils._path_rules import rule_for, version_for_request
from ansible_collections.imds.azure.plugins.module_utils._scheduled_events import (
    EVENT_TYPES,
    ApprovalPlan,
    ScheduledEvent,
    ScheduledEventsDocumentError,
    parse_document,
    plan_approval,
    select,
)

MIN_POLL_INTERVAL = 0.25


class WaitTimeout(Exception):
    """``wait_for`` did not come true within ``wait_timeout``."""


def fetch_events(client: ImdsClient, api_version: str = DEFAULT_SCHEDULED_EVENTS_API_VERSION) -> ImdsResult:
    """GET /metadata/scheduledevents: the parsed document, untrusted until ``parse_document`` has read it."""
    return client.get("scheduledevents", api_version=api_version)


def start_events(client: ImdsClient, event_ids: List[str],
                 api_version: str = DEFAULT_SCHEDULED_EVENTS_API_VERSION) -> ImdsResult:
    """POST StartRequests for ``event_ids`` (approve them: IMDS may start them at once)."""
    if not event_ids or not all(isinstance(e, str) and e for e in event_ids):
        raise ImdsRequestError("Give at least one scheduled event id (a non-empty string) to approve.")
    body = json.dumps({"StartRequests": [{"EventId": e} for e in event_ids]}).encode("utf-8")
    return client.request("POST", "scheduledevents", api_version=api_version, body=body, expect="any")


class EventsReader:
    """Reads and filters the scheduled events document as the module options say."""

    def __init__(self, client: ImdsClient, params: dict) -> None:
        self.client = client
        self.params = params
        self.vm_name: Optional[str] = None
        self.api_version = version_for_request(rule_for(("scheduledevents",)), params["api_version"])

    def this_vm_name(self) -> str:
        if self.params["vm_name"]:
            return self.params["vm_name"]
        return self.client.instance(["compute", "name"], text=True).text.strip()

    def read(self) -> tuple:
        """Return ``(incarnation, all events, matching events)``."""
        answer = fetch_events(self.client, api_version=self.api_version)
        self.api_version = answer.api_version
        try:
            incarnation, events = parse_document(answer.data, answer.api_version)
        except ScheduledEventsDocumentError as exc:
            raise ImdsBadResponseError("The scheduled events from %s do not have IMDS's shape: %s." % (answer.url, exc),
                                       url=answer.url)
        matched = select(events, self.params["event_types"], self.vm_name if self.params["only_this_vm"] else None,
                         self.params["event_ids"])
        return incarnation, events, matched


def wait(reader: EventsReader, params: dict, clock=time.monotonic, sleep=time.sleep) -> tuple:
    """Read until ``wait_for`` holds; return (incarnation, events, matched, seconds waited).

    The last read is at the deadline itself: with wait_timeout 3 and poll_interval 1 the reads are at
    0, 1, 2 and 3 seconds, and only the last wait is shorter than poll_interval.
    """
    started = clock()
    while True:
        incarnation, events, matched = reader.read()
        done = {None: True, "event": bool(matched), "clear": not matched}[params["wait_for"]]
        waited = clock() - started
        if done:
            return incarnation, events, matched, waited
        remaining = params["wait_timeout"] - waited
        if remaining <= 0:
            raise WaitTimeout(incarnation, events, matched, waited)
        sleep(min(params["poll_interval"], remaining))


# How many events a message names; a document can list many (untrusted, and every one costs a line).
MAX_EVENTS_NAMED = 5


def describe_events(events: Sequence[ScheduledEvent]) -> str:
    """``Reboot C7061BAC-... for vm1, vm2`` for each event (at most MAX_EVENTS_NAMED), IMDS's text shortened."""
    named = ["%s %s for %s" % (excerpt(e.event_type, 20), excerpt(e.event_id, 40),
                               excerpt(", ".join(e.resources), 80) or "no resources") for e in events[:MAX_EVENTS_NAMED]]
    if len(events) > MAX_EVENTS_NAMED:
        named.append("and %d more" % (len(events) - MAX_EVENTS_NAMED))
    return "; ".join(named)


def timeout_message(params: dict, events: Sequence[ScheduledEvent], matched: Sequence[ScheduledEvent],
                    waited: float) -> str:
    """Why ``wait_for`` did not come true: for ``event``, the listed events the filters left out."""
    if params["wait_for"] == "clear":
        return ("Waited %.0f s (wait_timeout) and the matching scheduled events were still listed: %s."
                % (waited, describe_events(matched)))
    message = "Waited %.0f s (wait_timeout) and no matching scheduled event was listed" % waited
    if not events:
        return message + "; IMDS listed no events at all."
    return ("%s. IMDS listed %d event(s) that event_types, event_ids or only_this_vm left out: %s."
            % (message, len(events), describe_events(events)))


def approve(client: ImdsClient, reader: EventsReader, events: Sequence[ScheduledEvent],
            matched: Sequence[ScheduledEvent], params: dict, check_mode: bool) -> ApprovalPlan:
    """POST StartRequests for what the plan says; a 400 (an event ended meanwhile) re-reads and re-plans once."""
    plan = plan_approval(events, params["event_ids"], matched)
    if not plan.to_approve or check_mode:
        return plan
    try:
        start_events(client, plan.to_approve, api_version=reader.api_version)
    except ImdsBadRequestError:
        _incarnation, events, matched = reader.read()
        plan = plan_approval(events, params["event_ids"], matched)
        if plan.to_approve:
            start_events(client, plan.to_approve, api_version=reader.api_version)
    return plan


def argument_spec() -> dict:
    spec = client_argument_spec(api_version_default=DEFAULT_SCHEDULED_EVENTS_API_VERSION)
    spec.update(
        event_types=dict(type="list", elements="str", choices=list(EVENT_TYPES), default=[]),
        event_ids=dict(type="list", elements="str", default=[]),
        only_this_vm=dict(type="bool", default=False),
        vm_name=dict(type="str"),
        wait_for=dict(type="str", choices=["event", "clear"]),
        wait_timeout=dict(type="float", default=900.0),
        poll_interval=dict(type="float", default=1.0),
        approve=dict(type="bool", default=False),
    )
    return spec


def option_problem(params: dict) -> Optional[str]:
    """What is wrong with the validated options that the argument spec cannot say, or None."""
    if params["poll_interval"] < MIN_POLL_INTERVAL:
        return ("poll_interval must be at least %s seconds (IMDS allows about 5 requests per second), got %s."
                % (MIN_POLL_INTERVAL, params["poll_interval"]))
    if params["wait_timeout"] < 0:
        return "wait_timeout must be 0 or more seconds, got %s." % params["wait_timeout"]
    if params["approve"] and not (params["event_ids"] or params["only_this_vm"] or params["event_types"]):
        # An availability set's or scale set's document lists its other VMs' events too: approving them
        # all would start their maintenance early.
        return ("approve: true needs to be told which events to approve, since IMDS also lists other VMs' events: "
                "set event_ids (the ids an earlier read of this module returned, the safest), only_this_vm: true "
                "(the events of this VM), or event_types (every listed event of those types). An empty event_ids "
                "list counts as not set.")
    return None


class ScheduledEventsTaskError(ImdsError):
    """The task failed after it had seen or done something the failed result reports too.

    ``fields`` are those result keys (events, approved, vm_name...); ``cause`` is the client's error that
    stopped the task, if one did: its type and fields stay what the failed result reports.
    """

    def __init__(self, message: str, fields: dict, cause: Optional[ImdsError] = None) -> None:
        super(ScheduledEventsTaskError, self).__init__(message)
        self.fields = fields
        self.cause = cause

    def __str__(self) -> str:
        return str(self.cause) if self.cause is not None else self.message

    def to_result(self) -> dict:
        details = self.cause.to_result() if self.cause is not None else super(ScheduledEventsTaskError, self).to_result()
        details.update(self.fields)
        return details


def run(params: dict, check_mode: bool, context: dict) -> dict:
    """The whole task for validated ``params`` (the ``ModuleEntry`` contract): the module result; raises ImdsError.

    On the controller for a Windows host (``context`` holds the transport), the waiting loop runs there too.
    """
    problem = option_problem(params)
    if problem:
        raise ImdsRequestError(problem)
    result = dict(changed=False, approved=[], already_started=[], gone=[])
    try:
        # api_version is the scheduled events one, which IMDS's instance paths do not know: compute.name
        # (only_this_vm) is read at the client's default instance api-version instead of after a 400.
        client = client_from_params(dict(params, api_version=None), **context)
        if params["api_version"]:
            check_api_version(params["api_version"])  # before compute.name is read for only_this_vm
        reader = EventsReader(client, params)
        if params["only_this_vm"]:
            reader.vm_name = result["vm_name"] = reader.this_vm_name()
            if not reader.vm_name:
                raise ImdsRequestError("IMDS returned an empty compute.name; set vm_name for only_this_vm.")
        try:
            incarnation, events, matched, waited = wait(reader, params)
        except WaitTimeout as exc:
            incarnation, events, matched, waited = exc.args
            result.update(document_incarnation=incarnation, waited=waited,
                          events=[e.to_result(reader.vm_name) for e in matched])
            raise ScheduledEventsTaskError(timeout_message(params, events, matched, waited), result)
        if params["approve"]:
            plan = approve(client, reader, events, matched, params, check_mode)
            result.update(approved=plan.to_approve, already_started=plan.already_started, gone=plan.gone,
                          changed=bool(plan.to_approve))
    except ScheduledEventsTaskError:
        raise
    except ImdsError as exc:
        raise ScheduledEventsTaskError(exc.message, result, cause=exc)
    result.update(document_incarnation=incarnation, events=[e.to_result(reader.vm_name) for e in matched],
                  waited=round(waited, 3), api_version=reader.api_version)
    return result


ENTRY = ModuleEntry(argument_spec=argument_spec, run=run, rules={})
