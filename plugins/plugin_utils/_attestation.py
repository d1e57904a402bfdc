# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Verify an IMDS attested document on the controller.

The document is a base64 PKCS#7 SignedData (IMDS.md, Attested data). ``cryptography`` has no
PKCS#7 verification, so ``asn1crypto`` parses the structure and ``cryptography`` does every
cryptographic step: the signature over the content (or over the signed attributes, whose
message digest must then match the content), and the chain from the signer certificate to a
trusted root (``cryptography.x509.verification``). Then the content: the nonce is the one sent,
``timeStamp.expiresOn`` has not passed, ``vmId`` is the expected one.

The document is untrusted, so the order matters: its structure is bounded before anything is
parsed (``MAX_SIGNATURE_CHARS``, ``MAX_ASN1_DEPTH``, ``MAX_ASN1_ELEMENTS``, ``MAX_CERTIFICATES``);
the content is parsed only after the signature over it verified; and intermediates are downloaded
(``_aia_fetch``, its own rules and bounds) only for a document that has passed every other check,
signed by a metadata name. Every check that fails adds one message; nothing here raises for an
invalid document, only for wrong use (``AttestationUsageError``).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import re
import secrets
import ssl
import warnings
from pathlib import Path

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.imds.azure.plugins.module_utils._errors import excerpt
from ansible_collections.imds.azure.plugins.plugin_utils import _aia_fetch

try:
    from asn1crypto import cms
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.x509 import verification
    from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
except ImportError as exc:  # reported by _attestation_loader, which names what to install
    LIBRARY_IMPORT_ERROR: ImportError | None = exc
else:
    LIBRARY_IMPORT_ERROR = None

# Signer names IMDS uses: metadata.azure.com and the sovereign clouds, or a subdomain (IMDS.md).
SIGNER_DOMAINS = ("metadata.azure.com", "metadata.azure.us", "metadata.azure.cn", "metadata.microsoftazure.de")
TIMESTAMP_FORMAT = "%m/%d/%y %H:%M:%S %z"  # "01/04/21 13:55:34 -0000"
NONCE_DIGITS = 32  # IMDS takes up to 32 alphanumerics; digits are alphanumerics on every IMDS version
MAX_SIGNATURE_CHARS = 64 * 1024
MAX_CHAIN_DEPTH = 4  # certificates above the signer (Azure's chains have one or two)
MAX_CERTIFICATES = 8  # read from one document (IMDS sends the signer, sometimes an intermediate)
MAX_ASN1_DEPTH = 24  # real documents nest 10 deep
MAX_ASN1_ELEMENTS = 4096  # real documents hold about 130 elements
MAX_CONTENT_DEPTH = 16  # JSON nesting of the signed content (IMDS's is 3 deep)
MAX_BUNDLE_CERTIFICATES = 1000  # in intermediates_path (Microsoft publishes a few dozen)

# Digest algorithms by name, and by the signature-algorithm OIDs IMDS puts in digestAlgorithm.
_DIGESTS = {
    "sha1": "SHA1", "sha256": "SHA256", "sha384": "SHA384", "sha512": "SHA512",
    "1.2.840.113549.1.1.5": "SHA1", "1.2.840.113549.1.1.11": "SHA256",
    "1.2.840.113549.1.1.12": "SHA384", "1.2.840.113549.1.1.13": "SHA512",
    "sha1_rsa": "SHA1", "sha256_rsa": "SHA256", "sha384_rsa": "SHA384", "sha512_rsa": "SHA512",
}

# Signature algorithms a SignerInfo may name, by key family (asn1crypto's names).
_SIGNATURE_FAMILIES = {
    "rsassa_pkcs1v15": "rsa", "sha1_rsa": "rsa", "sha256_rsa": "rsa", "sha384_rsa": "rsa", "sha512_rsa": "rsa",
    "sha1_ecdsa": "ecdsa", "sha256_ecdsa": "ecdsa", "sha384_ecdsa": "ecdsa", "sha512_ecdsa": "ecdsa",
}


