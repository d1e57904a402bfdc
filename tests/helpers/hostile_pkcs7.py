"""Hostile attested documents: PKCS#7 SignedData rebuilt around a valid signature, and odd little PKIs.

``rebuild`` reassembles a SignedData from its parts, so a test can swap the certificate set or the
signer info while everything else stays as IMDS would send it.
"""

from __future__ import annotations

import base64
import datetime

from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

# One DER element (definite length): the emulator's own encoder, which its signed documents use too.
from azure_imds_emulator.stdlib_pki import tlv


def rebuild(signature_b64: str, certificates: bytes | None = None, signer_info: bytes | None = None) -> str:
    """The document with its [0] certificates content and/or its one SignerInfo replaced (raw DER)."""
    info = cms.ContentInfo.load(base64.b64decode(signature_b64))
    signed = info["content"]
    certs = certificates if certificates is not None else b"".join(c.dump() for c in signed["certificates"])
    signer = signer_info if signer_info is not None else signed["signer_infos"][0].dump()
    body = (signed["version"].dump() + signed["digest_algorithms"].dump() + signed["encap_content_info"].dump()
            + tlv(0xA0, certs) + tlv(0x31, signer))
    der = tlv(0x30, info["content_type"].dump() + tlv(0xA0, tlv(0x30, body)))
    return base64.b64encode(der).decode("ascii")


def certificates_of(signature_b64: str) -> list:
    """DER of each certificate in the document, signer first as IMDS orders them."""
    return [c.dump() for c in cms.ContentInfo.load(base64.b64decode(signature_b64))["content"]["certificates"]]


def signer_info_with(signature_b64: str, digest_oid: str | None = None, signature_oid: str | None = None) -> bytes:
    """The document's SignerInfo DER with its digest and/or signature algorithm replaced."""
    signer = cms.ContentInfo.load(base64.b64decode(signature_b64))["content"]["signer_infos"][0].copy()
    if digest_oid:
        signer["digest_algorithm"] = {"algorithm": digest_oid}
    if signature_oid:
        signer["signature_algorithm"] = {"algorithm": signature_oid}
    return signer.dump(force=True)


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate(common_name: str, key, issuer_name: str, issuer_key, ca: bool, aia_urls=(), dns_names=()):
    """A certificate valid from yesterday for 30 days, optionally with CA-issuers AIA URLs and DNS names."""
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                                        critical=True)
    if aia_urls:
        builder = builder.add_extension(x509.AuthorityInformationAccess([
            x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(url))
            for url in aia_urls]), critical=False)
    if dns_names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]),
                                        critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def sign(content: bytes, leaf, leaf_key, extra=()) -> str:
    """Base64 DER of a SignedData over ``content`` by ``leaf``, carrying ``extra`` certificates too."""
    builder = pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(leaf, leaf_key, hashes.SHA256())
    for other in extra:
        builder = builder.add_certificate(other)
    return base64.b64encode(builder.sign(serialization.Encoding.DER, [])).decode("ascii")


def der(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)
