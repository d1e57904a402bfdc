"""Searching Ansible's output for secrets (identity tokens), and the playbook that gets and uses tokens."""

from __future__ import annotations

import base64

# Get a Key Vault token with identity_token and a raw one with metadata_info. Indented for a play's tasks list.
GET_TOKENS = """    - name: token
      imds.azure.identity_token:
        resource: https://vault.azure.net
      register: vault_token

    - name: raw token path
      imds.azure.metadata_info:
        path: identity/oauth2/token
        query:
          resource: https://management.azure.com/
      register: raw_token
"""

# GET_TOKENS, then use the first in a uri task (to "{{ imds_endpoint }}"), check both are really there.
TOKEN_TASKS = GET_TOKENS + """
    - name: use it
      ansible.builtin.uri:
        url: "{{ imds_endpoint }}/metadata/identity/info?api-version=2018-02-01"
        headers:
          Metadata: "true"
          Authorization: "{{ vault_token.token_type }} {{ vault_token.access_token }}"
      no_log: true

    - name: shape
      ansible.builtin.assert:
        that:
          - vault_token.access_token.split('.') | length == 3
          - vault_token.expires_in == 3599
          - vault_token.resource == 'https://vault.azure.net'
          - raw_token.data.access_token | length > 20
        quiet: true
"""


def secret_forms(secret: str) -> list:
    """``secret`` and its base64 forms: one of the three appears in the base64 of any text that holds it."""
    forms = [secret]
    for shift in range(3):
        part = secret[shift:]
        part = part[:len(part) // 3 * 3]
        forms.append(base64.b64encode(part.encode()).decode())
    return forms


def leaked(secret: str, text: str) -> list:
    return [form for form in secret_forms(secret) if form in text]


def captured(tmp_path, run) -> str:
    """Everything Ansible wrote where a user or a log collector could read it."""
    files = [tmp_path / "ansible.log", tmp_path / "results.jsonl"]
    return "\n".join([run.stdout, run.stderr] + [f.read_text() for f in files if f.exists()])