class AttestationUsageError(ValueError):
    """The verifier was called wrongly (bad option), as opposed to an invalid document."""


def make_nonce() -> str:
    """A fresh nonce from the OS's CSPRNG, in the form IMDS accepts."""
    return "".join(secrets.choice("0123456789") for _digit in range(NONCE_DIGITS))


def signer_name_allowed(name: str) -> bool:
    name = name.lower().rstrip(".")
    return any(name == domain or name.endswith("." + domain) for domain in SIGNER_DOMAINS)


def parse_timestamp(value) -> datetime.datetime:
    """``MM/dd/yy HH:mm:ss -0000`` (IMDS's format) as an aware UTC datetime."""
    if not isinstance(value, str):
        raise ValueError("not a string")
    return datetime.datetime.strptime(value.strip(), TIMESTAMP_FORMAT).astimezone(datetime.timezone.utc)


def parse_valid_at(value) -> datetime.datetime:
    """An ISO 8601 date-time (naive means UTC), a datetime, or None for now."""
    if value is None or value == "":
        return datetime.datetime.now(datetime.timezone.utc)
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        try:
            moment = datetime.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise AttestationUsageError("valid_at must be an ISO 8601 date and time such as "
                                        "2021-01-04T14:00:00Z, got %r." % value) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


# -- trust store ------------------------------------------------------------------------------

_PEM_RE = re.compile(rb"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----")


def _certificates_in(data: bytes) -> list:
    """Certificates in PEM text (any number) or one DER certificate; unreadable entries are skipped."""
    found = []
    blocks = _PEM_RE.findall(data)
    for block in blocks:
        try:
            with warnings.catch_warnings():
                # System bundles hold a few old roots with non-positive serials; they are still roots.
                warnings.simplefilter("ignore")
                found.append(x509.load_pem_x509_certificate(block))
        except ValueError:
            continue
    if not blocks:
        try:
            found.append(x509.load_der_x509_certificate(data))
        except ValueError:
            pass
    return found


def _certificate_files(path: Path) -> list:
    return sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]


def _certificates_from(path: Path, limit: int | None = None) -> list:
    """Certificates in a PEM/DER file or a directory of them; unreadable files are skipped."""
    found = []
    for file in _certificate_files(path):
        try:
            found.extend(_certificates_in(file.read_bytes()))
        except OSError:
            continue
        if limit is not None and len(found) > limit:
            raise AttestationUsageError("%s holds more than %d certificates." % (path, limit))
    return found


def load_roots(ca_path: str | None = None) -> list:
    """Trusted roots from ``ca_path`` (a PEM bundle or a directory of PEM/DER files), else the system store."""
    if ca_path:
        paths = [Path(ca_path).expanduser()]
        if not paths[0].exists():
            raise AttestationUsageError("ca_path %s does not exist; give a PEM bundle or a directory of "
                                        "certificates." % ca_path)
    else:
        defaults = ssl.get_default_verify_paths()
        paths = [Path(p) for p in (defaults.cafile, defaults.openssl_cafile, defaults.capath, defaults.openssl_capath)
                 if p and Path(p).exists()]
    roots = []
    for path in paths:
        roots.extend(_certificates_from(path))
        if roots and not ca_path:
            break  # the system bundle is enough; its hashed directory holds the same roots
    if not roots:
        where = ca_path or "the system trust store"
        raise AttestationUsageError("No trusted root certificates found in %s; set ca_path." % where)
    return roots


def load_intermediates(intermediates_path: str | None) -> list:
    """Untrusted intermediates from ``intermediates_path``: used to build a chain, never as trust anchors."""
    if not intermediates_path:
        return []
    path = Path(intermediates_path).expanduser()
    if not path.exists():
        raise AttestationUsageError("intermediates_path %s does not exist; give a PEM bundle or a directory of "
                                    "certificates." % intermediates_path)
    found = _certificates_from(path, MAX_BUNDLE_CERTIFICATES)
    if not found:
        raise AttestationUsageError("No certificates found in intermediates_path %s." % intermediates_path)
    return found


