"""imds.azure.metadata_info through ansible-playbook against the emulator."""

from __future__ import annotations

import base64
import json
import subprocess

import pytest
from azure_imds_emulator.faults import Fault
from helpers.ansible_runner import run_command, run_playbook

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
{tasks}
"""


def run_tasks(tmp_path, emulator, tasks: str, args: list | None = None):
    return run_playbook(tmp_path, PLAYBOOK.format(tasks=tasks), env={"AZURE_IMDS_ENDPOINT": emulator.url}, args=args)


def info_task(name: str, **options) -> str:
    lines = ["    - name: %s" % name, "      imds.azure.metadata_info:"]
    for key, value in options.items():
        lines.append("        %s: %s" % (key, json.dumps(value)))
    lines.append("      ignore_errors: true")
    return "\n".join(lines)


@pytest.mark.quick
def test_versions_leaves_and_objects(tmp_path, emulator):
    tasks = "\n".join([
        info_task("versions", path="versions"),
        info_task("leaf", path="instance/compute/vmId", format="text"),
        info_task("tags", path="/metadata/instance/compute/tags", format="text"),
        info_task("keys", path="instance/compute/osProfile", format="text"),
        info_task("interface", path="instance/network/interface/0"),
        info_task("leaf_as_json", path="instance/network/interface/0/macAddress", format="json"),
        info_task("missing", path="instance/compute/nothingHere"),
    ])
    run = run_tasks(tmp_path, emulator, tasks, args=["--check"])
    assert run.rc == 0, run.output
    versions = run.task("versions")["result"]
    assert "2025-04-07" in versions["data"]["apiVersions"] and versions["api_version"] is None
    assert versions["url"].endswith("/metadata/versions")
    assert run.task("leaf")["result"]["text"] == "02aab8a4-74ef-476e-8182-f6d2ba4166a6"
    assert run.task("tags")["result"]["text"] == "baz:bash;foo:bar"
    keys = ["adminUsername", "computerName", "disablePasswordAuthentication"]
    assert run.task("keys")["result"]["text"].splitlines() == keys
    assert run.task("interface")["result"]["data"]["macAddress"] == "0011AAFFBB22"
    leaf_as_json = run.task("leaf_as_json")
    assert leaf_as_json["status"] == "failed"
    assert "format=text" in leaf_as_json["result"]["msg"] and leaf_as_json["result"]["status"] == 400
    assert run.task("missing")["result"]["error_type"] == "ImdsNotFoundError"


def test_the_path_chooses_the_format_unless_told(tmp_path, make_emulator):
    """Leaves are read as text without format: text; objects, arrays and their elements stay JSON."""
    # Seven tasks in a row: without the 5-per-second limit, so every request must be answered as asked.
    emulator = make_emulator(rate_limit=None)
    tasks = "\n".join([
        info_task("leaf", path="instance/compute/vmId"),
        info_task("deep_leaf", path="instance/network/interface/0/ipv4/ipAddress/0/privateIpAddress"),
        info_task("object", path="instance/compute/osProfile"),
        info_task("array", path="instance/compute/tagsList"),
        info_task("element", path="instance/network/interface/0"),
        info_task("compute", path="instance/compute"),
        info_task("overridden", path="instance/compute/osProfile", format="text"),
    ])
    run = run_tasks(tmp_path, emulator, tasks)
    assert run.rc == 0, run.output
    names = ("leaf", "deep_leaf", "object", "array", "element", "compute", "overridden")
    results = {name: run.task(name)["result"] for name in names}
    assert (results["leaf"]["format"], results["leaf"]["text"]) == ("text", "02aab8a4-74ef-476e-8182-f6d2ba4166a6")
    assert results["deep_leaf"]["format"] == "text" and results["deep_leaf"]["text"]
    assert results["object"]["format"] == "json" and "adminUsername" in results["object"]["data"]
    assert isinstance(results["array"]["data"], list) and isinstance(results["element"]["data"], dict)
    assert results["compute"]["data"]["vmId"] == "02aab8a4-74ef-476e-8182-f6d2ba4166a6"
    assert results["overridden"]["text"].splitlines()[0] == "adminUsername"
    assert all(r.status == 200 for r in emulator.requests)


def test_leaf_hint_when_imds_does_not_give_one(tmp_path, emulator):
    # Whatever IMDS's own 400 text says, a 400 on a deep instance path suggests format=text.
    emulator.add_fault(Fault(status=400, path="/metadata/instance/compute/vmId"))
    run = run_tasks(tmp_path, emulator, info_task("vm_id", path="instance/compute/vmId", format="json"))
    result = run.task("vm_id")["result"]
    assert result["error_type"] == "ImdsBadRequestError"
    assert "may be a single value (a leaf)" in result["msg"] and "format: text" in result["msg"]


def test_other_categories(tmp_path, emulator):
    event = emulator.events.schedule("Preempt", resources=["myspotvm"])
    tasks = "\n".join([
        info_task("lb", path="loadbalancer"),
        info_task("events", path="scheduledevents"),
        info_task("old_events", path="scheduledevents", api_version="2019-08-01"),
        info_task("identity", path="identity/info"),
        info_task("token", path="identity/oauth2/token", query={"resource": "https://vault.azure.net"}),
        info_task("attested", path="attested/document", query={"nonce": "1234567890"}),
    ])
    run = run_tasks(tmp_path, emulator, tasks)
    assert run.rc == 0, run.output
    lb = run.task("lb")["result"]["data"]["loadbalancer"]
    assert lb["inboundRules"][0]["frontendPort"] == 80  # ports stay integers
    events = run.task("events")["result"]
    assert events["api_version"] == "2020-07-01"
    assert events["data"]["Events"][0]["EventId"] == event["EventId"]
    old_event = run.task("old_events")["result"]["data"]["Events"][0]
    # 2019-08-01 has Description (2019-04-01) and EventSource (2019-08-01), not DurationInSeconds (2020-07-01).
    assert "EventSource" in old_event and "Description" in old_event and "DurationInSeconds" not in old_event
    assert run.task("identity")["result"]["data"] == {"tenantId": emulator.tenant_id}
    assert "censored" in run.task("token")["result"] and "data" not in run.task("token")["result"]
    attested = run.task("attested")["result"]["data"]
    assert attested["encoding"] == "pkcs7"
    content = verify_signature(tmp_path, emulator, attested["signature"])
    assert content["nonce"] == "1234567890"
    assert content["vmId"] == emulator.profile["compute"]["vmId"]


def verify_signature(tmp_path, emulator, signature: str) -> dict:
    """Check the PKCS#7 with openssl against the emulator's root; return the signed JSON."""
    root = tmp_path / "root.pem"
    emulator.pki.write_root(str(root))
    signed = tmp_path / "attested.der"
    signed.write_bytes(base64.b64decode(signature))
    completed = subprocess.run(["openssl", "cms", "-verify", "-inform", "DER", "-in", str(signed),
                                "-CAfile", str(root), "-purpose", "any"], capture_output=True, check=False)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


