#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: identity_token
short_description: Get a managed-identity access token from the Azure Instance Metadata Service
version_added: 0.2.0
description:
  - Asks IMDS (C(/metadata/identity/oauth2/token)) for an access token of the VM's managed identity, for
    O(resource).
  - The task result is always hidden from output, as C(no_log) does, at every verbosity and for every
    callback, including C(-vvvv) and C(log_path). The registered variable still holds the token, so the next
    task can use it, for example in an C(Authorization) header of M(ansible.builtin.uri).
  - Never put the token in facts (C(set_fact) with C(cacheable), fact caches) and give every task that uses
    it C(no_log) too, because the token is shown wherever a task prints its own arguments.
  - Retries 404 (the identity may still be being assigned while the VM starts), 408, 429 and 5xx with
    exponential waits, and 410 for up to 70 seconds, as IMDS documents; 400, 401 and 403 are never retried.
  - Error messages name the path and the status, never what IMDS answered.
  - The token never crosses the connection in clear, so no connection plugin can print it (ansible.builtin.ssh
    prints a module's raw output at C(-vvv), ansible.builtin.winrm at C(-vvvvv) on patch releases without its
    C(no_log) fix). The action plugin makes an RSA 2048 key pair on the controller for the task and gives the
    host only the public key; the module (on Windows hosts M(imds.azure.win_imds_attempt), for each attempt)
    seals its answer to it, and the controller opens it. At C(-vvvvv) a connection shows an envelope of base64
    ciphertext (C(sealed)), never the token.
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.flow
  - imds.azure.attributes
  - imds.azure.client
attributes:
  check_mode:
    support: full
    details: Getting a token changes nothing, so check mode gets one too (the next task may need it).
  async:
    support: none
    details: Refused, because an async job's result reaches the output through C(async_status), unhidden.
options:
  resource:
    description:
      - The App ID URI of the resource the token is for, for example V(https://management.azure.com/) or
        V(https://vault.azure.net).
    type: str
    required: true
  client_id:
    description:
      - Client ID of the user-assigned identity to use. Without O(client_id), O(object_id) or O(msi_res_id), the
        system-assigned identity (or the only user-assigned one) is used.
      - Mutually exclusive with O(object_id) and O(msi_res_id).
    type: str
  object_id:
    description:
      - Object (principal) ID of the user-assigned identity to use.
    type: str
  msi_res_id:
    description:
      - Azure resource ID of the user-assigned identity to use, as
        C(/subscriptions/.../resourceGroups/.../providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME).
    type: str
  api_version:
    description:
      - The IMDS api-version to request. Identity exists from V(2018-02-01).
    type: str
    default: '2018-02-01'
notes:
  - A VM that has no identity matching the selector gets 400 C(invalid_request) from IMDS; the error says so.
  - The token is a bearer credential valid for about an hour (RV(expires_on)). Ask again rather than cache it.
seealso:
  - module: imds.azure.metadata_info
  - name: How to use managed identities for Azure resources on a VM to acquire an access token
    description: Microsoft's documentation of the token endpoint.
    link: https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token
author:
  - imds.azure contributors (@imds-azure)
"""

EXAMPLES = r"""
- name: Get a token for Key Vault with the VM's system-assigned identity
  imds.azure.identity_token:
    resource: https://vault.azure.net
  register: vault_token

- name: Read a secret with it (no_log, because this task's arguments hold the token)
  ansible.builtin.uri:
    url: https://myvault.vault.azure.net/secrets/db-password?api-version=7.4
    headers:
      Authorization: "{{ vault_token.token_type }} {{ vault_token.access_token }}"
  register: secret
  no_log: true

- name: Use a user-assigned identity, chosen by its client ID
  imds.azure.identity_token:
    resource: https://management.azure.com/
    client_id: 00000000-0000-0000-0000-000000000000
  register: arm_token
"""

RETURN = r"""
access_token:
  description: The access token (a JWT). Hidden from output; use it from the registered variable.
  returned: success
  type: str
  sample: eyJ0eXAi...
token_type:
  description: How to present the token, in practice V(Bearer).
  returned: success
  type: str
  sample: Bearer
resource:
  description: The resource the token is for, as IMDS returned it.
  returned: success
  type: str
  sample: https://management.azure.com/
expires_on:
  description: When the token expires, ISO 8601 in UTC.
  returned: success
  type: str
  sample: '2017-09-27T03:49:33+00:00'
expires_on_epoch:
  description: When the token expires, in seconds since the epoch.
  returned: success
  type: int
  sample: 1506484173
expires_in:
  description: Seconds the token was valid for when IMDS issued it.
  returned: success
  type: int
  sample: 3599
client_id:
  description: Client ID of the identity the token belongs to, when IMDS returned it.
  returned: when IMDS returned it
  type: str
  sample: be5947ed-3560-4afe-9504-59967a63f810
api_version:
  description: The api-version that answered.
  returned: success
  type: str
  sample: '2018-02-01'
"""

import datetime

from ansible_collections.imds.azure.plugins.module_utils._errors import ImdsBadResponseError
from ansible_collections.imds.azure.plugins.module_utils._module_adapter import (
    client_argument_spec,
    client_from_params,
    run_module,
)

IDENTITY_API_VERSION = "2018-02-01"
SELECTORS = ("client_id", "object_id", "msi_res_id")


def _integer(token: dict, key: str, url: str) -> int:
    """IMDS sends numbers in the token answer as strings; say which field is wrong, never its value."""
    try:
        return int(str(token.get(key)).strip())
    except ValueError:
        raise ImdsBadResponseError("The identity token answer from %s has no integer %s field." % (url, key),
                                   url=url)


def describe_token(token, url: str, api_version: str) -> dict:
    """The module result for one token answer (``token`` is the parsed JSON)."""
    if not isinstance(token, dict) or not isinstance(token.get("access_token"), str) or not token["access_token"]:
        raise ImdsBadResponseError("The identity token answer from %s has no access_token field." % url, url=url)
    expires_on = _integer(token, "expires_on", url)
    result = {
        "access_token": token["access_token"],
        "token_type": str(token.get("token_type") or "Bearer"),
        "resource": str(token.get("resource", "")),
        "expires_on_epoch": expires_on,
        "expires_on": datetime.datetime.fromtimestamp(expires_on, tz=datetime.timezone.utc).isoformat(),
        "expires_in": _integer(token, "expires_in", url),
        "api_version": api_version,
    }
    if isinstance(token.get("client_id"), str):
        result["client_id"] = token["client_id"]
    return result


# AnsibleModule's rules beyond the argument spec; the controller-side validation (Windows hosts) uses them too.
ARGUMENT_RULES = dict(mutually_exclusive=[SELECTORS])


def argument_spec() -> dict:
    spec = client_argument_spec(api_version_default=IDENTITY_API_VERSION)
    spec.update(
        resource=dict(type="str", required=True),
        client_id=dict(type="str"),
        object_id=dict(type="str"),
        msi_res_id=dict(type="str"),
    )
    return spec


def get_token(params: dict, **context) -> dict:
    """The module result for validated ``params``; raises ImdsError (whose messages never quote the answer).

    ``context`` (transport, environ) is given when this runs on the controller for a Windows
    host, through the action plugin.
    """
    client = client_from_params(params, **context)
    answer = client.identity_token(params["resource"], **dict((key, params[key]) for key in SELECTORS))
    result = describe_token(answer.data, answer.url, answer.api_version)
    result["changed"] = False
    return client.with_warnings(result)


def main() -> None:
    run_module(argument_spec(), get_token, **ARGUMENT_RULES)


if __name__ == "__main__":
    main()
