#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: attestation_info
short_description: Fetch the VM's attested document from IMDS and verify it on the controller
version_added: 0.2.0
description:
  - Makes a fresh nonce on the controller (Python C(secrets)), fetches C(/metadata/attested/document) with it
    from the Azure Instance Metadata Service on the VM, together with the VM's own C(vmId), and verifies the
    document on the controller.
  - "The checks: the PKCS#7 SignedData signature over the content with the signer certificate in it; the signer
    certificate is for C(metadata.azure.com), or a subdomain of it or of the sovereign-cloud names
    C(metadata.azure.us), C(metadata.azure.cn), C(metadata.microsoftazure.de); it chains to a trusted root; the
    nonce is the one sent; C(timeStamp.expiresOn) has not passed at O(valid_at); C(vmId) is O(expected_vm_id), or
    without it the VM's own as the VM reports it."
  - "The document comes from the VM, which attestation does not trust, so it is handled as hostile: its size and
    structure are bounded before it is parsed (64 KiB of base64, ASN.1 at most 24 levels deep and 4096 elements,
    at most 8 certificates, chains of at most 4 certificates above the signer), its content is parsed only after
    the signature over it verified, and a malformed document is a failed check, never an error."
  - "Intermediate certificates are downloaded (O(aia_fetch)) only for a document that passed every other check
    and whose signer is a metadata name, and only from the hosts in O(aia_allowed_hosts) over C(http) or C(https)
    on their default ports, to public addresses only (never loopback, private, link-local, shared 100.64.0.0/10,
    multicast, unspecified or reserved, IPv4-mapped IPv6 included); each redirect is checked by the same rules,
    and the connection goes to the address that was checked. At most 4 downloads of at most 64 KiB each per
    document, 10 seconds each and 20 seconds in all. The notes say which rule refused a URL; they never repeat a
    server's answer."
  - A POSIX managed node needs nothing but Python, a Windows one nothing but Windows PowerShell 5.1 (the fetching
    then runs on the controller, each request made on the host by M(imds.azure.win_imds_attempt));
    C(cryptography) and C(asn1crypto) are needed on the controller only.
  - Use the P(imds.azure.verify_attestation#filter) filter for documents that reach the controller another way.
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.flow
  - imds.azure.attributes
  - imds.azure.client
attributes:
  check_mode:
    support: full
    details: Fetching and verifying change nothing.
  async:
    support: none
options:
  api_version:
    description:
      - The IMDS api-version to request. C(subscriptionId) is signed from V(2019-04-30), C(sku) from
        V(2019-11-01), C(licenseType) from V(2020-09-01).
    type: str
    default: '2025-04-07'
  nonce:
    description:
      - The nonce to send, 1 to 32 letters or digits.
      - Leave it unset, and the controller makes a fresh random one for each run, which is what proves that the
        document is not a replay.
    type: str
  ca_path:
    description:
      - Trusted roots (trust anchors) on the controller, a PEM bundle or a directory of PEM or DER files.
      - Default is the controller's system trust store (what Python's C(ssl) module uses).
      - Put only roots here. Intermediates belong in O(intermediates_path), where they help build a chain but
        are never trusted on their own.
    type: path
  intermediates_path:
    description:
      - Intermediate certificates on the controller, a PEM bundle or a directory of PEM or DER files (at most
        1000 certificates), used only to build the chain from the signer to a root in O(ca_path) or the system
        store; a certificate here is never a trust anchor.
      - With Microsoft's published intermediates here and O(aia_fetch=false), verifying needs no network (see the
        IMDS guide's air-gapped set-up).
    type: path
  valid_at:
    description:
      - The time, ISO 8601 (for example V(2021-01-04T14:00:00Z)), at which the document must be unexpired and the
        certificates valid. Default is now. Set it to audit an old document.
    type: str
  check_vm_id:
    description:
      - Read the VM's C(vmId) (one extra request) and, unless O(expected_vm_id) is set, require the document to be
        for it.
      - This catches a document cached for another VM by mistake; it cannot catch a compromised VM, which
        answers both requests. It can relay the nonce to any VM its owner controls and return that VM's genuine
        document and C(vmId). Use O(expected_vm_id) to prove which VM answered.
    type: bool
    default: true
  expected_vm_id:
    description:
      - The C(vmId) the document must carry, from a source the VM cannot influence (Azure Resource Manager, a
        CMDB, your registration record, an inventory built from those).
      - With it, a relayed document (another VM's, obtained with this run's nonce) fails the C(vm_id) check.
    type: str
  aia_fetch:
    description:
      - When an intermediate certificate is neither in the document nor in O(intermediates_path), download it on the
        controller from the URL in the certificate's Authority Information Access extension, under the rules in
        the description (allowed hosts, default ports, public addresses, each redirect checked, bounded).
      - The download follows the controller's usual proxy settings (E(HTTPS_PROXY), E(HTTP_PROXY), E(NO_PROXY)),
        because it is ordinary traffic to the certificate authority, unlike IMDS requests, which never use a
        proxy. Through a proxy, the proxy resolves the host name; the host, scheme and port rules still apply.
      - Roots are never downloaded into trust; a missing root is added to O(ca_path).
    type: bool
    default: true
  aia_allowed_hosts:
    description:
      - The only hosts AIA downloads may go to.
      - Default (unset) is the AIA host list of Microsoft's "Azure Certificate Authority details" page,
        C(cacerts.digicert.com), C(cacerts.digicert.cn), C(cacerts.geotrust.com), C(caissuers.microsoft.com) and
        C(www.microsoft.com).
      - Setting it never allows an internal address; a host whose name resolves to one is refused.
    type: list
    elements: str
  aia_cache_dir:
    description:
      - Where downloaded intermediate certificates are kept, so each URL is fetched once. It is read even with
        O(aia_fetch=false).
      - Each file is named after the SHA-256 of its URL in hexadecimal plus C(.crt); pre-seed it by saving a
        certificate under that name (the IMDS guide shows how).
    type: path
    default: ~/.cache/imds.azure/aia
  fail_on_invalid:
    description:
      - Fail the task when any check fails. With V(false), the task succeeds and RV(verified) and RV(failures)
        say what failed.
    type: bool
    default: true
