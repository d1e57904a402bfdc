#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The code of this module is win_imds_attempt.ps1; this file holds its documentation.

DOCUMENTATION = r"""
---
module: win_imds_attempt
short_description: One raw HTTP exchange with IMDS from a Windows host (used by the imds.azure actions)
version_added: 0.2.0
description:
  - Connects to O(address) and O(port) over TCP, sends the bytes of O(request), and returns everything the
    server sends until it closes the connection, base64 encoded, in RV(response).
  - This is the Windows half of M(imds.azure.metadata_facts), M(imds.azure.metadata_info),
    M(imds.azure.scheduled_events), M(imds.azure.attestation_info) and M(imds.azure.identity_token). Their action
    plugins build each request and read each answer on the controller, with the same Python client as on
    Linux (retries, api-version negotiation, pacing, decoding, error texts); this module only carries one
    attempt. You do not need to call it yourself.
  - "A plain socket has no proxy, never follows a redirect and adds no header, so the request that reaches
    IMDS is exactly the one the controller built (C(Metadata: true), no C(X-Forwarded-For))."
  - Failures are reported by their C(SocketError) name (for example C(ConnectionRefused), C(TimedOut)),
    which Windows does not translate, so the controller understands them on every display language.
options:
  address:
    description:
      - Host to connect to, an IP address or a name (the first IPv4 address of a name is used).
    type: str
    required: true
  port:
    description:
      - TCP port.
    type: int
    default: 80
  request:
    description:
      - "The complete HTTP request (request line, headers, body), base64 encoded. It should ask the server
        to close the connection after its answer (C(Connection: close)), as the end of the answer is the
        end of the stream."
    type: str
    required: true
  connect_timeout_ms:
    description:
      - Milliseconds to wait for the TCP connection, from 1 to 2147483647.
      - Whole milliseconds because Ansible.Basic reads a C(float) option as single precision in the host's
        culture; the actions round seconds up and refuse what does not fit.
    type: int
    required: true
  read_timeout_ms:
    description:
      - Milliseconds, from the moment the connection stands, within which the whole answer must have arrived,
        from 1 to 2147483647.
    type: int
    required: true
  max_bytes:
    description:
      - Stop reading once more than this many bytes arrived, and set RV(limit_reached).
    type: int
    required: true
  seal_to:
    description:
      - The base64 modulus of an RSA 2048 public key (exponent 65537). When set, the answer is not returned in
        RV(response) but sealed to this key in RV(sealed), so that no connection plugin can print it.
      - Set by the actions, with a key pair made on the controller for the task, for secret answers
        (identity tokens, user data).
    type: str
extends_documentation_fragment:
  - action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads, so it does the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: windows
notes:
  - Written for Windows PowerShell 5.1 (Windows Server 2016 to 2025) and .NET Framework 4.5 or later.
  - RV(response) holds the raw answer, secrets included (identity tokens, user data). For such answers the
    actions set O(seal_to), so only ciphertext crosses the connection, whatever the connection prints (ansible.builtin.winrm
    prints raw command output at C(-vvvvv) on patch releases without its C(no_log) fix); they also run it with
    C(no_log). Called by hand without O(seal_to), it shows them.
seealso:
  - module: imds.azure.metadata_facts
  - module: imds.azure.metadata_info
  - module: imds.azure.scheduled_events
  - module: imds.azure.attestation_info
  - module: imds.azure.identity_token
author:
  - imds.azure contributors (@imds-azure)
"""

EXAMPLES = r"""
# Not meant for playbooks: imds.azure.metadata_facts and imds.azure.metadata_info use it on Windows hosts.
- name: Gather IMDS facts on a Windows host (runs win_imds_attempt for each attempt)
  imds.azure.metadata_facts:
"""

RETURN = r"""
response:
  description: Everything the server sent, base64 encoded (empty when no connection was made, or when O(seal_to) is set).
  returned: always
  type: str
  sample: SFRUUC8xLjEgMjAwIE9LDQoNCg==
received:
  description: Number of bytes in RV(response).
  returned: always
  type: int
  sample: 19
complete:
  description: Whether the server closed the connection after its answer (the answer is whole).
  returned: always
  type: bool
  sample: true
limit_reached:
  description: Whether reading stopped because more than O(max_bytes) arrived.
  returned: always
  type: bool
  sample: false
error:
  description: Why the exchange failed, or null when it did not.
  returned: always
  type: dict
  contains:
    kind:
      description:
        - V(connect_timeout), V(connect_failed), V(read_timeout) or V(connection_failed).
      type: str
      sample: connect_failed
    code:
      description: The C(SocketError) name, or else the type of the innermost .NET exception (PowerShell wraps a
        method's exception in C(MethodInvocationException); the wrapper is never reported).
      type: str
      sample: ConnectionRefused
    message:
      description: The innermost exception's message, in the display language of the host.
      type: str
      sample: No connection could be made because the target machine actively refused it
sealed:
  description:
    - With O(seal_to), the answer sealed to that key (version, algorithm V(AES-256-CBC), the RSA-OAEP-SHA1 wrapped
      key, IV, data and HMAC-SHA256, each base64); null otherwise, or when no answer was read.
  returned: always
  type: dict
  sample: null
elapsed:
  description: Seconds the attempt took on the host.
  returned: always
  type: float
  sample: 0.012
"""
