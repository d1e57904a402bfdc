#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: metadata_facts
short_description: Gather Azure VM facts from the Instance Metadata Service
version_added: 0.1.0
description:
  - Reads C(/metadata/instance) from the Azure Instance Metadata Service (IMDS) with ONE HTTP request
    and returns it as the fact C(azure_imds).
  - C(compute) and C(network) are exactly what IMDS returned (every value stays a string), except that
    C(compute.userData) is left out unless O(include_user_data=true).
  - C(tags) is a dictionary of tag names to values, built from C(compute.tagsList) when that list is not
    empty, else parsed from C(compute.tags).
  - Run it on the Azure VM itself; IMDS answers only from inside the VM.
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.flow
  - imds.azure.attributes
  - action_common_attributes.facts
  - imds.azure.client
  - imds.azure.client.api_version
attributes:
  check_mode:
    support: full
    details: The module only reads, so check mode gathers the same facts.
  facts:
    support: full
options:
  include_user_data:
    description:
      - Keep C(compute.userData) (base64 text) in the fact.
      - Off by default because facts are cached and logged, and user data often holds secrets.
      - When V(true), the answer crosses the connection sealed to a key pair the action plugin makes for the
        task (as for M(imds.azure.identity_token)), and the task result is hidden from output (as C(no_log)
        does); the fact is set all the same. C(async) is refused then.
      - Refused when the module runs without its action plugin, as in a play's own fact gathering
        (C(ansible_facts_modules), M(ansible.builtin.gather_facts), M(imds.azure.gather_facts)), where nothing
        would seal the user data. Gather it in a task of this module instead.
    type: bool
    default: false
  include_loadbalancer:
    description:
      - Also read C(/metadata/loadbalancer) (one more request) into C(azure_imds.loadbalancer) - the Standard Load
        Balancer's public IPs, inbound and outbound rules for this VM.
      - A VM behind no Standard Load Balancer gets an empty dictionary, not a failure.
      - Uses O(api_version) when it is V(2020-10-01) or newer, else the newest version.
    type: bool
    default: false
    version_added: 0.2.0
notes:
  - Values from IMDS are data, never templates; ansible-core does not template them.
  - To gather these facts in a play's own fact gathering (C(ansible_facts_modules)), see the
    R(Windows guide,ansible_collections.imds.azure.docsite.guide_windows); ansible-core runs facts modules
    without their action plugins, which Windows hosts need.
seealso:
  - module: imds.azure.metadata_info
  - plugin: imds.azure.imds
    plugin_type: inventory
    description: Groups hosts by the facts this module gathered into a fact cache.
  - module: ansible.builtin.setup
author:
  - imds.azure contributors (@imds-azure)
"""

EXAMPLES = r"""
- name: Gather IMDS facts
  imds.azure.metadata_facts:

- name: Show where the VM runs
  ansible.builtin.debug:
    msg: >-
      {{ ansible_facts.azure_imds.compute.name }} is in {{ ansible_facts.azure_imds.compute.location }},
      zone {{ ansible_facts.azure_imds.compute.zone or 'none' }},
      fault domain {{ ansible_facts.azure_imds.compute.platformFaultDomain }}

- name: Act on a tag
  ansible.builtin.debug:
    msg: This is a web server
  when: ansible_facts.azure_imds.tags.Role | default('') == 'web'

# The same task gathers on Linux and on Windows hosts (WinRM, PSRP or SSH with PowerShell); no "when" needed.
- name: Gather IMDS facts on a mixed group
  imds.azure.metadata_facts:
    max_retry_time: 30

