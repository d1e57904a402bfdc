# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Adapt module options to the IMDS client, and client errors to module failures."""

from collections import namedtuple
from typing import List, Optional, Sequence

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.imds.azure.plugins.module_utils._api_versions import DEFAULT_API_VERSION
from ansible_collections.imds.azure.plugins.module_utils._client import DEFAULT_MAX_RETRY_TIME, ImdsClient
from ansible_collections.imds.azure.plugins.module_utils._errors import ImdsError
from ansible_collections.imds.azure.plugins.module_utils._seal import SealError, sealed_result
from ansible_collections.imds.azure.plugins.module_utils._transport import DEFAULT_READ_TIMEOUT


# The one contract of an imds.azure IMDS module's logic, declared in its module_utils as ``ENTRY``:
# ``argument_spec()`` gives a fresh argument spec (validate-modules holds the module's DOCUMENTATION equal to
# it), ``rules`` are AnsibleModule's checks beyond it (``mutually_exclusive``...), and
# ``run(params, check_mode, context)`` returns the module result or raises ImdsError. ``context`` holds
# ``warnings``, the list the run's client adds its warnings to, which the caller reports however the run
# ends; on the controller for a Windows host also the client's ``transport`` and the ``environ`` the
# module would have seen. The module file's main() runs it (``run_module``), and so does the action plugin
# for Windows hosts (``plugin_utils/_imds_action``): one entry, never the module file.
ModuleEntry = namedtuple("ModuleEntry", ["argument_spec", "run", "rules"])


def client_argument_spec(api_version_default: Optional[str] = DEFAULT_API_VERSION) -> dict:
    """The options of the ``imds.azure.client`` doc fragment (and its ``api_version`` part)."""
    return dict(
        endpoint=dict(type="str"),
        api_version=dict(type="str", default=api_version_default),
        timeout=dict(type="float", default=DEFAULT_READ_TIMEOUT),
        max_retry_time=dict(type="float", default=DEFAULT_MAX_RETRY_TIME),
        _seal_to=dict(type="str"),
    )


def client_from_params(params: dict, **context) -> ImdsClient:
    """The client for validated module options.

    ``context`` is the entry's (see ``ModuleEntry``): the ``warnings`` list, and for a client that runs
    on the controller for another host (Windows) its ``transport`` and the ``environ`` the module would
    have seen.
    """
    return ImdsClient(
        endpoint=params.get("endpoint"),
        api_version=params.get("api_version") or DEFAULT_API_VERSION,
        timeout=params["timeout"],
        max_retry_time=params["max_retry_time"],
        **context
    )


def failure_result(error: ImdsError) -> dict:
    """The failed task result for ``error``: its message and its structured fields."""
    details = error.to_result()
    details.update(failed=True, msg=str(error))
    return details


def run_module(entry: ModuleEntry) -> None:
    """A module's main: validate the options, run the entry, exit with its result or fail with its ImdsError."""
    module = AnsibleModule(argument_spec=entry.argument_spec(), supports_check_mode=True, **entry.rules)
    warnings: List[str] = []
    try:
        result = entry.run(module.params, module.check_mode, {"warnings": warnings})
    except ImdsError as exc:
        fail_with(module, exc, warnings)
        return
    _warn_all(module, warnings)
    if module.params.get("_seal_to"):
        # The action plugin asked: the answer is secret, and only ciphertext may cross the connection.
        try:
            result = sealed_result(module.params["_seal_to"], result)
        except SealError as exc:
            module.fail_json(msg="Cannot seal the answer: %s. This option is set by the action plugin." % exc)
    module.exit_json(**result)


def fail_with(module, error: ImdsError, warnings: Sequence[str] = ()) -> None:
    """Fail the module with the error's message and its structured fields, after the run's ``warnings``."""
    details = failure_result(error)
    del details["failed"]
    _warn_all(module, warnings)
    module.fail_json(**details)


def _warn_all(module, warnings: Sequence[str]) -> None:
    for warning in warnings:
        module.warn(warning)  # exit_json(warnings=...) is deprecated from ansible-core 2.19