# -- AIA ----------------------------------------------------------------------------------------

def ca_issuer_urls(certificate: x509.Certificate) -> list:
    """The CA-issuers URLs of the certificate's AIA extension (any scheme: the fetcher judges them)."""
    try:
        access = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except (x509.ExtensionNotFound, ValueError):
        return []
    return [d.access_location.value for d in access
            if d.access_method == AuthorityInformationAccessOID.CA_ISSUERS
            and isinstance(d.access_location, x509.UniformResourceIdentifier)]


def issuer_from_aia(fetcher: _aia_fetch.AiaFetcher, certificate: x509.Certificate) -> x509.Certificate | None:
    """The certificate's issuer from its AIA URLs (at most MAX_URLS_PER_CERTIFICATE are tried)."""
    urls = ca_issuer_urls(certificate)
    if len(urls) > _aia_fetch.MAX_URLS_PER_CERTIFICATE:
        fetcher.notes.append("%s names %d AIA URLs, more than %d: none were followed"
                             % (_subject(certificate), len(urls), _aia_fetch.MAX_URLS_PER_CERTIFICATE))
        return None
    for url in urls:
        data = fetcher.fetch(url)
        for candidate in _certificates_in(data or b""):
            if candidate.subject == certificate.issuer:
                return candidate
        if data is not None:  # what the server sent is never repeated, only that it did not help
            fetcher.notes.append("AIA URL %s did not hold the certificate of %s"
                                 % (excerpt(url, 120), certificate.issuer.rfc4514_string()))
    return None


# -- PKCS#7 -------------------------------------------------------------------------------------

def check_der_shape(der: bytes) -> None:
    """Refuse DER nested deeper than MAX_ASN1_DEPTH or with more than MAX_ASN1_ELEMENTS elements.

    An iterative walk over tag and length headers only, before any parser sees the bytes: deeply
    nested or element-stuffed input then costs one linear pass, not a recursive parse.
    """
    stack = [len(der)]  # end offset of each open constructed element
    position, elements = 0, 0
    while stack:
        if position == stack[-1]:
            stack.pop()
            continue
        constructed, start, end = _der_header(der, position, stack[-1])
        elements += 1
        if elements > MAX_ASN1_ELEMENTS:
            raise ValueError("it has more than %d ASN.1 elements" % MAX_ASN1_ELEMENTS)
        if constructed:
            if len(stack) > MAX_ASN1_DEPTH:
                raise ValueError("its ASN.1 nests deeper than %d levels" % MAX_ASN1_DEPTH)
            stack.append(end)
            position = start
        else:
            position = end


def _der_header(der: bytes, position: int, limit: int) -> tuple:
    """(constructed, content start, content end) of the element at ``position``; ValueError if malformed."""
    if position >= limit:
        raise ValueError("its ASN.1 is truncated")
    tag = der[position]
    position += 1
    if tag & 0x1F == 0x1F:  # high tag number: base-128 digits
        while position < limit and der[position] & 0x80:
            position += 1
        position += 1
    if position >= limit:
        raise ValueError("its ASN.1 is truncated")
    length = der[position]
    position += 1
    if length == 0x80:
        raise ValueError("it uses an indefinite length (BER), not DER")
    if length & 0x80:
        count = length & 0x7F
        if count > 4 or position + count > limit:
            raise ValueError("its ASN.1 has an impossible length")
        length = int.from_bytes(der[position:position + count], "big")
        position += count
    if position + length > limit:
        raise ValueError("its ASN.1 is truncated")
    return bool(tag & 0x20), position, position + length


