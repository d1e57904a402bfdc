# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""The logic of imds.azure.metadata_facts: one instance read (and the load balancer, if asked) into the fact."""

from ansible_collections.imds.azure.plugins.module_utils._client import ImdsClient
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
    ModuleEntry,
    client_argument_spec,
    client_from_params,
)
from ansible_collections.imds.azure.plugins.module_utils._path_rules import rule_for, version_for


def argument_spec() -> dict:
    spec = client_argument_spec()
    spec.update(include_user_data=dict(type="bool", default=False),
                include_loadbalancer=dict(type="bool", default=False))
    return spec


def run(params: dict, check_mode: bool, context: dict) -> dict:  # pylint: disable=unused-argument
    """The module result for validated ``params``; raises ImdsError (the ``ModuleEntry`` contract)."""
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
    return dict(changed=False, ansible_facts={FACT_NAME: fact})


def loadbalancer(client: ImdsClient) -> dict:
    """The Standard Load Balancer object, unwrapped from IMDS's ``{"loadbalancer": {...}}``; {} when there is none."""
    try:
        # The load balancer category exists from 2020-10-01: an older api_version is replaced by its newest.
        result = client.get("loadbalancer", api_version=version_for(rule_for(("loadbalancer",)), client.api_version))
    except ImdsNotFoundError:
        return {}  # no Standard Load Balancer in front of this VM
    data = result.data
    if isinstance(data, dict) and isinstance(data.get("loadbalancer"), dict):
        return data["loadbalancer"]
    if data in (None, {}, ""):
        return {}
    raise ImdsBadResponseError("IMDS at %s returned load balancer data of the wrong shape (expected an object "
                               "with a loadbalancer key)." % result.url, url=result.url)


ENTRY = ModuleEntry(argument_spec=argument_spec, run=run, rules={})
