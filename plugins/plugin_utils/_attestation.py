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
``timeStamp.expiresOn`` has not passed, ``vmId`` is the VM's own.

Every check that fails adds one message; nothing here raises for an invalid document, only for
wrong use (``AttestationUsageError``).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import os
import re
import secrets
import ssl
import warnings
from pathlib import Path

from ansible.module_utils.parsing.convert_bool import boolean
try:
    from asn1crypto import cms
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.x509 import verification
    from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
except ImportError as exc:  # reported by _attestation_loader, which names what to install
    LIBRARY_IMPORT_ERROR = exc  # type: ImportError | None
else:
    LIBRARY_IMPORT_ERROR = None

# Signer names IMDS uses: metadata.azure.com and the sovereign clouds, or a subdomain (IMDS.md).
SIGNER_DOMAINS = ("metadata.azure.com", "metadata.azure.us", "metadata.azure.cn", "metadata.microsoftazure.de")
TIMESTAMP_FORMAT = "%m/%d/%y %H:%M:%S %z"  # "01/04/21 13:55:34 -0000"
NONCE_DIGITS = 32  # IMDS takes up to 32 alphanumerics; digits are alphanumerics on every IMDS version
MAX_SIGNATURE_CHARS = 64 * 1024
MAX_CHAIN_DEPTH = 4

# Digest algorithms by name, and by the signature-algorithm OIDs IMDS puts in digestAlgorithm.
_DIGESTS = {
    "sha1": "SHA1", "sha256": "SHA256", "sha384": "SHA384", "sha512": "SHA512",
    "1.2.840.113549.1.1.5": "SHA1", "1.2.840.113549.1.1.11": "SHA256",
    "1.2.840.113549.1.1.12": "SHA384", "1.2.840.113549.1.1.13": "SHA512",
    "sha1_rsa": "SHA1", "sha256_rsa": "SHA256", "sha384_rsa": "SHA384", "sha512_rsa": "SHA512",
}

# AIA downloads: the certificate of an issuing CA is a few KiB.
AIA_TIMEOUT = 10.0
AIA_MAX_BYTES = 64 * 1024
AIA_MAX_REDIRECTS = 3
DEFAULT_AIA_CACHE_DIR = "~/.cache/imds.azure/aia"


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
        files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
        for file in files:
            try:
                roots.extend(_certificates_in(file.read_bytes()))
            except OSError:
                continue
        if roots and not ca_path:
            break  # the system bundle is enough; its hashed directory holds the same roots
    if not roots:
        where = ca_path or "the system trust store"
        raise AttestationUsageError("No trusted root certificates found in %s; set ca_path." % where)
    return roots


# -- AIA ----------------------------------------------------------------------------------------

class AiaFetcher:
    """Downloads issuing-CA certificates named by Authority Information Access, with an on-disk cache.

    Plain ``requests`` behaviour applies to proxies: this is ordinary controller traffic to the
    certificate's publisher, so HTTP(S)_PROXY and NO_PROXY of the controller are honoured (unlike
    IMDS requests, which never use a proxy).
    """

    def __init__(self, enabled: bool = True, cache_dir: str | None = None, timeout: float = AIA_TIMEOUT,
                 max_bytes: int = AIA_MAX_BYTES) -> None:
        self.enabled = enabled
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else None
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.notes = []  # type: list[str]

    def issuer_of(self, certificate: x509.Certificate) -> x509.Certificate | None:
        for url in _ca_issuer_urls(certificate):
            data = self._cached(url) if self.cache_dir else None
            if data is None and self.enabled:
                data = self._download(url)
                if data is not None and self.cache_dir:
                    self._store(url, data)
            for candidate in _certificates_in(data or b""):
                if candidate.subject == certificate.issuer:
                    return candidate
        return None

    def _cache_file(self, url: str) -> Path:
        return self.cache_dir / (hashlib.sha256(url.encode("utf-8")).hexdigest() + ".crt")

    def _cached(self, url: str) -> bytes | None:
        try:
            return self._cache_file(url).read_bytes()
        except OSError:
            return None

    def _store(self, url: str, data: bytes) -> None:
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            temporary = self._cache_file(url).with_suffix(".tmp%d" % os.getpid())
            temporary.write_bytes(data)
            temporary.replace(self._cache_file(url))
        except OSError as exc:
            self.notes.append("could not cache %s: %s" % (url, exc.strerror or exc))

    def _download(self, url: str) -> bytes | None:
        import requests  # pylint: disable=import-outside-toplevel  # only when a download is needed

        try:
            with requests.Session() as session:
                session.max_redirects = AIA_MAX_REDIRECTS
                with session.get(url, timeout=self.timeout, stream=True) as answer:
                    if answer.status_code != 200:
                        self.notes.append("AIA %s answered %d" % (url, answer.status_code))
                        return None
                    data = b""
                    for chunk in answer.iter_content(8192):
                        data += chunk
                        if len(data) > self.max_bytes:
                            self.notes.append("AIA %s sent more than %d bytes; ignored" % (url, self.max_bytes))
                            return None
                    return data
        except requests.RequestException as exc:
            self.notes.append("AIA %s could not be fetched (%s)" % (url, type(exc).__name__))
            return None


