"""imds.azure.metadata_facts through ansible-playbook, against the emulator over HTTP on loopback."""

from __future__ import annotations

import copy
import json

import pytest
from azure_imds_emulator.faults import Fault
from azure_imds_emulator.instance import DEFAULT_PROFILE
from helpers import paths
from helpers.ansible_runner import PROXY_VARIABLES, module_play, run_playbook
from helpers.ports import free_port

AFTER = """    - name: after
      ansible.builtin.debug:
        var: ansible_facts.azure_imds
"""


def gather(tmp_path, emulator, options: str = "", args: list | None = None, env: dict | None = None):
    run_env = {"AZURE_IMDS_ENDPOINT": emulator.url} if emulator is not None else {}
    run_env.update(env or {})
    playbook = module_play("imds.azure.metadata_facts", options) + AFTER
    return run_playbook(tmp_path, playbook, env=run_env, args=args)


def failure_of(run) -> dict:
    """The result of the failed gather task (the play must have failed because of it)."""
    assert run.rc == 2, run.output
    assert run.task("gather")["status"] == "failed"
    return run.task("gather")["result"]


def expected_fact(document: dict, include_user_data: bool = False) -> tuple:
    compute = copy.deepcopy(document.get("compute", {}))
    if not include_user_data:
        compute.pop("userData", None)
        compute.pop("customData", None)
    return compute, document.get("network", {})


@pytest.mark.quick
def test_facts_from_the_seed_vm(tmp_path, emulator):
    run = gather(tmp_path, emulator)
    assert run.rc == 0, run.output
    result = run.task("gather")["result"]
    assert result["changed"] is False
    fact = result["ansible_facts"]["azure_imds"]
    compute, network = expected_fact(emulator.profile)
    assert fact["compute"] == compute
    assert fact["network"] == network
    assert "userData" not in fact["compute"]
    assert fact["tags"] == {"baz": "bash", "foo": "bar"}
    assert fact["api_version"] == "2025-04-07"
    # The fact is visible to later tasks under ansible_facts.
    assert run.task("after")["result"]["ansible_facts.azure_imds"]["compute"]["name"] == "examplevmname"
    # ONE request per run.
    assert len(emulator.requests) == 1
    assert emulator.requests[0].path == "/metadata/instance"


def test_user_data_only_on_request(tmp_path, emulator):
    run = gather(tmp_path, emulator, "include_user_data: true")
    assert run.rc == 0, run.output
    # User data is secret: the task's result is hidden from output, the fact is set all the same.
    assert "censored" in json.dumps(run.task("gather")["result"])
    assert run.task("after")["result"]["ansible_facts.azure_imds"]["compute"]["userData"] == "Zm9vYmFy"


def test_custom_data_is_user_data(tmp_path, make_emulator):
    """customData is user data like userData: out of the fact (and of the play's output) unless asked for,
    and then hidden from output as userData is, while the fact holds it."""
    document = json.loads(DEFAULT_PROFILE.read_text())
    document["compute"]["customData"] = "Y3VzdG9tLWJvb3RzdHJhcC1rZXk="  # base64 of custom-bootstrap-key
    emulator = make_emulator(profile=document)
    run = gather(tmp_path, emulator)
    assert run.rc == 0, run.output
    fact = run.task("gather")["result"]["ansible_facts"]["azure_imds"]
    assert "customData" not in fact["compute"] and "userData" not in fact["compute"]
    assert fact["compute"] == expected_fact(document)[0]
    assert "Y3VzdG9tLWJvb3RzdHJhcC1rZXk=" not in run.output
    asked = gather(tmp_path, emulator, "include_user_data: true")
    assert asked.rc == 0, asked.output
    assert "censored" in json.dumps(asked.task("gather")["result"])
    kept = asked.task("after")["result"]["ansible_facts.azure_imds"]["compute"]
    assert (kept["customData"], kept["userData"]) == ("Y3VzdG9tLWJvb3RzdHJhcC1rZXk=", "Zm9vYmFy")


def test_check_mode_gathers_the_same_facts(tmp_path, emulator):
    run = gather(tmp_path, emulator, args=["--check"])
    assert run.rc == 0, run.output
    fact = run.task("gather")["result"]["ansible_facts"]["azure_imds"]
    assert fact["compute"] == expected_fact(emulator.profile)[0]
    assert len(emulator.requests) == 1


