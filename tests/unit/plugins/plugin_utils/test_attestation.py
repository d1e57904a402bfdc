"""The attestation verifier against the emulator's test PKI, Microsoft's docs sample and a
production-signed document.

What the production document can prove offline: its signature over the content and its signer
name (metadata.azure.com). What it cannot: the chain (its intermediate, "Microsoft RSA TLS CA 01",
is not in the PKCS#7 and cannot be downloaded here, and its root Baltimore CyberTrust is retired)
and freshness (it expired on 2021-01-04, so only a valid_at audit passes the expiry check).
"""

from __future__ import annotations

import base64
import datetime
import json

import pytest
from ansible_collections.imds.azure.plugins.plugin_utils import _aia_fetch, _attestation
from ansible_collections.imds.azure.plugins.plugin_utils._attestation import (
    AttestationUsageError,
    AttestationVerifier,
    make_nonce,
    signer_name_allowed,
)
from azure_imds_emulator.pki import EmulatorPki
from azure_imds_emulator.server import ImdsEmulator
from helpers import paths
from helpers.aia_server import AiaServer, fetcher_for

NONCE = "20260401123456"
VM_ID = "02aab8a4-74ef-476e-8182-f6d2ba4166a6"


@pytest.fixture(scope="module")
def pki():
    return EmulatorPki()


def signed(pki, **changes) -> str:
    content = ImdsEmulator().attested_content("2025-04-07", NONCE)
    content.update(changes)
    return pki.sign(json.dumps(content, separators=(",", ":")).encode())


def verify(pki, signature, roots=None, **kwargs) -> dict:
    kwargs.setdefault("nonce", NONCE)
    kwargs.setdefault("vm_id", VM_ID)
    return AttestationVerifier(roots or [pki.root_cert]).verify(signature, **kwargs)


def failed_checks(report: dict) -> set:
    return {name for name, outcome in report["checks"].items() if outcome is False}


def test_valid(pki):
    report = verify(pki, {"encoding": "pkcs7", "signature": signed(pki)})
    assert report["verified"] and report["failures"] == [] and set(report["checks"].values()) == {True}
    assert report["document"]["vmId"] == VM_ID and report["document"]["nonce"] == NONCE
    assert report["document"]["timeStamp"]["expiresOn"].endswith("+00:00")
    assert report["signer"]["dns_names"] == ["metadata.azure.com"]
    assert [s.split(",")[0] for s in report["chain"]] == [
        "CN=metadata.azure.com", "CN=imds.azure Test Intermediate CA", "CN=imds.azure Test Root CA"]


def test_tampered_content(pki):
    der = bytearray(base64.b64decode(signed(pki)))
    at = bytes(der).index(VM_ID.encode())
    der[at] = ord("1") if der[at] != ord("1") else ord("2")
    report = verify(pki, base64.b64encode(bytes(der)).decode(), vm_id=None)
    assert not report["verified"] and "signature" in failed_checks(report)
    assert "content was changed" in " ".join(report["failures"])


def test_wrong_signer_name():
    other = EmulatorPki(leaf_common_name="metadata.azure.com.evil.example")
    report = verify(other, signed(other))
    assert failed_checks(report) == {"signer_name"}
    assert "metadata.azure.com.evil.example" in report["failures"][0]


@pytest.mark.parametrize("name, allowed", [
    ("metadata.azure.com", True), ("westeurope.metadata.azure.com", True), ("x.metadata.azure.us", True),
    ("x.metadata.azure.cn", True), ("x.metadata.microsoftazure.de", True), ("metadata.azure.com.evil", False),
    ("evilmetadata.azure.com", False), ("azure.com", False),
])
def test_signer_names(name, allowed):
    assert signer_name_allowed(name) is allowed


def test_expired_document(pki):
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=7)
    report = verify(pki, signed(pki), valid_at=later.isoformat())
    assert failed_checks(report) == {"expiry"} and "set valid_at" in report["failures"][0]


def test_wrong_nonce_and_other_vm(pki):
    report = verify(pki, signed(pki), nonce="99999", vm_id="00000000-0000-0000-0000-000000000000")
    assert failed_checks(report) == {"nonce", "vm_id"} and len(report["failures"]) == 2


def test_unknown_root(pki):
    stranger = EmulatorPki()
    stranger.root_pem()  # make its keys
    report = verify(pki, signed(pki), roots=[stranger.root_cert])
    assert failed_checks(report) == {"chain"} and report["chain"] == []


@pytest.mark.parametrize("signature, words", [
    ("!!not base64!!", "not valid base64"),
    ("", "missing, empty"),
    (base64.b64encode(b"garbage bytes").decode(), "not a PKCS#7 SignedData"),
    ({"encoding": "jws", "signature": "x"}, "not pkcs7"),
])
def test_garbage(pki, signature, words):
    report = verify(pki, signature)
    assert not report["verified"] and words in report["failures"][0]


def test_truncated(pki):
    truncated = signed(pki)[:400]
    truncated += "=" * (-len(truncated) % 4)
    report = verify(pki, truncated)
    assert not report["verified"] and report["checks"]["signature"] is False


