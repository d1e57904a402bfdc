#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: scheduled_events
short_description: List, wait for and approve Azure scheduled events
version_added: 0.2.0
description:
  - Reads C(/metadata/scheduledevents) from the Azure Instance Metadata Service (IMDS) and returns the events
    parsed, with C(NotBefore) as ISO 8601.
  - Can wait until an event of some types appears (O(wait_for=event)) or until no matching event is listed any
    more (O(wait_for=clear)), polling IMDS no faster than O(poll_interval).
  - Can approve events (O(approve)) by POSTing C(StartRequests), which lets Azure start them before their
    C(NotBefore) time. Approving is idempotent - an event that is already started, or gone, is reported, not
    an error - and check mode reports what would be approved without sending anything.
  - Run it on the Azure VM itself; IMDS answers only from inside the VM.
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.flow
  - imds.azure.attributes
  - imds.azure.client
attributes:
  check_mode:
    support: full
    details: Lists and waits as usual; approval is reported in RV(approved) but not sent.
options:
  api_version:
    description:
      - The scheduled events api-version (they are versioned apart from the rest of IMDS).
      - V(2019-04-01) adds C(Description), V(2019-08-01) C(EventSource) and V(2020-07-01) C(DurationInSeconds);
        fields an older version does not send are returned as null.
      - A date written C(YYYY-MM-DD); anything else is refused before any request.
      - An instance api-version (one that the other modules take, such as V(2021-02-01) set for the whole
        C(group/imds.azure.imds) in C(module_defaults)) is no scheduled events version, so the module uses
        its default instead of sending it to a certain 400. The versions side by side are in the
        vocabulary guide. A date-shaped version IMDS refuses is replaced once, with a warning.
    type: str
    default: '2020-07-01'
  event_types:
    description:
      - Only these event types count (for RV(events), O(wait_for) and O(approve)). Empty means all.
    type: list
    elements: str
    choices: [Freeze, Reboot, Redeploy, Preempt, Terminate]
    default: []
  event_ids:
    description:
      - Only these events count. With O(approve), exactly these are approved (if still scheduled).
    type: list
    elements: str
    default: []
  only_this_vm:
    description:
      - Only events whose C(Resources) include this VM's name count. Scheduled events of an availability set or
        scale set list events of the other VMs too.
      - The name is O(vm_name), or C(compute.name) read from IMDS (one extra request).
    type: bool
    default: false
  vm_name:
    description:
      - The VM name that O(only_this_vm) compares with C(Resources) (case-insensitively).
    type: str
  wait_for:
    description:
      - V(event) waits until at least one matching event is listed.
      - V(clear) waits until no matching event is listed (finished events disappear from the document).
      - Not set, the module reads once.
    type: str
    choices: [event, clear]
  wait_timeout:
    description:
      - Seconds to wait for O(wait_for) before failing. The last read is made at this deadline. The failure
        still returns the last RV(events), and for O(wait_for=event) its message names the listed events that
        O(event_types), O(event_ids) or O(only_this_vm) left out.
    type: float
    default: 900
  poll_interval:
    description:
      - Seconds between reads while waiting. Microsoft suggests polling about once a second; IMDS allows about
        5 requests per second per VM, so values below V(0.25) are refused.
    type: float
    default: 1
  approve:
    description:
      - Approve the matching scheduled events (or exactly O(event_ids)) so Azure may start them now.
      - Approve only after the VM is ready, for example drained from its load balancer or cluster.
      - Needs at least one of O(event_ids), O(only_this_vm) or O(event_types); V(true) alone is refused,
        because the document of an availability set or scale set lists the other VMs' events too and
        approving those starts their maintenance early. O(event_ids) from an earlier read is the safest choice.
    type: bool
    default: false
notes:
  - "Minimum notice before an event starts on its own: Freeze and Reboot 15 minutes, Redeploy 10 minutes,
    Preempt 30 seconds, Terminate as configured (5 to 15 minutes)."
  - Events, resource names and descriptions come from IMDS and are returned as data, never templated.
  - On Windows hosts the reading, waiting and approving run on the controller, and each request is one run of
    M(imds.azure.win_imds_attempt) on the host; polls are then O(poll_interval) plus a module start apart
    (see R(the Windows guide,ansible_collections.imds.azure.docsite.guide_windows)).
  - The drain pattern (wait, drain, approve by O(event_ids), wait until clear) is in
    R(the scheduled events guide,ansible_collections.imds.azure.docsite.guide_scheduled_events).