def test_old_api_version_returns_only_its_fields(tmp_path, emulator):
    run = gather(tmp_path, emulator, "api_version: '2019-06-01'")
    assert run.rc == 0, run.output
    fact = run.task("gather")["result"]["ansible_facts"]["azure_imds"]
    assert fact["api_version"] == "2019-06-01"
    for newer in ("osProfile", "securityProfile", "licenseType", "userData", "isHostCompatibilityLayerVm"):
        assert newer not in fact["compute"]
    assert fact["compute"]["storageProfile"]["osDisk"]["name"] == "exampleosdiskname"
    assert fact["compute"]["azEnvironment"] == "AZUREPUBLICCLOUD"


def test_endpoint_option_beats_the_environment(tmp_path, emulator, make_emulator):
    other = make_emulator()
    run = gather(tmp_path, emulator, "endpoint: %s" % other.url)
    assert run.rc == 0, run.output
    assert len(other.requests) == 1 and not emulator.requests


def test_dead_proxies_in_the_environment_are_bypassed(tmp_path, emulator):
    proxies = {name: "http://127.0.0.1:9" for name in PROXY_VARIABLES}
    run = gather(tmp_path, emulator, env=proxies)
    assert run.rc == 0, run.output
    assert len(emulator.requests) == 1


# -- every real document, key for key --------------------------------------------------------

