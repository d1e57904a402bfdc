# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""The controller's side of sealed secret answers: a key pair per task, and opening envelopes.

The module (``module_utils/_seal.py``, Python hosts) or the Windows attempt module
(``win_imds_attempt.ps1``) seals what it would have returned to the public key; what crosses the
connection, and what any connection plugin may print at any verbosity, is ciphertext. Opening
uses ``cryptography`` (a dependency of ansible-core) and refuses anything malformed before
decrypting: unknown version or algorithm, sizes out of bounds, a MAC that does not match.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from ansible.errors import AnsibleError

try:
    from cryptography.hazmat.primitives import hashes, padding as block_padding
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
except ImportError as exc:  # ansible-core depends on it, but a stripped-down controller may lack it
    CRYPTOGRAPHY_IMPORT_ERROR: ImportError | None = exc
else:
    CRYPTOGRAPHY_IMPORT_ERROR = None

from ansible_collections.imds.azure.plugins.module_utils._seal import (
    CBC_CIPHER,
    ENVELOPE_VERSION,
    KEY_MATERIAL_BYTES,
    MODULUS_BYTES,
    PUBLIC_EXPONENT,
    STREAM_CIPHER,
    hmac_ctr,
    mac_header,
)

# An answer is at most 1 MiB plus headers (the client's cap); a whole module result a little more.
MAX_SEALED_BYTES = 4 * 1024 * 1024
_IV_BYTES = {STREAM_CIPHER: 0, CBC_CIPHER: 16}
_ENVELOPE_KEYS = frozenset({"v", "alg", "key", "iv", "data", "mac"})


class UnsealError(ValueError):
    """What came back is not an envelope this task's key opens."""


class SealingKey:
    """An RSA 2048 key pair for one task: the public half goes to the host, the private half never leaves."""

    def __init__(self) -> None:
        if CRYPTOGRAPHY_IMPORT_ERROR is not None:
            raise AnsibleError("Secret answers (identity tokens, user data) are sealed on the host and opened here, which "
                               "needs the Python package cryptography on the controller (pip install cryptography): %s"
                               % CRYPTOGRAPHY_IMPORT_ERROR)
        self._private = rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=MODULUS_BYTES * 8)

    @property
    def public(self) -> str:
        """The value of ``_seal_to`` (module) or ``seal_to`` (win_imds_attempt): the base64 modulus."""
        modulus = self._private.public_key().public_numbers().n
        return base64.b64encode(modulus.to_bytes(MODULUS_BYTES, "big")).decode("ascii")

    def open(self, envelope) -> bytes:
        """The plaintext of ``envelope``; raises UnsealError naming what is wrong with it."""
        if not isinstance(envelope, dict) or set(envelope) != _ENVELOPE_KEYS:
            raise UnsealError("the sealed answer is not an envelope (expected the keys %s)" % ", ".join(
                sorted(_ENVELOPE_KEYS)))
        if envelope["v"] != ENVELOPE_VERSION or envelope["alg"] not in _IV_BYTES:
            raise UnsealError("the sealed answer uses an unknown version or algorithm (this controller opens "
                              "version %d, %s)" % (ENVELOPE_VERSION, " or ".join(sorted(_IV_BYTES))))
        cipher = envelope["alg"]
        wrapped = _field(envelope, "key", MODULUS_BYTES, MODULUS_BYTES)
        iv = _field(envelope, "iv", _IV_BYTES[cipher], _IV_BYTES[cipher])
        data = _field(envelope, "data", 0, MAX_SEALED_BYTES)
        mac = _field(envelope, "mac", 32, 32)
        material = self._unwrap(wrapped)
        expected = hmac.new(material[32:], mac_header(cipher) + wrapped + iv + data, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, mac):
            raise UnsealError("the sealed answer was altered or truncated on the way (its MAC does not match)")
        if cipher == STREAM_CIPHER:
            return hmac_ctr(material[:32], data)
        return _aes_cbc_decrypt(material[:32], iv, data)

    def open_result(self, result: dict) -> dict:
        """The module result sealed in ``result["sealed"]`` (``_seal.sealed_result``), outer keys kept."""
        try:
            inner = json.loads(self.open(result.get("sealed")).decode("utf-8"))
        except (UnicodeError, ValueError) as exc:
            raise UnsealError(str(exc) if isinstance(exc, UnsealError) else "the sealed result is not JSON")
        if not isinstance(inner, dict):
            raise UnsealError("the sealed result is not a JSON object")
        opened = {key: value for key, value in result.items() if key != "sealed"}
        opened.update(inner)
        return opened

    def _unwrap(self, wrapped: bytes) -> bytes:
        try:
            material = self._private.decrypt(wrapped, padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()),
                                                                   algorithm=hashes.SHA1(), label=None))
        except ValueError:
            raise UnsealError("the sealed answer's key was not wrapped to this task's public key") from None
        if len(material) != KEY_MATERIAL_BYTES:
            raise UnsealError("the sealed answer's key holds %d bytes, not %d" % (len(material), KEY_MATERIAL_BYTES))
        return material


def _field(envelope: dict, name: str, least: int, most: int) -> bytes:
    text = envelope[name]
    if not isinstance(text, str) or len(text) > (most + 2) // 3 * 4:
        raise UnsealError("the sealed answer's %s is not text of at most %d bytes" % (name, most))
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeError, binascii.Error):
        raise UnsealError("the sealed answer's %s is not base64" % name) from None
    if not least <= len(raw) <= most:
        raise UnsealError("the sealed answer's %s holds %d bytes (expected %s)" % (
            name, len(raw), least if least == most else "%d to %d" % (least, most)))
    return raw


def _aes_cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    if len(data) % 16 or not data:
        raise UnsealError("the sealed answer's AES data is not whole 16-byte blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = block_padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise UnsealError("the sealed answer's AES padding is wrong") from None
