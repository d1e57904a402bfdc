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

from ansible_collections.imds.azure.plugins.module_utils._module_adapter import run_module
from ansible_collections.imds.azure.plugins.module_utils._scheduled_events_logic import ENTRY


def main():
    run_module(ENTRY)


if __name__ == "__main__":
    main()