seealso:
  - module: imds.azure.metadata_info
  - name: Azure Metadata Service Scheduled Events for Linux VMs
    description: Microsoft's documentation of scheduled events.
    link: https://learn.microsoft.com/azure/virtual-machines/linux/scheduled-events
  - name: Azure Metadata Service Scheduled Events for Windows VMs
    description: The same for Windows VMs.
    link: https://learn.microsoft.com/azure/virtual-machines/windows/scheduled-events
author:
  - imds.azure contributors (@imds-azure)
"""

EXAMPLES = r"""
- name: List the scheduled events that concern this VM
  imds.azure.scheduled_events:
    only_this_vm: true
  register: scheduled

- name: Wait up to an hour for a Freeze, Reboot or Redeploy of this VM
  imds.azure.scheduled_events:
    only_this_vm: true
    event_types: [Freeze, Reboot, Redeploy]
    wait_for: event
    wait_timeout: 3600
  register: maintenance

- name: Approve them once the node is drained
  imds.azure.scheduled_events:
    event_ids: "{{ maintenance.events | map(attribute='event_id') | list }}"
    approve: true

- name: Wait until the maintenance is over
  imds.azure.scheduled_events:
    event_ids: "{{ maintenance.events | map(attribute='event_id') | list }}"
    wait_for: clear
    wait_timeout: 1800
"""

RETURN = r"""
document_incarnation:
  description: C(DocumentIncarnation) of the last document read; it changes whenever the events change.
  returned: success
  type: int
  sample: 2
events:
  description: The matching events of the last document read (after O(event_types), O(event_ids), O(only_this_vm)).
  returned: success
  type: list
  elements: dict
  contains:
    event_id:
      description: C(EventId).
      type: str
      sample: C7061BAC-AFDC-4513-B24B-AA5F13A16123
    event_type:
      description: C(EventType), one of Freeze, Reboot, Redeploy, Preempt, Terminate.
      type: str
      sample: Freeze
    resource_type:
      description: C(ResourceType), in practice C(VirtualMachine).
      type: str
      sample: VirtualMachine
    resources:
      description: C(Resources), the names of the VMs the event concerns.
      type: list
      elements: str
      sample: [WestNO_0, WestNO_1]
    event_status:
      description: C(EventStatus), V(Scheduled) or V(Started).
      type: str
      sample: Scheduled
    not_before:
      description: C(NotBefore) as ISO 8601 (UTC); null once the event has started.
      type: str
      sample: '2026-04-11T22:26:58+00:00'
    description:
      description: C(Description); null before api-version 2019-04-01.
      type: str
      sample: Virtual machine is being paused because of a memory-preserving Live Migration operation.
    event_source:
      description: C(EventSource), V(Platform) or V(User); null before api-version 2019-08-01.
      type: str
      sample: Platform
    duration_seconds:
      description: C(DurationInSeconds), V(-1) when unknown; null before api-version 2020-07-01.
      type: int
      sample: 5
    this_vm:
      description: Whether C(resources) include this VM's name.
      returned: when O(only_this_vm) is set
      type: bool
      sample: true
vm_name:
  description: The VM name used by O(only_this_vm).
  returned: when O(only_this_vm) is set
  type: str
  sample: WestNO_0
approved:
  description: EventIds approved by this task (in check mode, the ones that would be).
  returned: success
  type: list
  elements: str
  sample: [C7061BAC-AFDC-4513-B24B-AA5F13A16123]
already_started:
  description: EventIds asked for that had already started, so needed no approval.
  returned: success
  type: list
  elements: str
  sample: []
gone:
  description: EventIds in O(event_ids) that IMDS no longer lists (finished, or never existed).
  returned: success
  type: list
  elements: str
  sample: []
waited:
  description: Seconds spent waiting for O(wait_for).
  returned: success
  type: float
  sample: 12.5
api_version:
  description: The api-version that answered.
  returned: success
  type: str
  sample: '2020-07-01'
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.imds.azure.plugins.module_utils._api_versions import DEFAULT_SCHEDULED_EVENTS_API_VERSION
from ansible_collections.imds.azure.plugins.module_utils._client import check_api_version
from ansible_collections.imds.azure.plugins.module_utils._errors import (
    ImdsBadRequestError,
    ImdsBadResponseError,
    ImdsError,
    ImdsRequestError,
    excerpt,
)
from ansible_collections.imds.azure.plugins.module_utils._module_adapter import (
    client_argument_spec,
    client_from_params,
    failure_result,
)
from ansible_collections.imds.azure.plugins.module_utils._path_rules import rule_for, version_for_request
from ansible_collections.imds.azure.plugins.module_utils._scheduled_events import (
    EVENT_TYPES,
    ScheduledEventsDocumentError,
    parse_document,
    plan_approval,
    select,
)