def full_documents() -> dict:
    """Every full /metadata/instance document in the shared samples, plus halves joined into one."""
    documents = {}
    for folder in (paths.SAMPLES, paths.FIELD_SAMPLES):
        for path in sorted(folder.glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and "compute" in data and "network" in data:
                documents[path.stem] = data

    def load(folder, name):
        return json.loads((folder / name).read_text(encoding="utf-8"))

    documents["docs-compute-2025+docs-network-ipv6"] = {
        "compute": load(paths.SAMPLES, "docs-compute-linux-2025-04-07.json"),
        "network": load(paths.SAMPLES, "docs-network-ipv6.json")}
    documents["beats-aks-compute+cloudinit-secondary-ipv4s"] = {
        "compute": load(paths.FIELD_SAMPLES, "beats-aks-vmss-compute.json"),
        "network": load(paths.FIELD_SAMPLES, "cloudinit-network-ipv6-secondary-ipv4s.json")}
    documents["seed-example-vm"] = json.loads(DEFAULT_PROFILE.read_text())
    return documents


def test_every_sample_document_comes_back_key_for_key(tmp_path, make_emulator):
    documents = full_documents()
    assert len(documents) >= 8
    emulators = {name: make_emulator(profile=doc) for name, doc in documents.items()}
    inventory = tmp_path / "hosts.yml"
    hosts = {"vm%d" % i: {"ansible_connection": "local", "imds_endpoint": emulators[name].url, "sample": name}
             for i, name in enumerate(documents)}
    inventory.write_text(json.dumps({"all": {"hosts": hosts}}))
    playbook = module_play("imds.azure.metadata_facts",
                           'endpoint: "{{ imds_endpoint }}"\ninclude_user_data: true') + AFTER
    run = run_playbook(tmp_path, playbook, inventory=str(inventory), args=["--forks", "10"])
    assert run.rc == 0, run.output
    for host, spec in hosts.items():
        document = documents[spec["sample"]]
        fact = run.task("after", host)["result"]["ansible_facts.azure_imds"]
        assert fact["compute"] == document["compute"], spec["sample"]
        assert fact["network"] == document["network"], spec["sample"]
        assert json.dumps(fact["compute"], sort_keys=True) == json.dumps(document["compute"], sort_keys=True)
        assert len(emulators[spec["sample"]].requests) == 1


def test_unicode_and_colon_tags_survive(tmp_path, make_emulator):
    document = json.loads((paths.FIELD_SAMPLES / "wala-unicode.json").read_text(encoding="utf-8"))
    document["compute"]["tags"] = "Ort:Zürich;version:aks:1.25.6;空:値"
    run = gather(tmp_path, make_emulator(profile=document))
    assert run.rc == 0, run.output
    fact = run.task("gather")["result"]["ansible_facts"]["azure_imds"]
    assert fact["compute"]["location"] == "wéstus"
    assert fact["tags"] == {"Ort": "Zürich", "version": "aks:1.25.6", "空": "値"}


def test_hostile_values_are_not_templated(tmp_path, make_emulator):
    marker = tmp_path / "pwned"
    document = json.loads(DEFAULT_PROFILE.read_text())
    hostile = "{{ lookup('pipe', 'touch %s') }}" % marker
    document["compute"]["tags"] = "Role:%s" % hostile
    document["compute"]["tagsList"] = [{"name": "Role", "value": hostile}]  # the seed has tagsList, which wins
    document["compute"]["name"] = hostile
    playbook = module_play("imds.azure.metadata_facts") + """    - name: use
      ansible.builtin.debug:
        msg: "{{ ansible_facts.azure_imds.tags.Role }} / {{ ansible_facts.azure_imds.compute.name }}"
"""
    run = run_playbook(tmp_path, playbook, env={"AZURE_IMDS_ENDPOINT": make_emulator(profile=document).url})
    assert run.rc == 0, run.output
    assert run.task("use")["result"]["msg"] == "%s / %s" % (hostile, hostile)
    assert not marker.exists()


# -- faults, end to end -----------------------------------------------------------------------

def test_gone_with_retry_after_then_success(tmp_path, emulator):
    emulator.add_fault(Fault(status=410, count=2, retry_after="1"))
    run = gather(tmp_path, emulator)
    assert run.rc == 0, run.output
    assert [r.status for r in emulator.requests] == [410, 410, 200]


def test_429_burst_then_success(tmp_path, emulator):
    emulator.add_fault(Fault(status=429, count=3, retry_after="0"))
    run = gather(tmp_path, emulator)
    assert run.rc == 0, run.output
    assert [r.status for r in emulator.requests] == [429, 429, 429, 200]


@pytest.mark.quick
def test_500_then_200(tmp_path, emulator):
    emulator.add_fault("status=500,count=1")
    run = gather(tmp_path, emulator)
    assert run.rc == 0, run.output
    assert [r.status for r in emulator.requests] == [500, 200]


@pytest.mark.parametrize("fault, error_type, words", [
    ("status=400", "ImdsBadRequestError", "invalid (400"),
    ("status=404", "ImdsNotFoundError", "404"),
    ("status=405", "ImdsMethodNotAllowedError", "405"),
    ("kind=redirect", "ImdsRedirectError", "never redirects"),
    ("kind=html", "ImdsBadResponseError", "got HTML"),
    ("kind=malformed", "ImdsBadResponseError", "not valid JSON"),
    ("kind=oversize", "ImdsResponseTooLargeError", "1048576-byte limit"),
])
def test_failures_are_clear_and_not_retried(tmp_path, emulator, fault, error_type, words):
    emulator.add_fault(fault)
    result = failure_of(gather(tmp_path, emulator))
    assert result["error_type"] == error_type
    assert words in result["msg"]
    assert result["attempts"] == 1 and len(emulator.requests) == 1


def test_truncated_body_fails_after_retries(tmp_path, emulator):
    emulator.add_fault("kind=truncate")
    result = failure_of(gather(tmp_path, emulator, "max_retry_time: 2"))
    assert result["error_type"] == "ImdsConnectionResetError"
    assert "truncated" in result["msg"]
    # Retried (the first random wait, at most 1 s, always fits in 2 s), as often as the jittered waits allow.
    assert 2 <= result["attempts"] == len(emulator.requests) <= 5


def test_server_that_never_answers(tmp_path, emulator):
    emulator.add_fault("kind=hang")
    result = failure_of(gather(tmp_path, emulator, "timeout: 1\nmax_retry_time: 0"))
    assert result["error_type"] == "ImdsTimeoutError"
    assert "did not answer within 1.0 s" in result["msg"]


def test_nothing_listening(tmp_path):
    run = run_playbook(tmp_path, module_play("imds.azure.metadata_facts", "max_retry_time: 0"),
                       env={"AZURE_IMDS_ENDPOINT": "http://127.0.0.1:%d" % free_port()})
    result = failure_of(run)
    assert result["error_type"] == "ImdsUnreachableError"
    assert "Is this an Azure VM?" in result["msg"] and "imds.azure.imds_route" in result["msg"]


def test_nothing_listening_fails_after_one_quick_retry(tmp_path):
    """With the default options, a refused connection is tried twice, not five times (tests/bench/bench_unreachable.py
    measures the time)."""
    run = run_playbook(tmp_path, module_play("imds.azure.metadata_facts"),
                       env={"AZURE_IMDS_ENDPOINT": "http://127.0.0.1:%d" % free_port()})
    result = failure_of(run)
    assert result["error_type"] == "ImdsUnreachableError" and result["attempts"] == 2
    assert "(gave up after 2 attempts)" in result["msg"]


def test_bad_option_values_fail_cleanly(tmp_path, emulator):
    run = gather(tmp_path, emulator, "endpoint: 'ftp://169.254.169.254'")
    assert run.rc == 2, run.output
    assert "Invalid IMDS endpoint" in run.task("gather")["result"]["msg"]
    run = gather(tmp_path, emulator, "timeout: -1")
    assert run.rc == 2, run.output
    assert run.task("gather")["result"]["msg"] == "The timeout option must be a finite number of seconds greater than 0, got -1.0."
    assert not emulator.requests
