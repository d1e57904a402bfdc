# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""The logic of imds.azure.attestation_info on the host: fetch the attested document (the controller verifies)."""

from typing import Optional

import re

from ansible_collections.imds.azure.plugins.module_utils._client import ImdsClient, ImdsResult
from ansible_collections.imds.azure.plugins.module_utils._errors import ImdsBadResponseError, ImdsRequestError
from ansible_collections.imds.azure.plugins.module_utils._module_adapter import (
    ModuleEntry,
    client_argument_spec,
    client_from_params,
)

# Used with fullmatch: "$" would also match before a trailing newline.
_NONCE_RE = re.compile(r"[A-Za-z0-9]{1,32}")

# Options the action plugin uses on the controller; the module accepts and ignores them.
CONTROLLER_OPTIONS = dict(
    ca_path=dict(type="path"),
    intermediates_path=dict(type="path"),
    expected_vm_id=dict(type="str"),
    valid_at=dict(type="str"),
    aia_fetch=dict(type="bool", default=True),
    aia_allowed_hosts=dict(type="list", elements="str"),
    aia_cache_dir=dict(type="path", default="~/.cache/imds.azure/aia"),
    fail_on_invalid=dict(type="bool", default=True),
)


def attested_document(client: ImdsClient, nonce: Optional[str] = None) -> ImdsResult:
    """GET /metadata/attested/document, with ``nonce`` (1 to 32 letters or digits) when given."""
    params = {}
    if nonce is not None:
        if not _NONCE_RE.fullmatch(nonce):
            raise ImdsRequestError("The attestation nonce must be 1 to 32 letters or digits, got %r." % nonce)
        params["nonce"] = nonce
    return client.get("attested/document", params=params)


def argument_spec() -> dict:
    spec = client_argument_spec()
    spec.update(nonce=dict(type="str"), check_vm_id=dict(type="bool", default=True))
    spec.update(CONTROLLER_OPTIONS)
    return spec


def run(params: dict, check_mode: bool, context: dict) -> dict:  # pylint: disable=unused-argument
    """The module result for validated ``params``: the attested document and the VM's own vmId; raises ImdsError.

    Verifying is the action plugin's job, on the controller.
    """
    client = client_from_params(params, **context)
    answer = attested_document(client, nonce=params["nonce"])
    if not isinstance(answer.data, dict) or not isinstance(answer.data.get("signature"), str):
        raise ImdsBadResponseError("The attested document from %s has no signature." % answer.url, url=answer.url)
    vm_id = client.instance(["compute", "vmId"], text=True).text.strip() if params["check_vm_id"] else None
    return dict(changed=False, attested_document=dict(encoding=answer.data.get("encoding"),
                                                      signature=answer.data["signature"]),
                vm_id=vm_id, nonce=params["nonce"], api_version=answer.api_version)


ENTRY = ModuleEntry(argument_spec=argument_spec, run=run, rules={})