- name: Pin an older api-version and wait at most 20 s for IMDS
  imds.azure.metadata_facts:
    api_version: '2021-02-01'
    max_retry_time: 20
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to C(ansible_facts).
  returned: success
  type: complex
  contains:
    azure_imds:
      description: The VM's instance metadata.
      returned: success
      type: complex
      contains:
        compute:
          description:
            - The C(compute) object of C(/metadata/instance), unchanged except for C(userData).
            - Which keys exist depends on O(api_version) and on the VM.
          returned: success
          type: dict
          sample:
            location: westus
            name: examplevmname
            platformFaultDomain: '36'
            platformUpdateDomain: '42'
            vmSize: Standard_A3
            zone: ''
            tags: baz:bash;foo:bar
        network:
          description: The C(network) object of C(/metadata/instance), unchanged.
          returned: success
          type: dict
          sample:
            interface:
              - ipv4:
                  ipAddress:
                    - privateIpAddress: 10.144.133.132
                      publicIpAddress: ''
                  subnet:
                    - address: 10.144.133.128
                      prefix: '26'
                ipv6:
                  ipAddress: []
                macAddress: 0011AAFFBB22
        tags:
          description:
            - The VM's tags as a dictionary, from C(compute.tagsList), or from C(compute.tags) when
              the list is empty or missing.
            - In C(compute.tags) each entry is split at its first C(:), so values may contain C(:).
          returned: success
          type: dict
          sample:
            baz: bash
            foo: bar
        api_version:
          description: The api-version that answered.
          returned: success
          type: str
          sample: '2025-04-07'
        loadbalancer:
          description:
            - C(publicIpAddresses), C(inboundRules) and C(outboundRules) of the VM's Standard Load Balancer, as IMDS
              returned them (ports are integers); empty when the VM is behind none.
          returned: when O(include_loadbalancer=true)
          type: dict
          version_added: 0.2.0
          sample:
            publicIpAddresses: [{frontendIpAddress: 51.0.0.1, privateIpAddress: 10.1.0.4}]
            inboundRules: [{frontendIpAddress: 50.0.0.1, protocol: tcp, frontendPort: 80, backendPort: 443,
                            privateIpAddress: 10.1.0.4}]
            outboundRules: [{frontendIpAddress: 50.0.0.1, privateIpAddress: 10.1.0.4}]
"""

from ansible_collections.imds.azure.plugins.module_utils._errors import (
    ImdsBadResponseError,
    ImdsNotFoundError,
    ImdsRequestError,
)
from ansible_collections.imds.azure.plugins.module_utils._facts import (
    FACT_NAME,
    InstanceDocumentError,
    build_fact,
)
from ansible_collections.imds.azure.plugins.module_utils._module_adapter import (
    client_argument_spec,
    client_from_params,
    run_module,
)


def argument_spec() -> dict:
    spec = client_argument_spec()
    spec.update(include_user_data=dict(type="bool", default=False),
                include_loadbalancer=dict(type="bool", default=False))
    return spec


def gather(params: dict, **context) -> dict:
    """The module result for validated ``params``; raises ImdsError.

    ``context`` (transport, environ) is given when this runs on the controller for a
    Windows host, through the action plugin.
    """
    if params["include_user_data"] and not params.get("_seal_to"):
        raise ImdsRequestError(
            "include_user_data needs the imds.azure.metadata_facts action plugin, which seals the user data so that no "
            "connection prints it; ansible.builtin.gather_facts (and ansible_facts_modules) run the module without "
            "it. Gather user data in a task of imds.azure.metadata_facts, or leave include_user_data out.")
    client = client_from_params(params, **context)
    result = client.instance()
    try:
        fact = build_fact(result.data, result.api_version, params["include_user_data"])
    except InstanceDocumentError as exc:
        raise ImdsBadResponseError(
            "IMDS at %s returned an instance document of the wrong shape: %s." % (result.url, exc),
            url=result.url)
    if params["include_loadbalancer"]:
        fact["loadbalancer"] = loadbalancer(client)
    return client.with_warnings(dict(changed=False, ansible_facts={FACT_NAME: fact}))


def loadbalancer(client) -> dict:
    """The Standard Load Balancer object, unwrapped from IMDS's ``{"loadbalancer": {...}}``; {} when there is none."""
    try:
        result = client.loadbalancer()
    except ImdsNotFoundError:
        return {}  # no Standard Load Balancer in front of this VM
    data = result.data
    if isinstance(data, dict) and isinstance(data.get("loadbalancer"), dict):
        return data["loadbalancer"]
    if data in (None, {}, ""):
        return {}
    raise ImdsBadResponseError("IMDS at %s returned load balancer data of the wrong shape (expected an object "
                               "with a loadbalancer key)." % result.url, url=result.url)


def main() -> None:
    run_module(argument_spec(), gather)


if __name__ == "__main__":
    main()