def _ca_issuer_urls(certificate: x509.Certificate) -> list:
    try:
        access = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return []
    return [d.access_location.value for d in access
            if d.access_method == AuthorityInformationAccessOID.CA_ISSUERS
            and isinstance(d.access_location, x509.UniformResourceIdentifier)
            and d.access_location.value.lower().startswith(("http://", "https://"))]


# -- PKCS#7 -------------------------------------------------------------------------------------

class _SignedData:
    """What the verifier needs from the SignedData: content, certificates, one signer's fields."""

    def __init__(self, der: bytes) -> None:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise ValueError("the PKCS#7 content type is %s, not signed data" % info["content_type"].native)
        signed = info["content"]
        encapsulated = signed["encap_content_info"]
        if encapsulated["content_type"].native != "data" or encapsulated["content"].native is None:
            raise ValueError("the SignedData does not carry its content")
        self.content = encapsulated["content"].native
        self.certificates = [x509.load_der_x509_certificate(c.chosen.dump()) for c in signed["certificates"]
                             if c.name == "certificate"]
        signers = list(signed["signer_infos"])
        if len(signers) != 1:
            raise ValueError("the SignedData has %d signers, IMDS uses exactly one" % len(signers))
        signer = signers[0]
        if signer["sid"].name != "issuer_and_serial_number":
            raise ValueError("the signer is not named by issuer and serial number")
        self.signer_issuer = signer["sid"].chosen["issuer"].dump()
        self.signer_serial = signer["sid"].chosen["serial_number"].native
        digest_name = signer["digest_algorithm"]["algorithm"].native
        if digest_name not in _DIGESTS:
            raise ValueError("unsupported digest algorithm %s" % digest_name)
        self.digest = getattr(hashes, _DIGESTS[digest_name])()
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
    key = certificate.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signed.signature, data, padding.PKCS1v15(), signed.digest)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signed.signature, data, ec.ECDSA(signed.digest))
        else:
            return "the signer's key type %s is not supported" % type(key).__name__
    except InvalidSignature:
        return "the signature does not match the content (content or signature was changed)"
    except UnsupportedAlgorithm as exc:
        return "the signature algorithm is not supported (%s)" % exc
    return None


# -- the verifier ----------------------------------------------------------------------------------

def _dns_names(certificate: x509.Certificate) -> list:
    try:
        return certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName)
    except x509.ExtensionNotFound:
        return []


def _common_names(certificate: x509.Certificate) -> list:
    return [a.value for a in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME) if isinstance(a.value, str)]


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


def decode_document(content: bytes) -> dict:
    """The signed JSON with ``timeStamp`` values as ISO 8601 (null if unreadable); IMDS's own text in ``timeStampRaw``."""
    document = json.loads(content.decode("utf-8"))
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
        self.failures = []  # type: list[str]
        self.notes = []  # type: list[str]

    def record(self, check: str, problem: str | None) -> None:
        self.checks[check] = problem is None
        if problem:
            self.failures.append(problem)


