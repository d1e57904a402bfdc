"""Hostile documents: each refused with a clear failure, within the stated bounds, never an exception.

Bounds (plugin_utils/_attestation.py, _aia_fetch.py, stated in the module and filter docs): 64 KiB of
base64, ASN.1 24 levels / 4096 elements, 8 certificates, 4 certificates above the signer, 4 AIA URLs per
certificate, 4 downloads per document. How fast each refusal is: tests/bench/bench_attestation.py.
"""

from __future__ import annotations

import base64
import json

import pytest
from ansible_collections.imds.azure.plugins.plugin_utils import _aia_fetch, _attestation
from ansible_collections.imds.azure.plugins.plugin_utils._attestation import AttestationVerifier
from azure_imds_emulator.pki import EmulatorPki
from azure_imds_emulator.server import ImdsEmulator
from helpers import hostile_pkcs7 as hostile
from helpers.aia_server import AiaServer, fetcher_for

NONCE = "20260401123456"
VM_ID = "02aab8a4-74ef-476e-8182-f6d2ba4166a6"


@pytest.fixture(scope="module")
def pki():
    return EmulatorPki()


def content() -> bytes:
    return json.dumps(ImdsEmulator().attested_content("2025-04-07", NONCE), separators=(",", ":")).encode()


def verify(signature, roots, **kwargs) -> dict:
    kwargs.setdefault("nonce", NONCE)
    kwargs.setdefault("vm_id", VM_ID)
    return AttestationVerifier(roots, kwargs.pop("aia", None), kwargs.pop("intermediates", None)).verify(
        signature, **kwargs)


def refused(report: dict, words: str) -> None:
    assert not report["verified"]
    assert any(words in failure for failure in report["failures"]), report["failures"]


