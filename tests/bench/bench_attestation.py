"""Benchmark: refusing a hostile attested document against verifying a good one (issue 18, "refused quickly").

Each round verifies, in rotating order, a good document of the emulator's test PKI and each hostile
document of tests/unit/plugins/plugin_utils/test_attestation_hostile.py (no network: AIA off). Prints
the medians and, per hostile document, median(hostile) / median(good): goal at most 2.0 (a refusal
costs at most what two verifications of a good document cost; measured 3 Dec 2026, 30 rounds: good
1.22 ms, thousands of certificates 1.41, 300 AIA URLs 1.15, 40,000 '[' 1.10, issuer loop 0.91,
nine certificates 0.32, unknown digest 0.28, 10,000-deep ASN.1 0.18).

    .cache/venv/bin/python tests/bench/bench_attestation.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "netguard")]

# pylint: disable=wrong-import-position
import imds_netguard  # noqa: E402
from helpers import collection_root  # noqa: E402

sys.path.insert(0, str(collection_root.importable_root()))

from ansible_collections.imds.azure.plugins.plugin_utils import _attestation  # noqa: E402
from azure_imds_emulator.pki import EmulatorPki  # noqa: E402
from azure_imds_emulator.server import ImdsEmulator  # noqa: E402
from helpers import hostile_pkcs7 as hostile  # noqa: E402

NONCE = "20260401123456"


def documents(pki: EmulatorPki) -> dict:
    content = json.dumps(ImdsEmulator().attested_content("2025-04-07", NONCE), separators=(",", ":")).encode()
    good = pki.sign(content)
    signer, intermediate = hostile.certificates_of(good)
    tiny = hostile.tlv(0x30, hostile.tlv(0x30, b"") + hostile.tlv(0x02, b"\x01"))
    room = (_attestation.MAX_SIGNATURE_CHARS * 3 // 4) - len(base64.b64decode(hostile.rebuild(good, signer))) - 16
    nested = b""
    for _level in range(10000):
        nested = hostile.tlv(0x30, nested)
    key_a, key_b, key_leaf = hostile.new_key(), hostile.new_key(), hostile.new_key()
    cert_a = hostile.certificate("Loop CA A", key_a, "Loop CA B", key_b, ca=True)
    cert_b = hostile.certificate("Loop CA B", key_b, "Loop CA A", key_a, ca=True)
    leaf = hostile.certificate("metadata.azure.com", key_leaf, "Loop CA A", key_a, ca=False,
                               dns_names=["metadata.azure.com"])
    many_urls = hostile.certificate("metadata.azure.com", key_leaf, "Loop CA A", key_a, ca=False,
                                    aia_urls=["http://www.microsoft.com/%d.crt" % n for n in range(300)],
                                    dns_names=["metadata.azure.com"])
    return {
        "good": good,
        "thousands_of_certificates": hostile.rebuild(good, signer + tiny * (room // len(tiny))),
        "nine_certificates": hostile.rebuild(good, signer + intermediate * 8),
        "deep_asn1": hostile.rebuild(good, signer + nested),
        "issuer_loop": hostile.sign(content, leaf, key_leaf, [cert_a, cert_b]),
        "300_aia_urls": hostile.sign(content, many_urls, key_leaf),
        "unknown_digest": hostile.rebuild(good, signer_info=hostile.signer_info_with(good, digest_oid="1.2.3.4")),
        "40000_brackets": pki.sign(b"[" * 40000),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    rounds = parser.parse_args().rounds
    imds_netguard.install()
    pki = EmulatorPki()
    docs = documents(pki)
    verifier = _attestation.AttestationVerifier([pki.root_cert])
    times = {name: [] for name in docs}
    names = list(docs)
    for round_number in range(rounds):
        order = names[round_number % len(names):] + names[:round_number % len(names)]
        for name in order:
            start = time.perf_counter()
            report = verifier.verify(docs[name], nonce=NONCE)
            times[name].append(time.perf_counter() - start)
            assert report["verified"] is (name == "good"), (name, report["failures"])
    good = statistics.median(times["good"])
    print("median verify of a good document: %.2f ms" % (good * 1000))
    for name in names[1:]:
        median = statistics.median(times[name])
        print("%-28s %8.2f ms   ratio %.2f" % (name, median * 1000, median / good))


if __name__ == "__main__":
    main()
