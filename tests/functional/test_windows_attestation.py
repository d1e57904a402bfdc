"""imds.azure.attestation_info on a "Windows" host, side by side with a Linux host, through ansible-playbook.

On both, the nonce is made and the document verified on the controller; on the Windows host the fetching
(attested document, then compute/vmId) also runs on the controller, each attempt made on the host by
win_imds_attempt (its Python double here). Each host has its own emulator, hence its own test PKI and
vmId, and its own nonce: the comparison is of outcomes (verified, the checks, the failures) and of the
requests each emulator saw.
"""

from __future__ import annotations

from azure_imds_emulator.pki import EmulatorPki
from helpers.ansible_runner import run_playbook
from doubles.windows_double import HOSTS, inventory_file, play

ATTESTED = "/metadata/attested/document"


def run_attest(tmp_path, collections: str, emulators: dict, options: str = ""):
    """attestation_info on both hosts, each trusting its own emulator's test root."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    extra = {}
    for host, emulator in emulators.items():
        root = tmp_path / ("root-%s.pem" % host)
        emulator.pki.write_root(str(root))
        extra[host] = {"test_root": str(root)}
    inventory = inventory_file(tmp_path, {host: emulator.url for host, emulator in emulators.items()}, extra=extra)
    options = "ca_path: '{{ test_root }}'\naia_cache_dir: %s\n%s" % (tmp_path / "aia", options)
    return run_playbook(tmp_path, play("imds.azure.attestation_info", options), inventory=inventory,
                        env={"ANSIBLE_COLLECTIONS_PATH": collections}, args=["--forks", "2"])


def reports(run) -> dict:
    return {host: run.task("gather", host) for host in HOSTS}


def requests_seen(emulator) -> list:
    return [(r.method, r.path, r.status) for r in emulator.requests]


def assert_alike(run, emulators: dict) -> dict:
    """Same verdict, checks and failures on both hosts; same requests; the Windows host went the Windows way."""
    linux, windows = (reports(run)[host] for host in HOSTS)
    keys = ("verified", "checks", "failures", "error_type", "status", "attempts")
    assert windows["status"] == linux["status"], run.output
    assert {k: windows["result"].get(k) for k in keys} == {k: linux["result"].get(k) for k in keys}, run.output
    assert requests_seen(emulators["win1"]) == requests_seen(emulators["lin1"])
    assert all(r.headers.get("connection") == "close" for r in emulators["win1"].requests)
    assert not any(r.headers.get("connection") == "close" for r in emulators["lin1"].requests)
    return windows


def test_verified_alike_with_a_controller_nonce(tmp_path, windows_collections, pair):
    emulators = pair(dict(status=429, count=1, retry_after="0", path=ATTESTED))
    run = run_attest(tmp_path, windows_collections, emulators)
    assert run.rc == 0, run.output
    windows = assert_alike(run, emulators)["result"]
    assert windows["verified"] and set(windows["checks"].values()) == {True}
    nonce = windows["nonce"]
    assert len(nonce) == 32 and nonce.isdigit() and windows["document"]["nonce"] == nonce
    sent = emulators["win1"].requests_to(ATTESTED)
    assert dict(sent[-1].query)["nonce"] == nonce
    assert windows["vm_id"] == emulators["win1"].profile["compute"]["vmId"] == windows["document"]["vmId"]
    assert [(path, status) for _m, path, status in requests_seen(emulators["win1"])] == [
        (ATTESTED, 429), (ATTESTED, 200), ("/metadata/instance/compute/vmId", 200)]


def test_cached_document_fails_the_nonce_check_alike(tmp_path, windows_collections, pair):
    emulators = pair()
    for emulator in emulators.values():
        emulator.cached_attested_nonce = "20260101-000000"
    run = run_attest(tmp_path, windows_collections, emulators)
    assert run.rc == 2, run.output
    windows = assert_alike(run, emulators)
    assert windows["status"] == "failed" and "nonce" in windows["result"]["msg"]
    assert windows["result"]["checks"]["nonce"] is False and windows["result"]["checks"]["signature"] is True


def test_report_instead_of_failing_alike(tmp_path, windows_collections, pair):
    emulators = pair()
    for emulator in emulators.values():
        emulator.pki = EmulatorPki(leaf_common_name="imds.attacker.example")
    run = run_attest(tmp_path, windows_collections, emulators, "fail_on_invalid: false")
    assert run.rc == 0, run.output
    windows = assert_alike(run, emulators)["result"]
    assert not windows["verified"] and windows["checks"]["signer_name"] is False
    assert len(windows["failures"]) == 1 and "imds.attacker.example" in windows["failures"][0]


def test_imds_failure_alike(tmp_path, windows_collections, pair):
    emulators = pair(dict(status=404, path=ATTESTED))
    run = run_attest(tmp_path, windows_collections, emulators)
    assert run.rc == 2, run.output
    windows = assert_alike(run, emulators)
    assert windows["status"] == "failed" and windows["result"]["error_type"] == "ImdsNotFoundError"
    assert len(emulators["win1"].requests) == 1
