# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Seal a secret module result to the controller's one-task public key (Python 3.6 standard library only).

Connection plugins print what a module writes at high verbosity (ssh's raw stdout at -vvv, winrm's
at -vvvvv), before any ``no_log`` the action can apply. So for a secret answer the action plugin
generates an RSA key pair on the controller and passes the public key (``_seal_to``); the module
returns only an envelope that the controller alone can open (``plugin_utils/_sealing.py``).

The envelope (version 1), a JSON object of base64 strings:

- ``key``: 64 random bytes (32 for the cipher, 32 for the MAC), RSA-OAEP wrapped with SHA-1 and
  MGF1-SHA-1 (RFC 8017 section 7.1), what .NET Framework's ``RSACryptoServiceProvider.Encrypt(data,
  $true)`` does, so the Windows attempt module wraps the same way;
- ``data``: the plaintext XOR a key stream of HMAC-SHA256(cipher key, 8-byte big-endian block number)
  (this side, ``HMAC-SHA256-CTR``), or AES-256-CBC with PKCS#7 padding (the Windows side,
  ``AES-256-CBC``, whose ``iv`` is then 16 bytes);
- ``mac``: HMAC-SHA256(MAC key, header + key + iv + data), encrypt-then-MAC. The header names the
  version and the algorithm, so neither can be swapped.

Every key is used once, so the counter needs no nonce. The seal keeps the answer from being read on
the way; it does not make it trustworthy: the host could seal anything it likes to a public key.
"""

import base64
import hashlib
import hmac
import json
import os

ENVELOPE_VERSION = 1
STREAM_CIPHER = "HMAC-SHA256-CTR"
CBC_CIPHER = "AES-256-CBC"
MODULUS_BYTES = 256  # RSA 2048
PUBLIC_EXPONENT = 65537
KEY_MATERIAL_BYTES = 64
_SHA1_BYTES = 20
_EMPTY_LABEL_HASH = hashlib.sha1(b"").digest()


class SealError(ValueError):
    """The public key given to seal to is not an RSA 2048 modulus."""


def mac_header(cipher: str) -> bytes:
    """What the MAC covers before the key, the IV and the data: the version and the algorithm."""
    return ("imds.azure.seal.v%d\n%s\n" % (ENVELOPE_VERSION, cipher)).encode("ascii")


def modulus_from(public_key: str) -> int:
    """The modulus of ``public_key`` (base64 of the 256-byte big-endian RSA 2048 modulus; exponent 65537)."""
    try:
        raw = base64.b64decode(public_key.encode("ascii"), validate=True)
    except (AttributeError, UnicodeError, ValueError):
        raise SealError("_seal_to is not base64 text")
    if len(raw) != MODULUS_BYTES or not raw[0] & 0x80 or not raw[-1] & 1:
        raise SealError("_seal_to is not an RSA 2048 modulus (256 bytes, top bit set, odd)")
    return int.from_bytes(raw, "big")


def _mgf1_sha1(seed: bytes, length: int) -> bytes:
    output = b""
    counter = 0
    while len(output) < length:
        output += hashlib.sha1(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return output[:length]


def _xor(left: bytes, right: bytes) -> bytes:
    return (int.from_bytes(left, "big") ^ int.from_bytes(right, "big")).to_bytes(len(left), "big")


def oaep_sha1_wrap(modulus: int, message: bytes) -> bytes:
    """RSAES-OAEP-ENCRYPT (RFC 8017 7.1.1) with SHA-1, MGF1-SHA-1 and an empty label."""
    padding = MODULUS_BYTES - len(message) - 2 * _SHA1_BYTES - 2
    if padding < 0:
        raise SealError("message too long for RSA-OAEP")
    data_block = _EMPTY_LABEL_HASH + b"\x00" * padding + b"\x01" + message
    seed = os.urandom(_SHA1_BYTES)
    masked_block = _xor(data_block, _mgf1_sha1(seed, len(data_block)))
    masked_seed = _xor(seed, _mgf1_sha1(masked_block, _SHA1_BYTES))
    encoded = int.from_bytes(b"\x00" + masked_seed + masked_block, "big")
    return pow(encoded, PUBLIC_EXPONENT, modulus).to_bytes(MODULUS_BYTES, "big")


def hmac_ctr(cipher_key: bytes, data: bytes) -> bytes:
    """``data`` XOR the HMAC-SHA256 counter-mode key stream of ``cipher_key`` (its own inverse)."""
    blocks = (len(data) + 31) // 32
    stream = b"".join(hmac.new(cipher_key, index.to_bytes(8, "big"), hashlib.sha256).digest()
                      for index in range(blocks))
    return _xor(data, stream[:len(data)]) if data else b""


def seal(public_key: str, plaintext: bytes) -> dict:
    """The envelope (dict of str) holding ``plaintext`` (bytes), readable only with the private key."""
    modulus = modulus_from(public_key)
    material = os.urandom(KEY_MATERIAL_BYTES)
    wrapped = oaep_sha1_wrap(modulus, material)
    data = hmac_ctr(material[:32], plaintext)
    mac = hmac.new(material[32:], mac_header(STREAM_CIPHER) + wrapped + data, hashlib.sha256).digest()
    return {
        "v": ENVELOPE_VERSION,
        "alg": STREAM_CIPHER,
        "key": base64.b64encode(wrapped).decode("ascii"),
        "iv": "",
        "data": base64.b64encode(data).decode("ascii"),
        "mac": base64.b64encode(mac).decode("ascii"),
    }


def sealed_result(public_key: str, result: dict) -> dict:
    """The module result that crosses the connection in place of ``result``: only ``changed`` stays outside."""
    plaintext = json.dumps(result, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return {"changed": bool(result.get("changed", False)), "sealed": seal(public_key, plaintext)}