class AttestationVerifier:
    """Verify attested documents against ``roots`` (x509 certificates), fetching intermediates with ``aia``."""

    def __init__(self, roots: list, aia: AiaFetcher | None = None) -> None:
        self.roots = roots
        self.aia = aia or AiaFetcher(enabled=False)

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
        result["chain"] = self._check_chain(signer, signed.certificates, moment, report)
        result["document"] = self._check_content(signed.content, nonce, vm_id, moment, report)
        report.notes.extend(self.aia.notes)
        result["verified"] = not report.failures and report.checks["signature"] is True
        return result

    @staticmethod
    def _parse(signature, report: Report) -> _SignedData | None:
        if isinstance(signature, dict):
            if signature.get("encoding", "pkcs7") != "pkcs7":
                report.record("signature", "the document's encoding is %r, not pkcs7" % signature.get("encoding"))
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
        except (ValueError, TypeError, KeyError) as exc:
            report.record("signature", "the signature is not a PKCS#7 SignedData IMDS would send: %s"
                          % str(exc).splitlines()[0][:200])
            return None

    @staticmethod
    def _signer_name_problem(signer: x509.Certificate) -> str | None:
        names = _dns_names(signer) or _common_names(signer)
        if any(signer_name_allowed(name) for name in names):
            return None
        return ("the signer certificate is for %s, not metadata.azure.com or a sovereign-cloud metadata name"
                % (", ".join(names) or "no name"))

    def _check_chain(self, signer: x509.Certificate, bundled: list, moment: datetime.datetime,
                     report: Report) -> list:
        intermediates = [c for c in bundled if c != signer]
        root_subjects = {root.subject for root in self.roots}
        current = signer
        for _level in range(MAX_CHAIN_DEPTH):
            known = {c.subject for c in intermediates} | root_subjects
            if current.issuer in known or current.issuer == current.subject:
                break
            issuer = self.aia.issuer_of(current)
            if issuer is None:
                break
            intermediates.append(issuer)
            current = issuer
        builder = (verification.PolicyBuilder().store(verification.Store(self.roots)).time(moment)
                   .max_chain_depth(MAX_CHAIN_DEPTH)
                   # We check the signer's name ourselves; its key usages are a TLS server's, not a signer's.
                   .extension_policies(ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
                                       ee_policy=verification.ExtensionPolicy.permit_all()))
        try:
            chain = builder.build_client_verifier().verify(signer, intermediates).chain
        except verification.VerificationError as exc:
            report.record("chain", "the signer certificate does not chain to a trusted root at %s: %s%s"
                          % (moment.isoformat(), str(exc).split(" (encountered", maxsplit=1)[0],
                             self._missing_issuer_hint([signer] + intermediates, root_subjects)))
            return []
        report.record("chain", None)
        return [certificate.subject.rfc4514_string() for certificate in chain]

    @staticmethod
    def _missing_issuer_hint(intermediates: list, root_subjects: set) -> str:
        """Name the certificate nobody could provide, which is the usual reason a chain fails."""
        known = {c.subject for c in intermediates} | root_subjects
        for certificate in intermediates:
            if certificate.issuer not in known and certificate.issuer != certificate.subject:
                return (". The issuer %s was neither in the document nor fetched from the certificate's AIA URL; "
                        "allow aia_fetch or add it to ca_path" % certificate.issuer.rfc4514_string())
        return ""

    @staticmethod
    def _check_content(content: bytes, nonce: str | None, vm_id: str | None, moment: datetime.datetime,
                       report: Report) -> dict | None:
        try:
            document = decode_document(content)
        except (ValueError, UnicodeDecodeError) as exc:
            report.record("expiry", "the signed content is not the JSON document IMDS signs (%s)" % exc)
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
                          "the document is for vmId %s, not this VM's %s" % (document.get("vmId"), vm_id))
        return document


def verifier_from_options(options: dict) -> AttestationVerifier:
    """A verifier set up from the module/filter options ``ca_path``, ``aia_fetch``, ``aia_cache_dir``."""
    fetch = boolean(options.get("aia_fetch", True), strict=False)
    cache_dir = options.get("aia_cache_dir", DEFAULT_AIA_CACHE_DIR)
    return AttestationVerifier(load_roots(options.get("ca_path")), AiaFetcher(enabled=bool(fetch), cache_dir=cache_dir))
