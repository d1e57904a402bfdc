"""Documents real Azure IMDS signed, verified offline with Microsoft's published intermediates, and refused
tampered, replayed, expired, relayed (another vmId) and with a missing intermediate or root.

Public cloud: candlepin/subscription-manager's westeurope document (shared field samples). Sovereign
cloud: coder/coder's Azure Government document. Origins and thumbprints: tests/unit/data/attestation/SOURCES.md.
"""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest
from ansible_collections.imds.azure.plugins.plugin_utils import _attestation
from ansible_collections.imds.azure.plugins.plugin_utils._attestation import AttestationVerifier
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from helpers import paths
from helpers.aia_server import AiaServer, fetcher_for

DATA = paths.TESTS / "unit" / "data" / "attestation"
INTERMEDIATES = DATA / "intermediates"
ROOTS = DATA / "roots"

# SHA-1 thumbprints Microsoft publishes on "Azure Certificate Authority details".
MICROSOFT_THUMBPRINTS = {
    "microsoft-rsa-tls-ca-01.pem": "703D7A8F0EBF55AAA59F98EAF4A206004EB2516A",
    "microsoft-azure-tls-issuing-ca-05.pem": "6C3AF02E7F269AA73AFD0EFF2A88A4A1F04ED1E5",
    "baltimore-cybertrust-root.pem": "D4DE20D05E66FC53FE1A50882C78DB2852CAE474",
    "digicert-global-root-g2.pem": "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4",
}

DOCUMENTS = {
    "public": dict(load=lambda: json.loads((paths.FIELD_SAMPLES / "subman-attested-westeurope.json").read_text()),
                   nonce="20210104-195534", vm_id="f904ece8-c6c1-4b5c-881f-309b50f25e56",
                   valid_at="2021-01-04T14:00:00Z", after_expiry="2021-01-04T20:00:00Z",
                   signer="westeurope.metadata.azure.com", issuer="Microsoft RSA TLS CA 01",
                   root="Baltimore CyberTrust Root", other_root="digicert-global-root-g2.pem"),
    "government": dict(load=lambda: json.loads((DATA / "govcloud-usgovvirginia-2023-03-08.json").read_text()),
                       nonce="20230308-230933", vm_id="990878d4-068a-4ac4-9ee9-1231d2218ef2",
                       valid_at="2023-03-08T20:00:00Z", after_expiry="2023-03-09T00:00:00Z",
                       signer="usgovvirginia.metadata.azure.us", issuer="Microsoft Azure TLS Issuing CA 05",
                       root="DigiCert Global Root G2", other_root="baltimore-cybertrust-root.pem"),
}


def offline_verifier(ca_path=ROOTS) -> AttestationVerifier:
    """Roots from files, Microsoft's intermediates from a bundle directory, no AIA."""
    return _attestation.verifier_from_options({"ca_path": str(ca_path), "intermediates_path": str(INTERMEDIATES),
                                               "aia_fetch": False, "aia_cache_dir": None})


@pytest.mark.parametrize("name", sorted(MICROSOFT_THUMBPRINTS))
def test_test_certificates_are_microsofts(name):
    path = (INTERMEDIATES if (INTERMEDIATES / name).exists() else ROOTS) / name
    certificate = x509.load_pem_x509_certificate(path.read_bytes())
    assert certificate.fingerprint(hashes.SHA1()).hex().upper() == MICROSOFT_THUMBPRINTS[name]  # noqa: S303


@pytest.mark.parametrize("cloud", sorted(DOCUMENTS))
def test_real_document_verifies_offline(cloud):
    case = DOCUMENTS[cloud]
    report = offline_verifier().verify(case["load"](), nonce=case["nonce"], vm_id=case["vm_id"],
                                       valid_at=case["valid_at"])
    assert report["verified"], report["failures"]
    assert set(report["checks"].values()) == {True}
    assert case["signer"] in report["signer"]["dns_names"]
    assert [s.split("CN=")[1].split(",")[0] for s in report["chain"]][1:] == [case["issuer"], case["root"]]
    assert report["document"]["vmId"] == case["vm_id"] and report["notes"] == []


@pytest.mark.parametrize("cloud", sorted(DOCUMENTS))
def test_real_document_tampered(cloud):
    case = DOCUMENTS[cloud]
    der = bytearray(base64.b64decode(case["load"]()["signature"]))
    at = bytes(der).index(case["vm_id"].encode())
    der[at] = ord("0") if der[at] != ord("0") else ord("1")
    report = offline_verifier().verify(base64.b64encode(bytes(der)).decode(), nonce=case["nonce"],
                                       vm_id=case["vm_id"], valid_at=case["valid_at"])
    assert not report["verified"] and report["checks"]["signature"] is False
    assert report["document"] is None  # the changed content was never parsed


@pytest.mark.parametrize("cloud", sorted(DOCUMENTS))
def test_real_document_replayed(cloud):
    case = DOCUMENTS[cloud]
    report = offline_verifier().verify(case["load"](), nonce="48213906271534098812376451093825",
                                       vm_id=case["vm_id"], valid_at=case["valid_at"])
    assert not report["verified"]
    assert {k for k, v in report["checks"].items() if v is False} == {"nonce"}