notes:
  - Production intermediates may not be downloadable in restricted networks; put Microsoft's published
    intermediates in O(intermediates_path) then (never in O(ca_path), which would make them trust anchors).
  - IMDS may return a cached document with an older nonce; the nonce check then fails, and asking again helps.
seealso:
  - plugin: imds.azure.verify_attestation
    plugin_type: filter
  - name: Azure Instance Metadata Service, attested data
    description: Microsoft's documentation of the attested document.
    link: https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service#attested-data
author:
  - imds.azure contributors (@imds-azure)
"""

EXAMPLES = r"""
- name: Prove this is the Azure VM it claims to be
  imds.azure.attestation_info:
  register: attestation

- name: Register it with the subscription it runs in
  ansible.builtin.debug:
    msg: "{{ attestation.document.vmId }} in {{ attestation.document.subscriptionId }}"

- name: Report instead of failing, with our own roots
  imds.azure.attestation_info:
    ca_path: /etc/pki/azure-roots.pem
    fail_on_invalid: false
  register: attestation

- name: Prove which VM answered (vmId from the CMDB), offline
  imds.azure.attestation_info:
    expected_vm_id: "{{ cmdb_vm_id }}"
    intermediates_path: /etc/pki/azure-intermediates
    aia_fetch: false
  register: attestation
"""

RETURN = r"""
verified:
  description: Whether every check passed.
  returned: success
  type: bool
  sample: true
failures:
  description: One message per failed check; empty when RV(verified).
  returned: success
  type: list
  elements: str
  sample: ["the nonce in the document is not the one sent (a replayed or cached document; ask again with a new nonce)"]
