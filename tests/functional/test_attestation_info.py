"""imds.azure.attestation_info (fetched on the host, verified on the controller) and the
imds.azure.verify_attestation filter, through ansible-playbook against the emulator's test PKI."""

from __future__ import annotations

import json

from azure_imds_emulator.pki import EmulatorPki
from helpers import paths
from helpers.ansible_runner import module_play, run_playbook


def run(tmp_path, emulator, options: str = "", ignore_errors: bool = False):
    tmp_path.mkdir(parents=True, exist_ok=True)
    root = tmp_path / "root.pem"
    emulator.pki.write_root(str(root))
    options = "ca_path: %s\naia_cache_dir: %s\n%s" % (root, tmp_path / "aia", options)
    play = module_play("imds.azure.attestation_info", options, name="attest", ignore_errors=ignore_errors)
    return run_playbook(tmp_path, play, env={"AZURE_IMDS_ENDPOINT": emulator.url})


def test_verified_with_a_nonce_made_on_the_controller(tmp_path, emulator):
    result = run(tmp_path, emulator)
    assert result.rc == 0, result.output
    report = result.task("attest")["result"]
    assert report["verified"] and set(report["checks"].values()) == {True}
    nonce = report["nonce"]
    assert len(nonce) == 32 and nonce.isdigit() and report["document"]["nonce"] == nonce
    sent = [r for r in emulator.requests if r.path == "/metadata/attested/document"]
    assert dict(sent[0].query)["nonce"] == nonce
    assert report["vm_id"] == emulator.profile["compute"]["vmId"] == report["document"]["vmId"]
    assert report["document"]["subscriptionId"] and report["document"]["timeStamp"]["createdOn"].endswith("+00:00")
    assert report["signer"]["subject"].startswith("CN=metadata.azure.com")
    second = run(tmp_path / "again", emulator)
    assert second.task("attest")["result"]["nonce"] != nonce  # fresh each run


def test_cached_document_fails_the_nonce_check(tmp_path, emulator):
    emulator.cached_attested_nonce = "20260101-000000"
    result = run(tmp_path, emulator, ignore_errors=True)
    task = result.task("attest")
    assert task["status"] == "failed" and "nonce" in task["result"]["msg"]
    assert task["result"]["checks"]["nonce"] is False and task["result"]["checks"]["signature"] is True


def test_report_instead_of_failing(tmp_path, emulator):
    emulator.pki = EmulatorPki(leaf_common_name="imds.attacker.example")
    result = run(tmp_path, emulator, "fail_on_invalid: false")
    assert result.rc == 0, result.output
    report = result.task("attest")["result"]
    assert not report["verified"] and report["checks"]["signer_name"] is False
    assert len(report["failures"]) == 1 and "imds.attacker.example" in report["failures"][0]


def test_audit_an_expired_document(tmp_path, emulator):
    result = run(tmp_path, emulator, "valid_at: '2099-01-01T00:00:00Z'\nfail_on_invalid: false")
    checks = result.task("attest")["result"]["checks"]
    assert checks["expiry"] is False and checks["chain"] is False  # the test certificates expired as well


