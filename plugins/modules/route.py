# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# imds.azure.route is implemented by its action plugin (plugins/action/route.py), which decides on the
# controller; this file holds the documentation, and a main() only for a run without that action plugin.

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
  - "Windows: reads C(Get-NetRoute) of both policy stores (C(ActiveStore) and C(PersistentStore)), with
    RouteMetric and InterfaceMetric apart, through M(ansible.windows.win_powershell), and changes one route in
    one store at a time with C(Remove-NetRoute) and C(New-NetRoute). Both stores are planned (the persistent one
    when O(persistent) is true) and the result says which changed. The scripts are the C(.ps1) files in
    C(plugins/plugin_utils/powershell/) of the collection; they run no native command."
  - "Windows: interfaces are named in the plan by their source address, chosen by a stated rule so that a
    cluster node whose adapter also carries cluster IP addresses gets its own primary address - the IPv4
    addresses that are C(Preferred), not C(SkipAsSource) and of PrefixOrigin C(Dhcp) or C(Manual); among them
    the one whose subnet holds the interface's default gateway, then the lowest PrefixOrigin value (C(Manual)
    before C(Dhcp)), then the lowest address. The route added is on-link on that interface (next hop
    C(0.0.0.0)), as C(route add 169.254.169.254/32 <that address> metric 1 -p) makes it."
  - "Linux: reads C(ip -j -4 route show table main), removes a wrong route with C(ip route del), adds with
    C(ip route replace 169.254.169.254/32 via <gateway> dev <device> metric <metric>). A multipath default
    route counts with its first next hop. For persistence it uses NetworkManager (every connection is read
    and changed by UUID; an IMDS route that an earlier run added to the connection of another interface is
    removed from it) or a systemd-networkd drop-in when one of them manages the device; otherwise the result
    says the route lasts until reboot."
  - After a change, the stores are read again, and the module fails unless nothing is left to do, so one run
    converges.
  - Then, with O(verify), one check that IMDS answers, by M(imds.azure.metadata_info) with its retry policy.
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
    description:
      - Keep the route across reboots - the Windows persistent store, or on Linux the NetworkManager connection or
        systemd-networkd drop-in of the device - as part of the desired state; a route that is only active is then
        missing there.
      - With V(false) only the active store is planned and the persistent one is left as it is (V(absent) still
        removes the IMDS routes of both).
    type: bool
    default: true
  verify:
    description:
      - With O(state=present), outside check mode, read C(instance/compute/vmId) from IMDS once, through
        M(imds.azure.metadata_info) and so with the facts modules' client policy (retries of 410, 429 and 5xx,
        pacing, api-version negotiation), and fail, naming the interface and gateway, when IMDS does not answer.
      - This is the only check; the C(imds.azure.imds_route) role has no other.
    type: bool
    default: true
  verify_timeout:
    description:
      - Seconds the check of O(verify) may take in all (its C(max_retry_time)); each attempt waits at most
        5 seconds or this, whichever is less.
    type: float
    default: 10
  scope:
    description:
      - V(any) changes any Windows or Linux host.
      - V(failover_cluster) changes only Windows hosts that are failover-cluster members - the local node is
        listed by C(Get-ClusterNode), or the cluster service C(ClusSvc) is running (the service exists, stopped,
        wherever the feature is installed, so its presence alone does not count). Other hosts are skipped.
    type: str
    choices: [any, failover_cluster]
    default: any
    version_added: 0.2.0
  interface:
    description:
      - Use this interface instead of the primary default route's.
      - On Windows give its InterfaceIndex (a number, as C(route print) and C(Get-NetAdapter) show it), its
        InterfaceAlias (for example C(Ethernet 2), compared without regard to case) or its IPv4 source address.
      - On Linux give the device name.
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
  - Windows - the ansible.windows collection; Windows PowerShell 5.1 (Windows Server 2016 or later).
notes:
  - Run with privileges (C(become) on Linux, an administrator on Windows).
  - Only routes for exactly C(169.254.169.254/32) are ever removed.
  - The argument spec of the action is read from this documentation, so the two cannot differ.
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

- name: Only on failover-cluster members, the primary NIC given by its alias
  imds.azure.route:
    scope: failover_cluster
    interface: Ethernet

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
cluster_membership:
  description:
    - On Windows hosts, whether the host is a failover-cluster member and why - the decision O(scope=failover_cluster)
      acts on, reported with any O(scope). C(member) is true when C(Get-ClusterNode) lists the host, or else when the
      cluster service C(ClusSvc) is running; C(reason) names what was seen (the cmdlet's error included).
    - C(member) is null when the host's answer could not be read (C(reason) says why); with O(scope=failover_cluster)
      that fails the task.
  returned: on Windows hosts
  type: dict
  sample:
    member: true
    reason: "the cluster service ClusSvc is running (Get-ClusterNode: The cluster service is not running.)"
commands:
  description: What the plan needs run (also in check mode, where nothing is run).
  returned: always
  type: list
  elements: str
  sample:
    - "New-NetRoute -DestinationPrefix 169.254.169.254/32 -InterfaceIndex 7 -NextHop 0.0.0.0 -RouteMetric 1 -PolicyStore ActiveStore"
ran:
  description: What was run.
  returned: when changed outside check mode
  type: list
  elements: str
changed_stores:
  description: The stores whose C(169.254.169.254/32) routes changed (C(active), C(persistent)), read back from the host.
  returned: when changed outside check mode
  type: list
  elements: str
  sample: [active, persistent]
  version_added: 0.2.0
persistence:
  description: How the route was made to survive reboots, or why it was not.
  returned: when changed outside check mode
  type: dict
  sample: {method: none, note: "no NetworkManager connection or systemd-networkd .network file manages eth0: ..."}
verified:
  description: Whether IMDS answered (the check of O(verify)).
  returned: when the check ran
  type: bool
platform:
  description: C(linux) or C(windows).
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.imds.azure.plugins.module_utils._route_options import argument_spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.fail_json(msg="imds.azure.route runs through its action plugin, on the controller; this module was run "
                         "without it. Call it as imds.azure.route in a task, with the collection installed on the "
                         "controller.")


if __name__ == "__main__":
    main()