@pytest.mark.parametrize("options, words", [
    ({"path": "../../etc/passwd"}, "Invalid IMDS path segment"),
    ({"path": "instance", "query": {"format": "text"}}, "format option"),
    ({"path": "instance", "query": {"api-version": "2017-08-01"}}, "api_version option"),
    ({"path": "attested/document", "format": "text"}, "format=text exists only for instance paths"),
    ({"path": "instance/compute/userData", "format": "text"}, "include_user_data: true"),
])
def test_bad_requests(tmp_path, emulator, options, words):
    run = run_tasks(tmp_path, emulator, info_task("bad", **options))
    assert run.task("bad")["status"] == "failed"
    assert words in run.task("bad")["result"]["msg"]


def test_unknown_api_version_falls_back_once(tmp_path, make_emulator):
    from azure_imds_emulator.server import API_VERSIONS  # pylint: disable=import-outside-toplevel
    emulator = make_emulator(supported_versions=tuple(v for v in API_VERSIONS if v <= "2021-02-01"))
    run = run_tasks(tmp_path, emulator, info_task("compute", path="instance/compute"))
    assert run.rc == 0, run.output
    assert run.task("compute")["result"]["api_version"] == "2021-02-01"
    assert [r.status for r in emulator.requests] == [400, 200]
    # Not silent: a warning names both versions, once.
    output = " ".join((run.stdout + run.stderr).split())
    assert output.count("IMDS refused api-version 2025-04-07 at /metadata/instance/compute (400)") == 1, run.output
    assert "repeated with 2021-02-01" in output


@pytest.mark.parametrize("version", ["2021-2-1", "latest", "2021-02-01 ", "2021-13-01"])
def test_an_api_version_that_is_not_a_date_is_refused_before_any_request(tmp_path, emulator, version):
    """The new user's command, with a version IMDS cannot know."""
    run = run_command(tmp_path, ["ansible", "localhost", "-i", "localhost,", "-c", "local", "-m",
                                 "imds.azure.metadata_info", "-a", "path=instance/compute/vmId format=text "
                                 "api_version='%s'" % version], env={"AZURE_IMDS_ENDPOINT": emulator.url})
    assert run.returncode == 2, run.stdout + run.stderr
    assert "api_version must be an IMDS api-version, a date written YYYY-MM-DD" in run.stdout
    assert repr(version) in run.stdout and not emulator.requests


def test_scheduled_events_refuse_a_bad_version_before_any_request(tmp_path, emulator):
    run = run_command(tmp_path, ["ansible", "localhost", "-i", "localhost,", "-c", "local", "-m",
                                 "imds.azure.scheduled_events", "-a", "only_this_vm=true api_version=latest"],
                      env={"AZURE_IMDS_ENDPOINT": emulator.url})
    assert run.returncode == 2 and "a date written YYYY-MM-DD" in run.stdout, run.stdout + run.stderr
    assert not emulator.requests


def test_user_data_only_when_asked_and_then_hidden(tmp_path, emulator):
    tasks = "\n".join([
        info_task("instance", path="instance"),
        info_task("compute", path="instance/compute"),
        info_task("refused", path="instance/compute/userData", format="text"),
        info_task("asked", path="instance/compute/userData", format="text", include_user_data=True)
        + "\n      register: asked",
        info_task("asked_compute", path="instance/compute", include_user_data=True) + "\n      register: asked_compute",
        "    - name: usable\n      ansible.builtin.assert:\n        that:\n"
        "          - asked.text == 'Zm9vYmFy'\n          - asked_compute.data.userData == 'Zm9vYmFy'",
    ])
    run = run_tasks(tmp_path, emulator, tasks, args=["-vvv"])
    assert run.rc == 0, run.output
    assert "userData" not in run.task("instance")["result"]["data"]["compute"]
    assert "userData" not in run.task("compute")["result"]["data"]
    assert run.task("compute")["result"]["data"]["vmId"]
    assert run.task("refused")["status"] == "failed"
    for name in ("asked", "asked_compute"):
        assert "censored" in run.task(name)["result"]
    assert run.task("usable")["status"] == "ok"
    assert "Zm9vYmFy" not in run.stdout + run.stderr
    # The refused read never reached IMDS: instance, compute and the two asked-for reads did.
    assert len(emulator.requests_to("/metadata/instance")) == 4
