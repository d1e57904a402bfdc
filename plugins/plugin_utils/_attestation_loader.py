# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Import the attestation verifier, or say which controller library is missing."""

from __future__ import annotations

from ansible.errors import AnsibleError

CONTROLLER_LIBRARIES = "cryptography (46 or later) and asn1crypto"


def load_verifier_module():
    """The ``_attestation`` module; an AnsibleError naming what to install when its libraries are missing."""
    try:
        from ansible_collections.imds.azure.plugins.plugin_utils import _attestation  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        raise AnsibleError("Verifying attested documents needs %s on the controller (pip install cryptography "
                           "asn1crypto): %s" % (CONTROLLER_LIBRARIES, exc)) from exc
    if _attestation.LIBRARY_IMPORT_ERROR is not None:
        raise AnsibleError("Verifying attested documents needs %s on the controller (pip install cryptography asn1crypto): %s"
                           % (CONTROLLER_LIBRARIES, _attestation.LIBRARY_IMPORT_ERROR))
    return _attestation
