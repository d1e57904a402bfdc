"""A throw-away PKI (root -> intermediate -> leaf) that signs attested documents as PKCS#7 SignedData."""

from __future__ import annotations

import base64
import datetime
import threading

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs7
    from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
except ImportError:  # without the [attestation] extra: the standard library PKI below
    x509 = None

from .stdlib_pki import StdlibEmulatorPki

KEY_BITS = 2048
LEAF_COMMON_NAME = "metadata.azure.com"


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "imds.azure test PKI"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def _certificate(subject: x509.Name, subject_key, issuer: x509.Name, issuer_key, ca: bool,
                 san: list | None = None, aia_url: str | None = None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False), critical=True)
    else:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False), critical=True)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in san]), critical=False)
    if aia_url:
        builder = builder.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(aia_url))]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


class EmulatorPki:
    """Keys and certificates are made on first use: RSA key generation takes a moment."""

    def __init__(self, leaf_common_name: str = LEAF_COMMON_NAME, include_intermediate: bool = True,
                 aia_url: str | None = None) -> None:
        """``include_intermediate=False`` leaves the intermediate out of the PKCS#7, as production documents do;
        ``aia_url`` names where the leaf says its issuer can be downloaded."""
        self.leaf_common_name = leaf_common_name
        self.include_intermediate = include_intermediate
        self.aia_url = aia_url
        self._lock = threading.Lock()
        self._ready = False
        self._root_cert = self._intermediate_cert = self._leaf_cert = None
        self._leaf_key = None

    def _ensure(self) -> None:
        with self._lock:
            if self._ready:
                return
            root_key, inter_key, leaf_key = _new_key(), _new_key(), _new_key()
            root_name = _name("imds.azure Test Root CA")
            inter_name = _name("imds.azure Test Intermediate CA")
            self._root_cert = _certificate(root_name, root_key, root_name, root_key, ca=True)
            self._intermediate_cert = _certificate(inter_name, inter_key, root_name, root_key, ca=True)
            self._leaf_cert = _certificate(_name(self.leaf_common_name), leaf_key, inter_name, inter_key, ca=False,
                                           san=[self.leaf_common_name], aia_url=self.aia_url)
            self._leaf_key = leaf_key
            self._ready = True

    # The certificates are made on first use whichever is asked for first: a test that reads one
    # before anything else has signed must not get None.
    @property
    def root_cert(self) -> x509.Certificate:
        self._ensure()
        return self._root_cert

    @property
    def intermediate_cert(self) -> x509.Certificate:
        self._ensure()
        return self._intermediate_cert

    @property
    def leaf_cert(self) -> x509.Certificate:
        self._ensure()
        return self._leaf_cert

    def root_pem(self) -> bytes:
        self._ensure()
        return self.root_cert.public_bytes(serialization.Encoding.PEM)

    def intermediate_pem(self) -> bytes:
        self._ensure()
        return self.intermediate_cert.public_bytes(serialization.Encoding.PEM)

    def intermediate_der(self) -> bytes:
        self._ensure()
        return self.intermediate_cert.public_bytes(serialization.Encoding.DER)

    def write_root(self, path: str) -> None:
        with open(path, "wb") as handle:
            handle.write(self.root_pem())

    def sign(self, content: bytes) -> str:
        """Return base64 DER of a PKCS#7 SignedData holding ``content``, the leaf and the intermediate."""
        self._ensure()
        builder = pkcs7.PKCS7SignatureBuilder().set_data(content)
        builder = builder.add_signer(self.leaf_cert, self._leaf_key, hashes.SHA256())
        if self.include_intermediate:
            builder = builder.add_certificate(self.intermediate_cert)
        signed = builder.sign(serialization.Encoding.DER, [])
        return base64.b64encode(signed).decode("ascii")


if x509 is None:
    # Installed without the [attestation] extra: the same PKI, made with the standard library (slower keys).
    EmulatorPki = StdlibEmulatorPki  # noqa: F811  pylint: disable=invalid-name