class _SignedData:
    """What the verifier needs from the SignedData: content, certificates, one signer's fields."""

    def __init__(self, der: bytes) -> None:
        check_der_shape(der)
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise ValueError("the PKCS#7 content type is %s, not signed data" % info["content_type"].native)
        signed = info["content"]
        encapsulated = signed["encap_content_info"]
        if encapsulated["content_type"].native != "data" or encapsulated["content"].native is None:
            raise ValueError("the SignedData does not carry its content")
        self.content = encapsulated["content"].native
        self.certificates = self._certificates(signed["certificates"])
        signers = list(signed["signer_infos"])
        if len(signers) != 1:
            raise ValueError("the SignedData has %d signers, IMDS uses exactly one" % len(signers))
        self._read_signer(signers[0])

    @staticmethod
    def _certificates(choices) -> list:
        if len(choices) > MAX_CERTIFICATES:
            raise ValueError("it carries %d certificates; IMDS sends one or two and at most %d are read"
                             % (len(choices), MAX_CERTIFICATES))
        return [x509.load_der_x509_certificate(c.chosen.dump()) for c in choices if c.name == "certificate"]

    def _read_signer(self, signer) -> None:
        if signer["sid"].name != "issuer_and_serial_number":
            raise ValueError("the signer is not named by issuer and serial number")
        self.signer_issuer = signer["sid"].chosen["issuer"].dump()
        self.signer_serial = signer["sid"].chosen["serial_number"].native
        digest_name = signer["digest_algorithm"]["algorithm"].native
        if digest_name not in _DIGESTS:
            raise ValueError("unsupported digest algorithm %s" % excerpt(str(digest_name), 80))
        self.digest = getattr(hashes, _DIGESTS[digest_name])()
        algorithm = signer["signature_algorithm"]["algorithm"].native
        if algorithm not in _SIGNATURE_FAMILIES:
            raise ValueError("unsupported signature algorithm %s" % excerpt(str(algorithm), 80))
        self.key_family = _SIGNATURE_FAMILIES[algorithm]
        self.signature = signer["signature"].native
        attributes = signer["signed_attrs"]
        self.signed_attributes = None
        self.message_digest = None
        if attributes.native is not None and len(attributes):
            # The signature covers the attributes DER-encoded as a SET OF (tag 0x31), not as [0].
            self.signed_attributes = b"\x31" + attributes.dump()[1:]
            for attribute in attributes:
                if attribute["type"].native == "message_digest":
                    self.message_digest = attribute["values"][0].native

    def signer_certificate(self) -> x509.Certificate | None:
        for certificate in self.certificates:
            if certificate.serial_number == self.signer_serial and \
                    certificate.issuer.public_bytes() == self.signer_issuer:
                return certificate
        return None


def _verify_signature(signed: _SignedData, certificate: x509.Certificate) -> str | None:
    """None when the signature is good, else why not."""
    if signed.signed_attributes is not None:
        digest = hashes.Hash(type(signed.digest)())
        digest.update(signed.content)
        if signed.message_digest != digest.finalize():
            return "the message digest in the signed attributes does not match the content (content was changed)"
        data = signed.signed_attributes
    else:
        data = signed.content
    try:
        key = certificate.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return "the signer certificate's public key type is not supported"
    try:
        if isinstance(key, rsa.RSAPublicKey) and signed.key_family == "rsa":
            key.verify(signed.signature, data, padding.PKCS1v15(), signed.digest)
        elif isinstance(key, ec.EllipticCurvePublicKey) and signed.key_family == "ecdsa":
            key.verify(signed.signature, data, ec.ECDSA(signed.digest))
        else:
            return ("the signature algorithm (%s) does not fit the signer's %s key"
                    % (signed.key_family, type(key).__name__))
    except InvalidSignature:
        return "the signature does not match the content (content or signature was changed)"
    except UnsupportedAlgorithm as exc:
        return "the signature algorithm is not supported (%s)" % excerpt(str(exc), 120)
    return None


# -- the verifier ----------------------------------------------------------------------------------

def _dns_names(certificate: x509.Certificate) -> list:
    try:
        return certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName)
    except (x509.ExtensionNotFound, ValueError):
        return []


def _common_names(certificate: x509.Certificate) -> list:
    return [a.value for a in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME) if isinstance(a.value, str)]