def test_filter_on_a_posted_document(tmp_path, emulator):
    """A document fetched with metadata_info (as a VM would post it) verified by the filter."""
    root = tmp_path / "root.pem"
    emulator.pki.write_root(str(root))
    field = json.loads((paths.FIELD_SAMPLES / "subman-attested-westeurope.json").read_text())
    playbook = """
- hosts: all
  gather_facts: false
  vars:
    production: %s
  tasks:
    - name: fetch
      imds.azure.metadata_info:
        path: attested/document
        query: {nonce: "4242"}
      register: posted
    - name: verify
      ansible.builtin.set_fact:
        good: "{{ posted.data | imds.azure.verify_attestation(nonce='4242', ca_path='%s') }}"
        replayed: "{{ posted.data | imds.azure.verify_attestation(nonce='4343', ca_path='%s') }}"
        production_audit: "{{ production | imds.azure.verify_attestation(nonce='20210104-195534',
                              valid_at='2021-01-04T14:00:00Z') }}"
    - name: report
      ansible.builtin.debug:
        msg:
          good: "{{ good.verified }}"
          replayed: "{{ replayed.checks.nonce }}"
          production: "{{ production_audit.checks }}"
    - name: bad option
      ansible.builtin.debug:
        msg: "{{ posted.data | imds.azure.verify_attestation(valid_at='last week') }}"
      ignore_errors: true
""" % (json.dumps(field), root, root)
    result = run_playbook(tmp_path, playbook, env={"AZURE_IMDS_ENDPOINT": emulator.url})
    assert result.rc == 0, result.output
    msg = result.task("report")["result"]["msg"]
    assert msg["good"] is True and msg["replayed"] is False
    assert msg["production"]["signature"] is True and msg["production"]["signer_name"] is True
    assert msg["production"]["chain"] is False  # offline: no intermediate (see the unit tests)
    bad = result.task("bad option")
    assert bad["status"] == "failed" and "valid_at must be an ISO 8601" in bad["result"]["msg"]


def test_expected_vm_id_catches_a_relayed_document(tmp_path, emulator):
    """Issue 21: the VM's own vmId comes from the same VM; only a vmId from a trusted source exposes a relay."""
    own = emulator.profile["compute"]["vmId"]
    relayed = run(tmp_path / "relayed", emulator, "expected_vm_id: 00000000-0000-0000-0000-0000000000aa",
                  ignore_errors=True).task("attest")
    assert relayed["status"] == "failed" and relayed["result"]["checks"]["vm_id"] is False
    assert "not the expected 00000000-0000-0000-0000-0000000000aa" in relayed["result"]["msg"]
    assert relayed["result"]["vm_id_source"] == "expected_vm_id"
    good = run(tmp_path / "good", emulator, "expected_vm_id: %s" % own).task("attest")["result"]
    assert good["verified"] and good["vm_id_source"] == "expected_vm_id"
    default = run(tmp_path / "default", emulator).task("attest")["result"]
    assert default["vm_id_source"] == "reported by the VM"


def test_intermediates_bundle_offline(tmp_path, emulator):
    """Production-like: the intermediate is not in the document; a local bundle supplies it, no AIA."""
    emulator.pki = EmulatorPki(include_intermediate=False)
    bundle = tmp_path / "intermediates"
    bundle.mkdir(parents=True)
    (bundle / "issuing-ca.pem").write_bytes(emulator.pki.intermediate_pem())
    offline = run(tmp_path / "bundle", emulator, "intermediates_path: %s\naia_fetch: false" % bundle).task("attest")
    assert offline["result"]["verified"], offline["result"]["failures"]
    assert len(offline["result"]["chain"]) == 3
    without = run(tmp_path / "none", emulator, "aia_fetch: false", ignore_errors=True).task("attest")
    assert without["status"] == "failed"
    assert "Missing intermediate" in without["result"]["msg"] and "aia_fetch is off" in without["result"]["msg"]


def test_filter_on_hostile_content_fails_the_check_without_an_error(tmp_path):
    """Issue 21: 40,000 '[' as (validly signed) content raised RecursionError out of the verifier."""
    pki = EmulatorPki()
    posted = {"encoding": "pkcs7", "signature": pki.sign(b"[" * 40000)}
    root = tmp_path / "root.pem"
    pki.write_root(str(root))
    playbook = """
- hosts: all
  gather_facts: false
  vars:
    posted: %s
  tasks:
    - name: verify
      ansible.builtin.debug:
        msg: "{{ posted | imds.azure.verify_attestation(ca_path='%s') }}"
""" % (json.dumps(posted), root)
    result = run_playbook(tmp_path, playbook)
    assert result.rc == 0, result.output
    report = result.task("verify")["result"]["msg"]
    assert report["verified"] is False and report["checks"]["signature"] is True and report["document"] is None
    assert "nests deeper than 16 levels" in report["failures"][0]