checks:
  description: Each check, V(true) passed, V(false) failed, null not made (an earlier step failed, or nothing to compare).
  returned: success
  type: dict
  sample: {signature: true, signer_name: true, chain: true, nonce: true, expiry: true, vm_id: true}
document:
  description:
    - The signed document (vmId, subscriptionId, sku, plan, licenseType, nonce), with C(timeStamp) values as ISO 8601
      and IMDS's own text in C(timeStampRaw). Null when the signature could not be read.
    - Only trust it when RV(verified) is true.
  returned: success
  type: dict
  sample:
    nonce: '48213906271534098812376451093825'
    vmId: 02aab8a4-74ef-476e-8182-f6d2ba4166a6
    subscriptionId: aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e
    sku: Windows-Server-2012-R2-Datacenter
    plan: {name: '', product: '', publisher: ''}
    timeStamp: {createdOn: '2020-11-30T21:19:19+00:00', expiresOn: '2020-11-30T21:19:24+00:00'}
signer:
  description: The signer certificate (subject, issuer, serial_number, dns_names, validity, sha256_fingerprint).
  returned: success
  type: dict
  sample: {subject: CN=metadata.azure.com, issuer: 'CN=Microsoft RSA TLS CA 01,O=Microsoft Corporation,C=US'}
chain:
  description: Subjects of the verified chain, signer first, root last; empty when the chain did not verify.
  returned: success
  type: list
  elements: str
  sample: [CN=metadata.azure.com, 'CN=Microsoft RSA TLS CA 01,O=Microsoft Corporation,C=US']
nonce:
  description: The nonce sent.
  returned: success
  type: str
  sample: '48213906271534098812376451093825'
vm_id:
  description: The VM's own vmId, as IMDS reported it, when O(check_vm_id).
  returned: success
  type: str
  sample: 02aab8a4-74ef-476e-8182-f6d2ba4166a6
vm_id_source:
  description:
    - What the document's C(vmId) was compared with, V(expected_vm_id) or V(reported by the VM); null when it was
      not compared.
  returned: success
  type: str
  sample: expected_vm_id
valid_at:
  description: The time the checks used.
  returned: success
  type: str
  sample: '2026-12-01T23:49:35+00:00'
attested_document:
  description:
    - The document as IMDS sent it (C(encoding), C(signature)), to pass on to a registration service.
    - Left out of a failed result, so that the failure message does not print the signature.
  returned: success
  type: dict
notes:
  description:
    - Remarks that are not failures, for example an AIA URL refused (naming the rule) or an intermediate that
      could not be cached.
  returned: success
  type: list
  elements: str
"""

from ansible_collections.imds.azure.plugins.module_utils._errors import ImdsBadResponseError
from ansible_collections.imds.azure.plugins.module_utils._module_adapter import (
    client_argument_spec,
    client_from_params,
    run_module,
)

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


def argument_spec():
    spec = client_argument_spec()
    spec.update(nonce=dict(type="str"), check_vm_id=dict(type="bool", default=True))
    spec.update(CONTROLLER_OPTIONS)
    return spec


def fetch(params, **context):
    """The module result for validated ``params``: the attested document and the VM's own vmId; raises ImdsError.

    ``context`` (transport, environ) is given when this runs on the controller for a Windows
    host, through the action plugin. Verifying is the action plugin's job either way.
    """
    client = client_from_params(params, **context)
    answer = client.attested_document(nonce=params["nonce"])
    if not isinstance(answer.data, dict) or not isinstance(answer.data.get("signature"), str):
        raise ImdsBadResponseError("The attested document from %s has no signature." % answer.url, url=answer.url)
    vm_id = client.instance(["compute", "vmId"], text=True).text.strip() if params["check_vm_id"] else None
    return client.with_warnings(dict(changed=False, attested_document=dict(encoding=answer.data.get("encoding"),
                                                                           signature=answer.data["signature"]),
                                     vm_id=vm_id, nonce=params["nonce"], api_version=answer.api_version))


def main():
    run_module(argument_spec(), fetch)


if __name__ == "__main__":
    main()