MIN_POLL_INTERVAL = 0.25


class WaitTimeout(Exception):
    """``wait_for`` did not come true within ``wait_timeout``."""


class EventsReader(object):
    """Reads and filters the scheduled events document as the module options say."""

    def __init__(self, client, params):
        self.client = client
        self.params = params
        self.vm_name = None
        self.api_version = version_for_request(rule_for(("scheduledevents",)), params["api_version"])

    def this_vm_name(self):
        if self.params["vm_name"]:
            return self.params["vm_name"]
        return self.client.instance(["compute", "name"], text=True).text.strip()

    def read(self):
        """Return ``(incarnation, all events, matching events)``."""
        answer = self.client.scheduled_events(api_version=self.api_version)
        self.api_version = answer.api_version
        try:
            incarnation, events = parse_document(answer.data, answer.api_version)
        except ScheduledEventsDocumentError as exc:
            raise ImdsBadResponseError("The scheduled events from %s do not have IMDS's shape: %s." % (answer.url, exc),
                                       url=answer.url)
        matched = select(events, self.params["event_types"], self.vm_name if self.params["only_this_vm"] else None,
                         self.params["event_ids"])
        return incarnation, events, matched


def wait(reader, params, clock=time.monotonic, sleep=time.sleep):
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


def describe_events(events):
    """``Reboot C7061BAC-... for vm1, vm2`` for each event (at most MAX_EVENTS_NAMED), IMDS's text shortened."""
    named = ["%s %s for %s" % (excerpt(e.event_type, 20), excerpt(e.event_id, 40),
                               excerpt(", ".join(e.resources), 80) or "no resources") for e in events[:MAX_EVENTS_NAMED]]
    if len(events) > MAX_EVENTS_NAMED:
        named.append("and %d more" % (len(events) - MAX_EVENTS_NAMED))
    return "; ".join(named)


def timeout_message(params, events, matched, waited):
    """Why ``wait_for`` did not come true: for ``event``, the listed events the filters left out."""
    if params["wait_for"] == "clear":
        return ("Waited %.0f s (wait_timeout) and the matching scheduled events were still listed: %s."
                % (waited, describe_events(matched)))
    message = "Waited %.0f s (wait_timeout) and no matching scheduled event was listed" % waited
    if not events:
        return message + "; IMDS listed no events at all."
    return ("%s. IMDS listed %d event(s) that event_types, event_ids or only_this_vm left out: %s."
            % (message, len(events), describe_events(events)))


def approve(client, reader, events, matched, params, check_mode):
    """POST StartRequests for what the plan says; a 400 (an event ended meanwhile) re-reads and re-plans once."""
    plan = plan_approval(events, params["event_ids"], matched)
    if not plan.to_approve or check_mode:
        return plan
    try:
        client.approve_scheduled_events(plan.to_approve, api_version=reader.api_version)
    except ImdsBadRequestError:
        _incarnation, events, matched = reader.read()
        plan = plan_approval(events, params["event_ids"], matched)
        if plan.to_approve:
            client.approve_scheduled_events(plan.to_approve, api_version=reader.api_version)
    return plan


def argument_spec():
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


def option_problem(params):
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


def manage(params, check_mode=False, **context):
    """The whole task for validated ``params``: the module result, ``failed`` set on failure.

    ``context`` (transport, environ) is given when this runs on the controller for a Windows
    host, through the action plugin; the waiting loop then runs on the controller too.
    """
    problem = option_problem(params)
    if problem:
        return dict(failed=True, msg=problem)
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
            result.update(failed=True, document_incarnation=incarnation, waited=waited,
                          events=[e.to_result(reader.vm_name) for e in matched],
                          msg=timeout_message(params, events, matched, waited))
            return client.with_warnings(result)
        if params["approve"]:
            plan = approve(client, reader, events, matched, params, check_mode)
            result.update(approved=plan.to_approve, already_started=plan.already_started, gone=plan.gone,
                          changed=bool(plan.to_approve))
    except ImdsError as exc:
        return failure_result(exc, **result)
    result.update(document_incarnation=incarnation, events=[e.to_result(reader.vm_name) for e in matched],
                  waited=round(waited, 3), api_version=reader.api_version)
    return client.with_warnings(result)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    result = manage(module.params, check_mode=module.check_mode)
    for warning in result.pop("warnings", []):
        module.warn(warning)  # exit_json(warnings=...) is deprecated from ansible-core 2.19
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