def _subject(certificate: x509.Certificate) -> str:
    return excerpt(certificate.subject.rfc4514_string(), 160)


def describe_certificate(certificate: x509.Certificate) -> dict:
    return {
        "subject": certificate.subject.rfc4514_string(),
        "issuer": certificate.issuer.rfc4514_string(),
        "serial_number": format(certificate.serial_number, "x"),
        "dns_names": _dns_names(certificate),
        "not_valid_before": certificate.not_valid_before_utc.isoformat(),
        "not_valid_after": certificate.not_valid_after_utc.isoformat(),
        "sha256_fingerprint": certificate.fingerprint(hashes.SHA256()).hex(),
    }


# JSON strings (skipped whole, so brackets inside them do not count) and the brackets that nest.
_JSON_NESTING_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _json_too_deep(text: str, limit: int) -> bool:
    """Whether JSON text nests arrays/objects deeper than ``limit``, found without parsing it (the scan stops
    at the first bracket too deep)."""
    depth = 0
    for token in _JSON_NESTING_TOKENS.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def decode_document(content: bytes) -> dict:
    """The signed JSON with ``timeStamp`` values as ISO 8601 (null if unreadable); IMDS's own text in ``timeStampRaw``.

    Raises ValueError for anything that is not IMDS's JSON object (bytes, nesting, syntax).
    """
    text = content.decode("utf-8")
    if _json_too_deep(text, MAX_CONTENT_DEPTH):
        raise ValueError("it nests deeper than %d levels" % MAX_CONTENT_DEPTH)
    document = json.loads(text)
    if not isinstance(document, dict):
        raise ValueError("the signed content is not a JSON object")
    stamps = document.get("timeStamp")
    if isinstance(stamps, dict):
        document["timeStampRaw"] = stamps
        document["timeStamp"] = {}
        for key in ("createdOn", "expiresOn"):
            try:
                document["timeStamp"][key] = parse_timestamp(stamps.get(key)).isoformat()
            except ValueError:
                document["timeStamp"][key] = None
    return document


class Report:
    """Collects check outcomes: True passed, False failed (with a message), None not checked."""

    def __init__(self) -> None:
        self.checks = {"signature": None, "signer_name": None, "chain": None, "nonce": None, "expiry": None,
                       "vm_id": None}
        self.failures: list[str] = []
        self.notes: list[str] = []

    def record(self, check: str, problem: str | None) -> None:
        self.checks[check] = problem is None
        if problem:
            self.failures.append(problem)