def test_aia_fetch_with_cache(tmp_path):
    """A leaf whose intermediate is only published at its AIA URL (an allowed host, served locally)."""
    pki = EmulatorPki(include_intermediate=False, aia_url="http://www.microsoft.com/pkiops/certs/test-ca.crt")
    with AiaServer({"/pkiops/certs/test-ca.crt": (200, {}, pki.intermediate_der())}) as server:
        without = verify(pki, signed(pki))
        assert failed_checks(without) == {"chain"} and "Missing intermediate" in without["failures"][0]
        assert server.requests == []
        for _run in range(2):
            fetcher = fetcher_for(server, cache_dir=str(tmp_path / "aia"))
            report = AttestationVerifier([pki.root_cert], fetcher).verify(signed(pki), nonce=NONCE, vm_id=VM_ID)
            assert report["verified"], report["failures"]
        assert server.requests == ["/pkiops/certs/test-ca.crt"]  # the second run used the cache


def test_aia_size_cap(tmp_path):
    pki = EmulatorPki(include_intermediate=False, aia_url="http://www.microsoft.com/big.crt")
    with AiaServer({"/big.crt": (200, {}, b"x" * (_aia_fetch.MAX_BYTES + 10))}) as server:
        signature = signed(pki)  # makes the keys and certificates
        fetcher = fetcher_for(server, cache_dir=str(tmp_path / "aia"))
        report = AttestationVerifier([pki.root_cert], fetcher).verify(signature, nonce=NONCE, vm_id=VM_ID)
        assert report["checks"]["chain"] is False
        assert any("larger than" in note for note in report["notes"])
        assert not list((tmp_path / "aia").glob("*.crt"))


def test_production_document_offline():
    document = json.loads((paths.FIELD_SAMPLES / "subman-attested-westeurope.json").read_text())
    roots = _attestation.load_roots()
    report = AttestationVerifier(roots).verify(document, nonce="20210104-195534", valid_at="2021-01-04T14:00:00Z")
    assert report["checks"]["signature"] is True and report["checks"]["signer_name"] is True
    assert report["checks"]["nonce"] is True and report["checks"]["expiry"] is True
    assert report["signer"]["dns_names"] == ["westeurope.metadata.azure.com", "metadata.azure.com"]
    assert report["document"]["vmId"] == "f904ece8-c6c1-4b5c-881f-309b50f25e56"
    # Offline, the chain cannot be proven: the intermediate is not in the document.
    assert report["checks"]["chain"] is False and "Microsoft RSA TLS CA 01" in report["failures"][0]
    today = AttestationVerifier(roots).verify(document, nonce="20210104-195534")
    assert today["checks"]["expiry"] is False  # it expired in 2021


def test_microsoft_docs_sample():
    """The docs' self-signed example: its signature is good, its chain cannot be (self-signed test cert)."""
    document = json.loads((paths.SAMPLES / "docs-attested-document.json").read_text())
    verifier = AttestationVerifier(_attestation.load_roots())
    report = verifier.verify(document, nonce="1234566766", valid_at="2018-11-20T22:08:00Z")
    assert report["checks"]["signature"] is True and report["checks"]["signer_name"] is True
    assert report["checks"]["chain"] is False and not report["verified"]


def test_usage_errors(tmp_path, pki):
    with pytest.raises(AttestationUsageError, match="valid_at"):
        verify(pki, signed(pki), valid_at="yesterday")
    with pytest.raises(AttestationUsageError, match="does not exist"):
        _attestation.load_roots(str(tmp_path / "nothing.pem"))
    (tmp_path / "empty.pem").write_text("no certificates here")
    with pytest.raises(AttestationUsageError, match="No trusted root"):
        _attestation.load_roots(str(tmp_path / "empty.pem"))


def test_nonce_is_fresh_and_accepted_by_imds():
    nonces = {make_nonce() for _nonce in range(50)}
    assert len(nonces) == 50 and all(len(n) == 32 and n.isdigit() for n in nonces)


@pytest.mark.parametrize("case", ["wrong signer name", "bad signature", "replayed", "expired", "other vm"])
def test_no_aia_for_a_document_that_already_failed(case):
    """Issue 18: AIA only for a signer whose signature verified and whose name is a metadata name, and never
    for a document that already failed another check."""
    url = "http://www.microsoft.com/pkiops/certs/test-ca.crt"
    pki = EmulatorPki(include_intermediate=False, aia_url=url,
                      leaf_common_name="imds.attacker.example" if case == "wrong signer name" else "metadata.azure.com")
    signature = signed(pki)
    if case == "bad signature":
        der = bytearray(base64.b64decode(signature))
        at = bytes(der).index(VM_ID.encode())
        der[at] = ord("1") if der[at] != ord("1") else ord("2")
        signature = base64.b64encode(bytes(der)).decode()
    kwargs = {"nonce": "1" if case == "replayed" else NONCE, "vm_id": "x" if case == "other vm" else VM_ID}
    if case == "expired":
        kwargs["valid_at"] = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=7)).isoformat()
    with AiaServer({"/pkiops/certs/test-ca.crt": (200, {}, pki.intermediate_der())}) as server:
        report = AttestationVerifier([pki.root_cert], fetcher_for(server)).verify(signature, **kwargs)
        assert server.requests == [] and not report["verified"]
        assert "AIA URLs were not followed: the document had already failed" in report["notes"]
        control = AttestationVerifier([pki.root_cert], fetcher_for(server))
        fresh = control.verify(signed(pki), nonce=NONCE, vm_id=VM_ID)
        # The same PKI and URL do fetch for a document that passed (control case; wrong names never pass).
        assert len(server.requests) == (0 if case == "wrong signer name" else 1)
        assert fresh["verified"] is (case != "wrong signer name")
