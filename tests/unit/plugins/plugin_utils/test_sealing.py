"""Sealed secret answers: the hosts' envelopes (Python module, the Windows attempt's double) open on the controller,
and whatever is malformed, altered, too large or sealed to another key is refused with a clear error."""

from __future__ import annotations

import base64
import json

import pytest
from ansible_collections.imds.azure.plugins.module_utils import _seal
from ansible_collections.imds.azure.plugins.plugin_utils._sealing import MAX_SEALED_BYTES, SealingKey, UnsealError
from doubles.windows_double import attempt_double_module

DOUBLE = attempt_double_module()
KEY = SealingKey()
SECRET = b'{"access_token": "eyJ0eXAi.claims.sig"}'


@pytest.mark.parametrize("plain", [b"", b"x", b"y" * 31, b"z" * 32, b"w" * 33, SECRET, bytes(range(256)) * 4100])
def test_both_hosts_seal_what_the_controller_opens(plain):
    linux = _seal.seal(KEY.public, plain)
    windows = DOUBLE.seal(KEY.public, plain)
    assert (linux["alg"], windows["alg"]) == ("HMAC-SHA256-CTR", "AES-256-CBC")
    assert KEY.open(linux) == plain and KEY.open(windows) == plain
    if len(plain) > 8:  # what crosses holds neither the secret nor its base64
        for envelope in (linux, windows):
            assert plain not in json.dumps(envelope).encode() and base64.b64encode(plain) not in json.dumps(
                envelope).encode()


def test_each_seal_is_fresh():
    assert _seal.seal(KEY.public, SECRET)["data"] != _seal.seal(KEY.public, SECRET)["data"]


def test_a_sealed_result_opens_to_the_module_result():
    result = {"changed": False, "access_token": "t", "expires_in": 3599}
    crossing = _seal.sealed_result(KEY.public, result)
    assert set(crossing) == {"changed", "sealed"}
    assert KEY.open_result(dict(crossing, warnings=["w"])) == dict(result, warnings=["w"])


def _altered(envelope: dict, **changes) -> dict:
    altered = dict(envelope)
    altered.update(changes)
    return altered


def _flip(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[len(raw) // 2] ^= 1
    return base64.b64encode(bytes(raw)).decode()


LINUX = _seal.seal(KEY.public, SECRET)
WINDOWS = DOUBLE.seal(KEY.public, SECRET)


@pytest.mark.parametrize("envelope, words", [
    (None, "not an envelope"),
    ("text", "not an envelope"),
    (_altered(LINUX, extra=1), "not an envelope"),
    ({k: v for k, v in LINUX.items() if k != "mac"}, "not an envelope"),
    (_altered(LINUX, v=2), "unknown version or algorithm"),
    (_altered(LINUX, alg="AES-256-GCM"), "unknown version or algorithm"),
    (_altered(LINUX, alg="AES-256-CBC"), "iv holds 0 bytes"),  # algorithm swapped: the IV size no longer fits
    (_altered(WINDOWS, alg="HMAC-SHA256-CTR"), "iv is not text of at most 0 bytes"),
    (_altered(LINUX, key="!!"), "key is not base64"),
    (_altered(LINUX, key=LINUX["key"][:-8]), "key holds"),
    (_altered(LINUX, mac=1), "mac is not text"),
    (_altered(LINUX, data="A" * (MAX_SEALED_BYTES * 4 // 3 + 8)), "data is not text of at most"),
    (_altered(LINUX, data=_flip(LINUX["data"])), "altered or truncated"),
    (_altered(WINDOWS, data=WINDOWS["data"][:-24]), "altered or truncated"),
    (_altered(WINDOWS, iv=_flip(WINDOWS["iv"])), "altered or truncated"),
    (_altered(LINUX, key=_flip(LINUX["key"])), "not wrapped to this task's public key"),
    (_seal.seal(SealingKey().public, SECRET), "not wrapped to this task's public key"),
])
def test_malformed_envelopes_are_refused(envelope, words):
    with pytest.raises(UnsealError, match=words):
        KEY.open(envelope)


def test_a_sealed_result_must_be_a_json_object():
    for plain, words in ((b"[1]", "not a JSON object"), (b"{", "not JSON"), (b"\xff", "not JSON")):
        with pytest.raises(UnsealError, match=words):
            KEY.open_result({"changed": False, "sealed": _seal.seal(KEY.public, plain)})


@pytest.mark.parametrize("public, words", [
    ("!!", "not base64"),
    (base64.b64encode(b"\xff" * 128).decode(), "not an RSA 2048 modulus"),
    (base64.b64encode(b"\x7f" + b"\xff" * 255).decode(), "not an RSA 2048 modulus"),
    (base64.b64encode(b"\xff" * 255 + b"\xfe").decode(), "not an RSA 2048 modulus"),
])
def test_the_module_refuses_a_key_that_is_not_rsa_2048(public, words):
    with pytest.raises(_seal.SealError, match=words):
        _seal.seal(public, SECRET)