class AttestationVerifier:
    """Verify attested documents against ``roots``; ``intermediates`` and ``aia`` only help build chains."""

    def __init__(self, roots: list, aia: _aia_fetch.AiaFetcher | None = None, intermediates: list | None = None) -> None:
        self.roots = roots
        self.aia = aia or _aia_fetch.AiaFetcher(enabled=False)
        self.intermediates = list(intermediates or [])

    def verify(self, signature, nonce: str | None = None, vm_id: str | None = None, valid_at=None) -> dict:
        moment = parse_valid_at(valid_at)
        report = Report()
        result = {"verified": False, "valid_at": moment.isoformat(), "document": None, "signer": None, "chain": [],
                  "checks": report.checks, "failures": report.failures, "notes": report.notes}
        signed = self._parse(signature, report)
        if signed is None:
            return result
        signer = signed.signer_certificate()
        if signer is None:
            report.record("signature", "the PKCS#7 does not contain the signer's certificate")
            return result
        result["signer"] = describe_certificate(signer)
        report.record("signature", _verify_signature(signed, signer))
        report.record("signer_name", self._signer_name_problem(signer))
        if report.checks["signature"]:  # unsigned bytes are never parsed
            result["document"] = check_content(signed.content, nonce, vm_id, moment, report)
        self.aia.notes = report.notes
        result["chain"] = self._check_chain(signer, signed.certificates, moment, report)
        result["verified"] = not report.failures and report.checks["signature"] is True
        return result

    @staticmethod
    def _parse(signature, report: Report) -> _SignedData | None:
        if isinstance(signature, dict):
            if signature.get("encoding", "pkcs7") != "pkcs7":
                report.record("signature", "the document's encoding is %r, not pkcs7"
                              % excerpt(str(signature.get("encoding")), 40))
                return None
            signature = signature.get("signature")
        if not isinstance(signature, str) or not signature.strip() or len(signature) > MAX_SIGNATURE_CHARS:
            report.record("signature", "the signature is missing, empty or longer than %d characters"
                          % MAX_SIGNATURE_CHARS)
            return None
        try:
            der = base64.b64decode("".join(signature.split()), validate=True)
        except (binascii.Error, ValueError):
            report.record("signature", "the signature is not valid base64")
            return None
        try:
            return _SignedData(der)
        # asn1crypto and cryptography report malformed input with any of these; none may escape.
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError) as exc:
            report.record("signature", "the signature is not a PKCS#7 SignedData IMDS would send: %s"
                          % excerpt(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 200))
            return None

    @staticmethod
    def _signer_name_problem(signer: x509.Certificate) -> str | None:
        names = _dns_names(signer) or _common_names(signer)
        if any(signer_name_allowed(name) for name in names):
            return None
        return ("the signer certificate is for %s, not metadata.azure.com or a sovereign-cloud metadata name"
                % (excerpt(", ".join(names), 200) or "no name"))

    def _check_chain(self, signer: x509.Certificate, bundled: list, moment: datetime.datetime,
                     report: Report) -> list:
        known = [c for c in bundled if c != signer] + self.intermediates
        path, problem = _issuer_path(signer, known, self.roots)
        if problem is None and not _path_complete(path, self.roots):
            if report.failures and self.aia.enabled:
                report.notes.append("AIA URLs were not followed: the document had already failed")
            elif not report.failures:
                path, problem = self._extend_with_aia(path, known)
        if problem:
            report.record("chain", problem)
            return []
        builder = (verification.PolicyBuilder().store(verification.Store(self.roots)).time(moment)
                   .max_chain_depth(MAX_CHAIN_DEPTH)
                   # We check the signer's name ourselves; its key usages are a TLS server's, not a signer's.
                   .extension_policies(ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
                                       ee_policy=verification.ExtensionPolicy.permit_all()))
        try:
            chain = builder.build_client_verifier().verify(signer, known).chain
        except (verification.VerificationError, ValueError) as exc:
            report.record("chain", "the signer certificate does not chain to a trusted root at %s: %s%s"
                          % (moment.isoformat(), excerpt(str(exc).split(" (encountered", maxsplit=1)[0], 200),
                             _missing_certificate_hint(path, self.roots, self.aia.enabled)))
            return []
        report.record("chain", None)
        return [certificate.subject.rfc4514_string() for certificate in chain]

    def _extend_with_aia(self, path: list, known: list) -> tuple:
        """The path grown by AIA downloads (only for a document that passed every other check)."""
        self.aia.start_document()
        while not _path_complete(path, self.roots) and len(path) <= MAX_CHAIN_DEPTH:
            issuer = issuer_from_aia(self.aia, path[-1])
            if issuer is None:
                break
            known.append(issuer)
            path, problem = _issuer_path(path[0], known, self.roots)
            if problem:
                return path, problem
        return path, None


def _issuer_path(signer: x509.Certificate, known: list, roots: list) -> tuple:
    """(path from the signer up through ``known``, problem): stops at a trusted issuer, a gap or a self-signed top.

    An issuer loop (A issued by B issued by A) or a path longer than MAX_CHAIN_DEPTH is a problem.
    """
    by_subject = {}
    for certificate in known:
        by_subject.setdefault(certificate.subject, certificate)
    root_subjects = {root.subject for root in roots}
    path = [signer]
    while True:
        top = path[-1]
        if top.issuer in root_subjects or top.issuer == top.subject or top.issuer not in by_subject:
            return path, None
        issuer = by_subject[top.issuer]
        if any(issuer == earlier for earlier in path):
            names = " -> ".join(_subject(c) for c in path + [issuer])
            return path, "the certificates form an issuer loop (%s); no chain can be built" % names
        path.append(issuer)
        if len(path) > MAX_CHAIN_DEPTH + 1:
            return path, ("the chain from the signer is longer than %d certificates; Azure's chains have two or three"
                          % (MAX_CHAIN_DEPTH + 1))