def test_thousands_of_certificates_at_the_size_limit(pki):
    good = pki.sign(content())
    signer = hostile.certificates_of(good)[0]
    tiny = hostile.tlv(0x30, hostile.tlv(0x30, b"") + hostile.tlv(0x02, b"\x01"))  # certificate-shaped filler
    bare = base64.b64decode(hostile.rebuild(good, certificates=signer))
    room = (_attestation.MAX_SIGNATURE_CHARS * 3 // 4) - len(bare) - 16  # 16: the longer length headers
    stuffed = hostile.rebuild(good, certificates=signer + tiny * (room // len(tiny)))
    assert _attestation.MAX_SIGNATURE_CHARS - 200 < len(stuffed) <= _attestation.MAX_SIGNATURE_CHARS
    assert room // len(tiny) > 4000
    refused(verify(stuffed, [pki.root_cert]), "more than %d ASN.1 elements" % _attestation.MAX_ASN1_ELEMENTS)


def test_more_certificates_than_are_read(pki):
    good = pki.sign(content())
    signer, intermediate = hostile.certificates_of(good)
    nine = hostile.rebuild(good, certificates=signer + intermediate * 8)
    refused(verify(nine, [pki.root_cert]), "carries 9 certificates; IMDS sends one or two and at most 8 are read")
    eight = hostile.rebuild(good, certificates=signer + intermediate * 7)
    assert verify(eight, [pki.root_cert])["verified"]


def test_deeply_nested_asn1(pki):
    good = pki.sign(content())
    nested = b""
    for _level in range(10000):
        nested = hostile.tlv(0x30, nested)
    deep = hostile.rebuild(good, certificates=hostile.certificates_of(good)[0] + nested)
    assert len(deep) <= _attestation.MAX_SIGNATURE_CHARS
    refused(verify(deep, [pki.root_cert]), "nests deeper than %d levels" % _attestation.MAX_ASN1_DEPTH)


@pytest.mark.parametrize("der, words", [
    (b"\x30\x80\x00\x00", "indefinite length (BER)"),
    (b"\x30\x84\xff\xff\xff\xff", "truncated"),
    (b"\x30\x85\x01\x00\x00\x00\x00\x00", "impossible length"),
    (b"\x30\x03\x02\x01", "truncated"),
])
def test_malformed_der_headers(pki, der, words):
    refused(verify(base64.b64encode(der).decode(), [pki.root_cert]), words)


def issuer_loop():
    """Leaf signed by A; A issued by B; B issued by A."""
    key_a, key_b, key_leaf = hostile.new_key(), hostile.new_key(), hostile.new_key()
    cert_a = hostile.certificate("Loop CA A", key_a, "Loop CA B", key_b, ca=True)
    cert_b = hostile.certificate("Loop CA B", key_b, "Loop CA A", key_a, ca=True)
    leaf = hostile.certificate("metadata.azure.com", key_leaf, "Loop CA A", key_a, ca=False,
                               dns_names=["metadata.azure.com"])
    return leaf, key_leaf, cert_a, cert_b


def test_issuer_loop_in_the_document(pki):
    leaf, key, cert_a, cert_b = issuer_loop()
    report = verify(hostile.sign(content(), leaf, key, [cert_a, cert_b]), [pki.root_cert])
    refused(report, "issuer loop (CN=metadata.azure.com -> CN=Loop CA A -> CN=Loop CA B -> CN=Loop CA A)")
    assert report["checks"]["signature"] is True and report["checks"]["chain"] is False


def test_issuer_loop_through_aia(pki):
    key_a, key_b, key_leaf = hostile.new_key(), hostile.new_key(), hostile.new_key()
    url_a, url_b = "http://www.microsoft.com/a.crt", "http://www.microsoft.com/b.crt"
    cert_a = hostile.certificate("Loop CA A", key_a, "Loop CA B", key_b, ca=True, aia_urls=[url_b])
    cert_b = hostile.certificate("Loop CA B", key_b, "Loop CA A", key_a, ca=True, aia_urls=[url_a])
    leaf = hostile.certificate("metadata.azure.com", key_leaf, "Loop CA A", key_a, ca=False, aia_urls=[url_a],
                               dns_names=["metadata.azure.com"])
    with AiaServer({"/a.crt": (200, {}, hostile.der(cert_a)), "/b.crt": (200, {}, hostile.der(cert_b))}) as server:
        report = verify(hostile.sign(content(), leaf, key_leaf), [pki.root_cert], aia=fetcher_for(server))
        refused(report, "issuer loop")
        assert len(server.requests) <= _aia_fetch.MAX_DOWNLOADS


def test_hundreds_of_aia_urls(pki):
    pki.root_pem()
    urls = ["http://www.microsoft.com/ca-%d.crt" % n for n in range(300)]
    key_leaf = hostile.new_key()
    leaf = hostile.certificate("metadata.azure.com", key_leaf, pki.intermediate_cert.subject.rfc4514_string(),
                               pki._leaf_key, ca=False, aia_urls=urls, dns_names=["metadata.azure.com"])
    with AiaServer() as server:
        report = verify(hostile.sign(content(), leaf, key_leaf), [pki.root_cert], aia=fetcher_for(server))
        assert server.requests == []
        assert any("names 300 AIA URLs, more than %d: none were followed" % _aia_fetch.MAX_URLS_PER_CERTIFICATE
                   in note for note in report["notes"])
        refused(report, "Missing intermediate")


@pytest.mark.parametrize("change, words", [
    ({"digest_oid": "1.2.3.4"}, "unsupported digest algorithm 1.2.3.4"),
    ({"signature_oid": "1.2.3.5"}, "unsupported signature algorithm 1.2.3.5"),
    ({"signature_oid": "rsassa_pss"}, "unsupported signature algorithm rsassa_pss"),
    ({"signature_oid": "sha256_ecdsa"}, "does not fit the signer's"),
])
def test_signer_info_with_unknown_algorithms(pki, change, words):
    good = pki.sign(content())
    report = verify(hostile.rebuild(good, signer_info=hostile.signer_info_with(good, **change)), [pki.root_cert])
    refused(report, words)
    assert report["document"] is None  # nothing unsigned was parsed


@pytest.mark.parametrize("body, words", [
    (b"[" * 40000, "nests deeper than 16 levels"),
    (b'{"a":' * 20 + b"1" + b"}" * 20, "nests deeper than 16 levels"),
    (b"\xff\xfe not utf-8", "utf-8"),
    (b'["not", "an object"]', "not a JSON object"),
    (b'{"nonce": "1", ', "Expecting"),
])
def test_malformed_signed_content_is_a_failure_not_an_exception(pki, body, words):
    """Issue 21: 40,000 '[' as (validly signed) content raised RecursionError out of verify()."""
    report = verify(pki.sign(body), [pki.root_cert])
    assert report["checks"]["signature"] is True and report["document"] is None
    refused(report, "not the JSON document IMDS signs")
    assert words.lower() in " ".join(report["failures"]).lower()


def test_deep_brackets_inside_strings_are_content_not_nesting(pki):
    document = json.loads(content())
    document["plan"]["name"] = "[" * 100
    report = verify(pki.sign(json.dumps(document).encode()), [pki.root_cert])
    assert report["verified"], report["failures"]


def test_content_is_not_parsed_when_the_signature_fails(pki, monkeypatch):
    parsed = []
    monkeypatch.setattr(_attestation, "decode_document", lambda data: parsed.append(data) or {})
    good = base64.b64decode(pki.sign(b'{"vmId": "' + VM_ID.encode() + b'"}'))
    at = good.index(VM_ID.encode())
    tampered = base64.b64encode(good[:at] + b"X" + good[at + 1:]).decode()
    report = verify(tampered, [pki.root_cert])
    assert report["checks"]["signature"] is False and parsed == [] and report["document"] is None
    assert report["checks"]["nonce"] is None and report["checks"]["expiry"] is None


def test_chain_longer_than_the_bound(pki):
    """Six CAs above the signer, all in the document: refused before any path building library runs."""
    keys = [hostile.new_key() for _n in range(7)]
    names = ["Deep CA %d" % n for n in range(6)] + ["metadata.azure.com"]
    certs = [hostile.certificate(names[n], keys[n], names[n - 1] if n else "Deep Root", keys[n - 1] if n else keys[0],
                                 ca=n < 6, dns_names=["metadata.azure.com"] if n == 6 else ())
             for n in range(7)]
    report = verify(hostile.sign(content(), certs[6], keys[6], certs[:6]), [pki.root_cert])
    refused(report, "longer than %d certificates" % (_attestation.MAX_CHAIN_DEPTH + 1))
