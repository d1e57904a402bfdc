"""The attestation PKI with the standard library only, for when ``cryptography`` is not installed.

TEST ONLY. RSA keys are made fresh in memory (Miller-Rabin primes), certificates and the PKCS#7
SignedData are DER-encoded here by hand, and signing is RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017
8.2) as a plain ``pow()``: nothing is constant-time or hardened. The shapes follow RFC 5280
(certificates) and RFC 5652 (SignedData with signed attributes), as the ``cryptography`` builder of
pki.py makes them: root -> intermediate -> leaf, the leaf and the intermediate in the document.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import math
import secrets
import threading

KEY_BITS = 2048
PUBLIC_EXPONENT = 65537
_SMALL_PRIMES = [p for p in range(3, 2000, 2) if all(p % d for d in range(3, int(p ** 0.5) + 1, 2))]
_MILLER_RABIN_ROUNDS = 40

OID_RSA = "1.2.840.113549.1.1.1"
OID_SHA256_RSA = "1.2.840.113549.1.1.11"
OID_SHA256 = "2.16.840.1.101.3.4.2.1"
OID_DATA = "1.2.840.113549.1.7.1"
OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
OID_SIGNING_TIME = "1.2.840.113549.1.9.5"
OID_ORGANIZATION = "2.5.4.10"
OID_COMMON_NAME = "2.5.4.3"
OID_BASIC_CONSTRAINTS = "2.5.29.19"
OID_KEY_USAGE = "2.5.29.15"
OID_SUBJECT_KEY_ID = "2.5.29.14"
OID_SUBJECT_ALT_NAME = "2.5.29.17"
OID_AUTHORITY_INFO = "1.3.6.1.5.5.7.1.1"
OID_CA_ISSUERS = "1.3.6.1.5.5.7.48.2"
# DigestInfo for SHA-256 up to the digest (RFC 8017, 9.2 note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
# KeyUsage as DER BIT STRING contents (unused bits first): CA digitalSignature, keyCertSign, cRLSign;
# leaf digitalSignature, keyEncipherment.
CA_KEY_USAGE = b"\x01\x86"
LEAF_KEY_USAGE = b"\x05\xa0"


# -- DER ---------------------------------------------------------------------------------------------

def tlv(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def sequence(*items: bytes) -> bytes:
    return tlv(0x30, b"".join(items))


def set_of(*items: bytes) -> bytes:
    return tlv(0x31, b"".join(sorted(items)))  # DER orders a SET OF by encoding


def integer(value: int) -> bytes:
    return tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))  # a leading 0 keeps it positive


def oid(dotted: str) -> bytes:
    numbers = [int(part) for part in dotted.split(".")]
    body = bytearray([40 * numbers[0] + numbers[1]])
    for number in numbers[2:]:
        chunk = [number & 0x7F]
        number >>= 7
        while number:
            chunk.append(0x80 | (number & 0x7F))
            number >>= 7
        body.extend(reversed(chunk))
    return tlv(0x06, bytes(body))


def utc_time(moment: datetime.datetime) -> bytes:
    return tlv(0x17, moment.strftime("%y%m%d%H%M%SZ").encode("ascii"))


def octets(data: bytes) -> bytes:
    return tlv(0x04, data)


def bits(data: bytes) -> bytes:
    return tlv(0x03, b"\x00" + data)


def explicit(number: int, content: bytes) -> bytes:
    return tlv(0xA0 + number, content)


NULL = b"\x05\x00"
TRUE = b"\x01\x01\xff"


def algorithm(dotted: str) -> bytes:
    return sequence(oid(dotted), NULL)


# -- RSA ---------------------------------------------------------------------------------------------

def _probably_prime(candidate: int) -> bool:
    if any(candidate % p == 0 for p in _SMALL_PRIMES):
        return False
    odd, twos = candidate - 1, 0
    while odd % 2 == 0:
        odd //= 2
        twos += 1
    for _round in range(_MILLER_RABIN_ROUNDS):
        witness = pow(secrets.randbelow(candidate - 3) + 2, odd, candidate)
        if witness in (1, candidate - 1):
            continue
        for _square in range(twos - 1):
            witness = pow(witness, 2, candidate)
            if witness == candidate - 1:
                break
        else:
            return False
    return True


def _prime(size: int) -> int:
    while True:
        candidate = secrets.randbits(size) | (3 << (size - 2)) | 1  # top two bits: n has all its bits
        if _probably_prime(candidate) and math.gcd(candidate - 1, PUBLIC_EXPONENT) == 1:
            return candidate


class RsaKey:
    """An RSA private key: modulus ``n``, public exponent ``e``, private exponent ``d``."""

    def __init__(self, size: int = KEY_BITS) -> None:
        while True:
            p, q = _prime(size // 2), _prime(size // 2)
            if p != q:
                break
        self.n = p * q
        self.e = PUBLIC_EXPONENT
        self.d = pow(self.e, -1, (p - 1) * (q - 1))

    def public_der(self) -> bytes:
        """RSAPublicKey (RFC 8017 A.1.1)."""
        return sequence(integer(self.n), integer(self.e))

    def subject_public_key_info(self) -> bytes:
        return sequence(algorithm(OID_RSA), bits(self.public_der()))

    def sign(self, message: bytes) -> bytes:
        """RSASSA-PKCS1-v1_5 with SHA-256."""
        size = (self.n.bit_length() + 7) // 8
        digest_info = SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
        encoded = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
        return pow(int.from_bytes(encoded, "big"), self.d, self.n).to_bytes(size, "big")


# -- certificates and SignedData -----------------------------------------------------------------------

def name(common_name: str) -> bytes:
    return sequence(set_of(sequence(oid(OID_ORGANIZATION), tlv(0x0C, b"imds.azure test PKI"))),
                    set_of(sequence(oid(OID_COMMON_NAME), tlv(0x0C, common_name.encode("utf-8")))))


def _extension(dotted: str, value: bytes, critical: bool = False) -> bytes:
    return sequence(oid(dotted), *([TRUE] if critical else []), octets(value))


class Certificate:
    """A certificate's DER with what a SignedData needs of it."""

    def __init__(self, subject: str, key: RsaKey, issuer: str, issuer_key: RsaKey, ca: bool,
                 san: list | None = None, aia_url: str | None = None) -> None:
        now = datetime.datetime.now(datetime.timezone.utc)
        self.issuer = name(issuer)
        self.serial = secrets.randbits(159) | 1  # positive, at most 20 octets (RFC 5280 4.1.2.2)
        extensions = [
            _extension(OID_BASIC_CONSTRAINTS, sequence(TRUE) if ca else sequence(), critical=True),
            _extension(OID_SUBJECT_KEY_ID, octets(hashlib.sha1(key.public_der()).digest())),
            _extension(OID_KEY_USAGE, tlv(0x03, CA_KEY_USAGE if ca else LEAF_KEY_USAGE), critical=True),
        ]
        if san:
            extensions.append(_extension(OID_SUBJECT_ALT_NAME,
                                         sequence(*(tlv(0x82, n.encode("ascii")) for n in san))))
        if aia_url:
            extensions.append(_extension(OID_AUTHORITY_INFO, sequence(sequence(
                oid(OID_CA_ISSUERS), tlv(0x86, aia_url.encode("ascii"))))))
        tbs = sequence(
            explicit(0, integer(2)), integer(self.serial), algorithm(OID_SHA256_RSA), self.issuer,
            sequence(utc_time(now - datetime.timedelta(days=1)), utc_time(now + datetime.timedelta(days=30))),
            name(subject), key.subject_public_key_info(), explicit(3, sequence(*extensions)))
        self.der = sequence(tbs, algorithm(OID_SHA256_RSA), bits(issuer_key.sign(tbs)))

    def pem(self) -> bytes:
        text = base64.b64encode(self.der).decode("ascii")
        lines = [text[i:i + 64] for i in range(0, len(text), 64)]
        return ("-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % "\n".join(lines)).encode("ascii")


def signed_data(content: bytes, signer: Certificate, key: RsaKey, extra_certificates: list) -> bytes:
    """ContentInfo(SignedData) holding ``content``, signed with signed attributes (RFC 5652 5.3, 5.4)."""
    attributes = set_of(
        sequence(oid(OID_CONTENT_TYPE), set_of(oid(OID_DATA))),
        sequence(oid(OID_SIGNING_TIME), set_of(utc_time(datetime.datetime.now(datetime.timezone.utc)))),
        sequence(oid(OID_MESSAGE_DIGEST), set_of(octets(hashlib.sha256(content).digest()))),
    )
    signer_info = sequence(
        integer(1), sequence(signer.issuer, integer(signer.serial)), algorithm(OID_SHA256),
        tlv(0xA0, _content_of(attributes)),  # [0] IMPLICIT SET OF Attribute
        algorithm(OID_RSA), octets(key.sign(attributes)))
    certificates = tlv(0xA0, b"".join(c.der for c in [signer] + list(extra_certificates)))
    body = sequence(integer(1), set_of(algorithm(OID_SHA256)),
                    sequence(oid(OID_DATA), explicit(0, octets(content))), certificates, set_of(signer_info))
    return sequence(oid(OID_SIGNED_DATA), explicit(0, body))


def _content_of(encoded: bytes) -> bytes:
    """The contents of one DER TLV (its tag and length dropped)."""
    first = encoded[1]
    return encoded[2:] if first < 0x80 else encoded[2 + (first & 0x7F):]


class StdlibEmulatorPki:
    """pki.EmulatorPki's interface without ``cryptography``; keys and certificates are made on first use."""

    def __init__(self, leaf_common_name: str = "metadata.azure.com", include_intermediate: bool = True,
                 aia_url: str | None = None) -> None:
        self.leaf_common_name = leaf_common_name
        self.include_intermediate = include_intermediate
        self.aia_url = aia_url
        self._lock = threading.Lock()
        self._made = None  # (root, intermediate, leaf, leaf key)

    def _ensure(self) -> tuple:
        with self._lock:
            if self._made is None:
                root_key, inter_key, leaf_key = RsaKey(), RsaKey(), RsaKey()
                root_name, inter_name = "imds.azure Test Root CA", "imds.azure Test Intermediate CA"
                root = Certificate(root_name, root_key, root_name, root_key, ca=True)
                inter = Certificate(inter_name, inter_key, root_name, root_key, ca=True)
                leaf = Certificate(self.leaf_common_name, leaf_key, inter_name, inter_key, ca=False,
                                   san=[self.leaf_common_name], aia_url=self.aia_url)
                self._made = (root, inter, leaf, leaf_key)
            return self._made

    def root_pem(self) -> bytes:
        return self._ensure()[0].pem()

    def intermediate_pem(self) -> bytes:
        return self._ensure()[1].pem()

    def intermediate_der(self) -> bytes:
        return self._ensure()[1].der

    def write_root(self, path: str) -> None:
        with open(path, "wb") as handle:
            handle.write(self.root_pem())

    def sign(self, content: bytes) -> str:
        """Base64 DER of a PKCS#7 SignedData holding ``content``, the leaf and (optionally) the intermediate."""
        _root, inter, leaf, leaf_key = self._ensure()
        extra = [inter] if self.include_intermediate else []
        return base64.b64encode(signed_data(content, leaf, leaf_key, extra)).decode("ascii")
