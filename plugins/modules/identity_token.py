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

from ansible_collections.imds.azure.plugins.module_utils._module_adapter import run_module
from ansible_collections.imds.azure.plugins.module_utils._identity_token_logic import ENTRY


def main():
    run_module(ENTRY)


if __name__ == "__main__":
    main()
