# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The imds.azure.verify_attestation filter: the attestation_info verifier for documents that arrive otherwise."""

from __future__ import annotations

DOCUMENTATION = r"""
name: verify_attestation
short_description: Verify an Azure IMDS attested document on the controller
version_added: 0.2.0
description:
  - Verifies an attested document of the Azure Instance Metadata Service with the same verifier as
    M(imds.azure.attestation_info), for documents that reach the controller another way, for example a VM
    posting its document to a registration service.
  - Checks the PKCS#7 signature over the content, that the signer certificate is for C(metadata.azure.com) (or a
    sovereign-cloud metadata name) and chains to a trusted root, that the document has not expired at O(valid_at),
    and, when given, the O(nonce) and O(vm_id).
  - Never fails for an invalid document; it returns RV(_value.verified) false and one message per failed check.
    Wrong options (an unreadable O(valid_at), an empty O(ca_path)) raise an error.
  - "The document is handled as hostile, with the bounds of M(imds.azure.attestation_info): 64 KiB of base64,
    ASN.1 at most 24 levels deep and 4096 elements, at most 8 certificates, chains of at most 4 certificates above
    the signer; content parsed only after the signature verified."
  - "With O(aia_fetch), intermediates are downloaded only for a document that passed every other check, only
    from O(aia_allowed_hosts) over C(http)/C(https) on their default ports, only to public addresses (checked,
    then connected to without a second lookup), each redirect checked the same way; at most 4 downloads of
    64 KiB per document, 10 seconds each, 20 seconds in all. RV(_value.notes) name the rule that refused a URL."
  - Needs C(cryptography) and C(asn1crypto) on the controller.
options:
  _input:
    description:
      - The document as IMDS returns it (a dictionary with C(encoding) and C(signature)), or just the base64
        C(signature).
    type: raw
    required: true
  nonce:
    description:
      - The nonce that was sent to IMDS. Without it a replayed document cannot be told from a fresh one, and
        C(checks.nonce) is null.
    type: str
  vm_id:
    description:
      - The vmId the document must be for, from a source the VM cannot influence (Azure Resource Manager, a CMDB,
        the registration record). Without it C(checks.vm_id) is null.
      - A vmId the posting VM reports about itself proves nothing, since a compromised VM can relay your nonce
        to another VM and post that VM's genuine document with that VM's vmId.
    type: str
  valid_at:
    description: ISO 8601 time at which to check expiry and certificate validity; default now.
    type: str
  ca_path:
    description: Trusted roots (PEM bundle or directory); default the controller's system trust store.
    type: path
  intermediates_path:
    description:
      - Intermediate certificates (PEM bundle or directory) used only to build the chain, never trusted as roots;
        Microsoft's published intermediates here make verification work offline.
    type: path
  aia_fetch:
    description:
      - Download missing intermediate certificates from their Authority Information Access URL, under the rules
        above, as M(imds.azure.attestation_info) does (controller proxy settings apply).
    type: bool
    default: false
  aia_allowed_hosts:
    description:
      - The only hosts AIA downloads may go to. Default (unset) is the AIA host list of Microsoft's "Azure
        Certificate Authority details" page (C(cacerts.digicert.com), C(cacerts.digicert.cn),
        C(cacerts.geotrust.com), C(caissuers.microsoft.com), C(www.microsoft.com)).
    type: list
    elements: str
  aia_cache_dir:
    description:
      - Where downloaded intermediates are kept; read even without O(aia_fetch). A file is named after the SHA-256
        of its URL in hexadecimal plus C(.crt).
    type: path
    default: ~/.cache/imds.azure/aia
seealso:
  - module: imds.azure.attestation_info
author:
  - imds.azure contributors (@imds-azure)
"""

EXAMPLES = r"""
- name: Verify a document a VM posted to us
  ansible.builtin.set_fact:
    attestation: "{{ posted_document | imds.azure.verify_attestation(nonce=issued_nonce, vm_id=claimed_vm_id) }}"

- name: Refuse the registration unless it verified
  ansible.builtin.assert:
    that: attestation.verified
    fail_msg: "{{ attestation.failures | join('; ') }}"
"""

RETURN = r"""
_value:
  description: The verification report, as M(imds.azure.attestation_info) returns it.
  type: dict
  contains:
    verified:
      description: Whether every check passed.
      type: bool
    failures:
      description: One message per failed check.
      type: list
      elements: str
    checks:
      description: signature, signer_name, chain, nonce, expiry, vm_id - true, false, or null when not made.
      type: dict
    document:
      description: The signed document with C(timeStamp) as ISO 8601; trust it only when RV(_value.verified).
      type: dict
    signer:
      description: The signer certificate's subject, issuer, serial number, DNS names, validity, fingerprint.
      type: dict
    chain:
      description: Subjects of the verified chain, signer first.
      type: list
      elements: str
    notes:
      description: Remarks that are not failures, for example an AIA URL refused and the rule that refused it.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.imds.azure.plugins.plugin_utils._attestation_loader import load_verifier_module


def verify_attestation(document, nonce=None, vm_id=None, valid_at=None, ca_path=None, aia_fetch=False,
                       aia_cache_dir=None, intermediates_path=None, aia_allowed_hosts=None) -> dict:
    attestation = load_verifier_module()
    options = {"ca_path": ca_path, "aia_fetch": aia_fetch, "aia_cache_dir": aia_cache_dir,
               "intermediates_path": intermediates_path, "aia_allowed_hosts": aia_allowed_hosts}
    try:
        verifier = attestation.verifier_from_options(options)
        return verifier.verify(document, nonce=None if nonce is None else str(nonce),
                               vm_id=None if vm_id is None else str(vm_id), valid_at=valid_at)
    except attestation.AttestationUsageError as exc:
        raise AnsibleFilterError("verify_attestation: %s" % exc) from exc


class FilterModule:
    """Attested document verification."""

    def filters(self):
        return {"verify_attestation": verify_attestation}
