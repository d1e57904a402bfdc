# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file only documents the module: imds.azure.route is implemented by its action
# plugin (plugins/action/route.py), which decides on the controller.

DOCUMENTATION = r"""
---
module: route
short_description: Install (or remove) the route to the Azure Instance Metadata Service
version_added: 0.1.0
description:
  - Makes sure C(169.254.169.254/32) is routed out of the primary interface, as Microsoft documents for
    Windows Server failover clusters, whose cluster adapter owns an on-link C(169.254.0.0/16) route that
    sends IMDS traffic to the wrong interface. Multi-NIC Linux VMs can suffer the same.
  - Reads the host's IPv4 route table, decides on the controller with
    P(imds.azure.imds_route_plan#filter), and changes only what the plan says. A route for
    C(169.254.169.254/32) on another interface, with another gateway or another metric is replaced.
  - "Windows: reads C(Get-NetRoute) as JSON through M(ansible.windows.win_powershell), removes a wrong
    route with C(Remove-NetRoute) and adds the right one with C(route -p add 169.254.169.254 mask
    255.255.255.255 <interface address> metric <metric> if <index>)."
  - "Linux: reads C(ip -j -4 route show table main), removes a wrong route with C(ip route del), adds with
    C(ip route replace 169.254.169.254/32 via <gateway> dev <device> metric <metric>). For persistence it
    uses NetworkManager (C(nmcli connection modify ... +ipv4.routes)) or a systemd-networkd drop-in when one
    of them manages the device; otherwise the result says the route lasts until reboot."
  - After a change it proves that IMDS answers through the new route (O(verify)).
options:
  state:
    description:
      - V(present) installs the route; V(absent) removes every C(169.254.169.254/32) route, and nothing else.
    type: str
    choices: [present, absent]
    default: present
  metric:
    description: The route metric.
    type: int
    default: 1
  persistent:
    description: Keep the route across reboots (Windows persistent store; NetworkManager or systemd-networkd on Linux).
    type: bool
    default: true
  verify:
    description:
      - After a change, read C(instance/compute/vmId) from IMDS through the new route and fail, naming the
        interface and gateway, when it does not answer.
    type: bool
    default: true
  verify_timeout:
    description: Seconds to wait for IMDS during O(verify).
    type: float
    default: 10
  interface:
    description:
      - Use this interface instead of the default route's. On Windows give its IPv4 address (as
        C(route print) shows it) or its InterfaceIndex; on Linux the device name.
    type: str
  gateway:
    description:
      - Use this gateway. By default it is the interface's own address on Windows (on-link, as Microsoft
        documents) and the default route's gateway on Linux.
    type: str
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: Reads the table and reports the plan and the commands it would run, changing nothing.
  diff_mode:
    support: full
    details: Shows the C(169.254.169.254/32) routes before and after.
  platform:
    platforms: posix, windows
requirements:
  - Linux - iproute2 4.13 or newer (C(ip -j)).
  - Windows - the ansible.windows collection.
notes:
  - Run with privileges (C(become) on Linux, an administrator on Windows).
  - Only routes for exactly C(169.254.169.254/32) are ever removed.
  - The M(imds.azure.route) module is what the C(imds.azure.imds_route) role runs on each host.
seealso:
  - plugin: imds.azure.imds_route_plan
    plugin_type: filter
author:
  - imds.azure contributors (@imds-azure)
"""

EXAMPLES = r"""
- name: Fix the IMDS route on a failover cluster node (check first with --check --diff)
  imds.azure.route:

- name: Use a given interface and gateway, without making it persistent
  imds.azure.route:
    interface: eth1
    gateway: 10.1.0.1
    persistent: false
  become: true

- name: Remove the IMDS route
  imds.azure.route:
    state: absent
"""

RETURN = r"""
plan:
  description: The decision (see P(imds.azure.imds_route_plan#filter)).
  returned: always
  type: dict
  sample:
    needed: true
    reason: "no route for 169.254.169.254/32; 169.254.169.254 now goes to 169.254.0.0/16 on-link on interface 169.254.1.156"
    destination: 169.254.169.254/32
    interface: 10.0.1.10
    gateway: 10.0.1.10
    metric: 1
    state: present
    remove: []
commands:
  description: What the plan needs run (also in check mode, where nothing is run).
  returned: always
  type: list
  elements: str
  sample: ["ip route replace 169.254.169.254/32 via 10.0.0.1 dev eth0 metric 1"]
ran:
  description: What was run.
  returned: when changed outside check mode
  type: list
  elements: str
persistence:
  description: How the route was made to survive reboots, or why it was not.
  returned: when changed outside check mode
  type: dict
  sample: {method: none, note: "no NetworkManager connection or systemd-networkd .network file manages eth0: ..."}
verified:
  description: Whether IMDS answered through the new route.
  returned: when verify ran
  type: bool
platform:
  description: C(linux) or C(windows).
  returned: always
  type: str
"""