def _path_complete(path: list, roots: list) -> bool:
    """Whether the top of the path is issued by a trusted root, or is a root itself (trusted or not)."""
    top = path[-1]
    return top.issuer in {root.subject for root in roots} or top.issuer == top.subject


def _missing_certificate_hint(path: list, roots: list, aia_enabled: bool) -> str:
    """Say which certificate is missing: a root (only ca_path makes one trusted) or an intermediate."""
    top = path[-1]
    if top.issuer == top.subject and top not in roots:
        return (". Missing root: the chain ends at %s, which is not a trusted root; add it to ca_path if you trust "
                "it (AIA downloads and intermediates_path never make a certificate trusted)" % _subject(top))
    if _path_complete(path, roots):
        return ""
    issuer = excerpt(top.issuer.rfc4514_string(), 160)
    if len(path) == 1:
        source = ("its AIA URL did not provide it (see the notes)" if aia_enabled else
                  "aia_fetch is off")
        return (". Missing intermediate: %s, which issued the signer, is neither in the document nor in "
                "intermediates_path, and %s; put Microsoft's published intermediate in intermediates_path"
                % (issuer, source))
    return (". Missing root: %s, which issued the intermediate %s, is not a trusted root; add it to ca_path if "
            "you trust it (if it is itself an intermediate, add it to intermediates_path instead)"
            % (issuer, _subject(top)))


def check_content(content: bytes, nonce: str | None, vm_id: str | None, moment: datetime.datetime,
                  report: Report) -> dict | None:
    """The document, its nonce, expiry and vmId checked; parse errors are failures, never exceptions."""
    try:
        document = decode_document(content)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        report.record("expiry", "the signed content is not the JSON document IMDS signs (%s)"
                      % excerpt(str(exc) or type(exc).__name__, 200))
        return None
    if nonce is not None:
        sent = str(nonce)
        report.record("nonce", None if document.get("nonce") == sent else
                      "the nonce in the document is not the one sent (a replayed or cached document; "
                      "ask again with a new nonce)")
    expires = (document.get("timeStamp") or {}).get("expiresOn")
    if expires is None:
        report.record("expiry", "timeStamp.expiresOn is missing or not in IMDS's MM/dd/yy HH:mm:ss -0000 form")
    else:
        report.record("expiry", None if moment <= datetime.datetime.fromisoformat(expires) else
                      "the document expired at %s (checked at %s; set valid_at to audit an old document)"
                      % (expires, moment.isoformat()))
    if vm_id is not None:
        report.record("vm_id", None if str(document.get("vmId", "")).lower() == str(vm_id).lower() else
                      "the document is for vmId %s, not the expected %s"
                      % (excerpt(str(document.get("vmId")), 60), excerpt(str(vm_id), 60)))
    return document


def verifier_from_options(options: dict) -> AttestationVerifier:
    """A verifier set up from the module/filter options ``ca_path``, ``intermediates_path``, ``aia_fetch``,
    ``aia_cache_dir`` and ``aia_allowed_hosts``."""
    fetch = boolean(options.get("aia_fetch", True), strict=False)
    cache_dir = options.get("aia_cache_dir") or _aia_fetch.DEFAULT_CACHE_DIR
    try:
        fetcher = _aia_fetch.AiaFetcher(enabled=bool(fetch), cache_dir=cache_dir,
                                        allowed_hosts=options.get("aia_allowed_hosts"))
    except ValueError as exc:
        raise AttestationUsageError(str(exc)) from exc
    return AttestationVerifier(load_roots(options.get("ca_path")), fetcher,
                               load_intermediates(options.get("intermediates_path")))