@pytest.mark.parametrize("cloud", sorted(DOCUMENTS))
def test_a_failed_real_document_never_fetches(cloud):
    """Replayed, without intermediates, AIA allowed: its AIA URL (an allowed Microsoft host) is not followed."""
    case = DOCUMENTS[cloud]
    with AiaServer() as server:
        verifier = AttestationVerifier(_attestation.load_roots(str(ROOTS)), fetcher_for(server))
        report = verifier.verify(case["load"](), nonce="1", vm_id=case["vm_id"], valid_at=case["valid_at"])
        assert server.requests == [] and server.port
    assert "AIA URLs were not followed: the document had already failed" in report["notes"]
    assert report["checks"]["chain"] is False and report["checks"]["nonce"] is False


@pytest.mark.parametrize("cloud", sorted(DOCUMENTS))
def test_a_good_real_document_fetches_its_intermediate(cloud):
    """The same document, fresh: the intermediate comes from its real AIA URL (served locally)."""
    case = DOCUMENTS[cloud]
    intermediate = x509.load_pem_x509_certificate(
        next(p for p in INTERMEDIATES.iterdir() if case["issuer"].lower().replace(" ", "-") in p.name).read_bytes())
    with AiaServer() as server:
        server.routes = {path: (200, {}, intermediate.public_bytes(serialization.Encoding.DER))
                         for path in _aia_paths(case)}
        verifier = AttestationVerifier(_attestation.load_roots(str(ROOTS)), fetcher_for(server))
        report = verifier.verify(case["load"](), nonce=case["nonce"], vm_id=case["vm_id"], valid_at=case["valid_at"])
        assert report["verified"], (report["failures"], report["notes"])
        assert len(server.requests) == 1


def _aia_paths(case) -> list:
    signer = next(c for c in _attestation._SignedData(base64.b64decode(case["load"]()["signature"])).certificates)
    return [urllib.parse.urlsplit(url).path for url in _attestation.ca_issuer_urls(signer)]


@pytest.mark.parametrize("cloud", sorted(DOCUMENTS))
def test_real_document_expired(cloud):
    case = DOCUMENTS[cloud]
    report = offline_verifier().verify(case["load"](), nonce=case["nonce"], vm_id=case["vm_id"],
                                       valid_at=case["after_expiry"])
    assert {k for k, v in report["checks"].items() if v is False} == {"expiry"}
    today = offline_verifier().verify(case["load"](), nonce=case["nonce"], vm_id=case["vm_id"])
    assert today["checks"]["expiry"] is False and today["checks"]["chain"] is False  # certificates expired too


@pytest.mark.parametrize("cloud", sorted(DOCUMENTS))
def test_real_document_relayed_for_another_vm(cloud):
    """The relay of issue 21: a genuine document, but not from the VM the controller expected."""
    case = DOCUMENTS[cloud]
    report = offline_verifier().verify(case["load"](), nonce=case["nonce"],
                                       vm_id="00000000-0000-0000-0000-000000000001", valid_at=case["valid_at"])
    assert {k for k, v in report["checks"].items() if v is False} == {"vm_id"}
    assert "not the expected 00000000-0000-0000-0000-000000000001" in report["failures"][0]


@pytest.mark.parametrize("cloud", sorted(DOCUMENTS))
def test_missing_intermediate_is_named_as_such(cloud):
    case = DOCUMENTS[cloud]
    verifier = _attestation.verifier_from_options({"ca_path": str(ROOTS), "aia_fetch": False,
                                                   "aia_cache_dir": None})
    report = verifier.verify(case["load"](), nonce=case["nonce"], vm_id=case["vm_id"], valid_at=case["valid_at"])
    failure = report["failures"][0]
    assert "Missing intermediate: CN=%s,O=Microsoft Corporation,C=US" % case["issuer"] in failure
    assert "intermediates_path" in failure and "Missing root" not in failure
    assert case["load"]()["signature"][:40] not in failure


@pytest.mark.parametrize("cloud", sorted(DOCUMENTS))
def test_missing_root_is_named_as_such(cloud):
    """Intermediates supplied, but ca_path holds only the other cloud's root: the hint asks for the root in
    ca_path, never for aia_fetch (AIA never makes a root trusted)."""
    case = DOCUMENTS[cloud]
    report = offline_verifier(ROOTS / case["other_root"]).verify(case["load"](), nonce=case["nonce"],
                                                                 vm_id=case["vm_id"], valid_at=case["valid_at"])
    failure = report["failures"][0]
    assert "Missing root: " in failure and case["root"] in failure and "ca_path" in failure
    assert "aia_fetch" not in failure and "Missing intermediate" not in failure


def test_an_intermediate_bundle_never_acts_as_a_root():
    """Putting the intermediates where they belong does not make them trust anchors."""
    case = DOCUMENTS["government"]
    verifier = _attestation.verifier_from_options({"ca_path": str(ROOTS / "baltimore-cybertrust-root.pem"),
                                                   "intermediates_path": str(INTERMEDIATES), "aia_fetch": False,
                                                   "aia_cache_dir": None})
    report = verifier.verify(case["load"](), nonce=case["nonce"], vm_id=case["vm_id"], valid_at=case["valid_at"])
    assert report["checks"]["chain"] is False


def test_usage_errors_for_intermediates_path(tmp_path):
    with pytest.raises(_attestation.AttestationUsageError, match="intermediates_path .* does not exist"):
        _attestation.load_intermediates(str(tmp_path / "missing"))
    (tmp_path / "empty.pem").write_text("nothing")
    with pytest.raises(_attestation.AttestationUsageError, match="No certificates found"):
        _attestation.load_intermediates(str(tmp_path / "empty.pem"))
    with pytest.raises(_attestation.AttestationUsageError, match="aia_allowed_hosts"):
        _attestation.verifier_from_options({"ca_path": str(ROOTS), "aia_allowed_hosts": ["http://x.example/"]})
