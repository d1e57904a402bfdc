"""The emulator as a package of its own: ``azure-imds-emulator serve --config``, the control API and its
command-line client, fleets chosen by client address, and what the package needs at run time.

Everything runs the installed command (tools/setup.sh: ``pip install -e ./emulator``) in its own process.
"""

from __future__ import annotations

import base64
import email.utils
import http.client
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
from azure_imds_emulator import config
from azure_imds_emulator.events import MINIMUM_NOTICE
from helpers import netns, paths
from helpers.ansible_runner import module_play, run_playbook
from helpers.ports import free_port
from helpers.served_emulator import ServedEmulator, session

HEADERS = {"Metadata": "true"}
NEW = {"api-version": "2021-02-01"}
EVENTS = {"api-version": "2020-07-01"}
COMMAND = str(paths.VENV_BIN / "azure-imds-emulator")
# Tests that poll the document switch IMDS's own 5 requests per second off.
UNLIMITED = {"rate_limit": {"per_second": None}}


def get(served, path: str, **params):
    return session().get(served.url + path, params=params or NEW, headers=HEADERS, timeout=10)


def compute(served) -> dict:
    return get(served, "/metadata/instance/compute").json()


def events(served) -> dict:
    return get(served, "/metadata/scheduledevents", **EVENTS).json()


def wait_for(predicate, timeout: float = 10.0):
    assert netns.wait_for(predicate, timeout=timeout), "not reached within %s s" % timeout


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    completed = subprocess.run([COMMAND] + list(args), capture_output=True, text=True, timeout=30, check=False)
    if check:
        assert completed.returncode == 0, completed.stderr
    return completed


# -- serve ----------------------------------------------------------------------------------------------

def test_serve_prints_where_it_listens_and_the_imds_port_has_no_control(serve_emulator):
    served = serve_emulator()
    assert set(served.info) == {"url", "control", "pid", "vms"}
    assert served.pid == served.process.pid and served.url != served.control
    assert get(served, "/metadata/versions").status_code == 200
    assert served.call("GET", "/vms") == {"vms": ["examplevmname"]}
    # The IMDS port answers control paths as IMDS answers any unknown path.
    for method, path in (("POST", "/events"), ("GET", "/requests"), ("POST", "/reset"), ("POST", "/faults")):
        answer = session().request(method, served.url + path, headers=HEADERS, json={}, timeout=10)
        assert (answer.status_code, answer.json()) == (404, {"error": "Not found"}), (method, path)


def test_serve_python_m_is_the_same_command(tmp_path):
    served = ServedEmulator(tmp_path, command=[paths.PYTHON, "-m", "azure_imds_emulator", "serve"])
    try:
        assert served.process.args[1:3] == ["-m", "azure_imds_emulator"]
        assert get(served, "/metadata/versions").status_code == 200
    finally:
        served.stop()


def test_control_listens_where_asked(serve_emulator):
    port = free_port()
    served = serve_emulator(args=["--control", "127.0.0.1:%d" % port])
    assert served.control == "http://127.0.0.1:%d" % port
    assert session().get(served.control + "/vms", timeout=10).json() == {"vms": ["examplevmname"]}


# -- --config -------------------------------------------------------------------------------------------

def test_vm_fields_override_the_default_and_stay_consistent(serve_emulator):
    served = serve_emulator({"vm": {
        "name": "web-1", "location": "westeurope", "zone": "2", "vmSize": "Standard_D2s_v5", "osType": "Linux",
        "tags": {"role": "web", "env": "prod"}, "platformFaultDomain": 1, "platformUpdateDomain": "3",
        "resourceGroupName": "rg-web", "subscriptionId": "11111111-0000-0000-0000-000000000000",
        "vmScaleSetName": "", "priority": "Spot", "evictionPolicy": "Deallocate", "isHostCompatibilityLayerVm": False,
        "plan": {"name": "", "product": "", "publisher": ""}, "userData": "aGVsbG8="}})
    doc = compute(served)
    assert (doc["name"], doc["location"], doc["zone"], doc["vmSize"], doc["osType"]) == \
        ("web-1", "westeurope", "2", "Standard_D2s_v5", "Linux")
    # IMDS sends numbers and booleans as strings.
    assert (doc["platformFaultDomain"], doc["platformUpdateDomain"], doc["isHostCompatibilityLayerVm"]) == \
        ("1", "3", "false")
    assert doc["tags"] == "role:web;env:prod"
    assert doc["tagsList"] == [{"name": "role", "value": "web"}, {"name": "env", "value": "prod"}]
    assert doc["osProfile"]["computerName"] == "web-1"
    assert doc["storageProfile"]["osDisk"]["osType"] == "Linux" and doc["licenseType"] == ""
    assert doc["resourceId"] == ("/subscriptions/11111111-0000-0000-0000-000000000000/resourceGroups/rg-web/"
                                 "providers/Microsoft.Compute/virtualMachines/web-1")
    assert (doc["priority"], doc["evictionPolicy"], doc["userData"], doc["plan"]["name"]) == \
        ("Spot", "Deallocate", "aGVsbG8=", "")
    assert served.info["vms"] == ["web-1"]


def example_value(field: str):
    kind = config.STRUCTURED_FIELDS.get(field)
    if kind is not None:
        return {"example": "value"} if kind is dict else [{"example": "value"}]
    return {"osType": "Linux", "tags": {"k": "v"}}.get(field, "example-%s" % field)


def test_the_compute_fields_are_the_specs():
    """vm: takes the Compute fields of Microsoft's OpenAPI file (tagsList follows from tags), and
    physicalZone, which IMDS.md documents from 2023-11-15 (the file is 2023-07-01)."""
    spec = json.loads(paths.SPEC.read_text())["definitions"]["Compute"]["properties"]
    assert set(config.COMPUTE_FIELDS) == (set(spec) - {"tagsList"}) | {"physicalZone"}
    assert {k for k, v in spec.items() if v.get("type") in ("object", "array") or "$ref" in v} - {"tagsList"} \
        == set(config.STRUCTURED_FIELDS)


@pytest.mark.parametrize("field", config.COMPUTE_FIELDS)
def test_every_compute_field_of_the_spec_can_be_set(field):
    [vm] = config.build({"vm": {field: example_value(field)}})
    compute_document = vm.profile["compute"]
    if field == "tags":
        assert (compute_document["tags"], compute_document["tagsList"]) == ("k:v", [{"name": "k", "value": "v"}])
    else:
        assert compute_document[field] == example_value(field)


def test_network_interfaces(serve_emulator):
    served = serve_emulator({"network": {"interfaces": [
        {"macAddress": "00:0d:3a:aa:bb:01", "privateIpAddress": "10.1.0.5", "publicIpAddress": "20.30.40.50",
         "subnet": "10.1.0.0/24", "ipv6Addresses": ["fd00::5"]},
        {"privateIpAddress": "10.2.0.7"}]}})
    network = get(served, "/metadata/instance/network").json()
    first, second = network["interface"]
    assert first == {"ipv4": {"ipAddress": [{"privateIpAddress": "10.1.0.5", "publicIpAddress": "20.30.40.50"}],
                              "subnet": [{"address": "10.1.0.0", "prefix": "24"}]},
                     "ipv6": {"ipAddress": [{"privateIpAddress": "fd00::5"}]}, "macAddress": "000D3AAABB01"}
    assert second["ipv4"]["subnet"] == [{"address": "10.2.0.0", "prefix": "24"}]
    text = get(served, "/metadata/instance/network/interface/0/ipv4/ipAddress/0/privateIpAddress",
               format="text", **NEW)
    assert text.text == "10.1.0.5"


def test_identities(serve_emulator):
    user = {"client_id": "11111111-2222-3333-4444-555555555555", "object_id": "aaaaaaaa-0000-0000-0000-000000000001",
            "msi_res_id": "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/"
                          "userAssignedIdentities/app"}
    served = serve_emulator({"identities": {"systemAssigned": None, "userAssigned": [user],
                                            "tenantId": "22222222-0000-0000-0000-000000000000"}})
    token = get(served, "/metadata/identity/oauth2/token", resource="https://vault.azure.net", **NEW).json()
    assert token["client_id"] == user["client_id"] and served.identities.issued_tokens == [token["access_token"]]
    assert get(served, "/metadata/identity/info", **NEW).json() == {"tenantId": "22222222-0000-0000-0000-000000000000"}
    nobody = serve_emulator({"identities": {"systemAssigned": None}})
    refused = get(nobody, "/metadata/identity/oauth2/token", resource="https://vault.azure.net", **NEW)
    assert refused.status_code == 400 and refused.json()["error_description"] == "Identity not found"


def test_scheduled_events_of_the_config(serve_emulator):
    served = serve_emulator({"scheduled_events": [
        {"EventType": "Freeze", "Description": "host update", "DurationInSeconds": 9, "EventId": "E-1"},
        {"EventType": "Reboot", "after_seconds": 3600}]})
    document = events(served)
    [event] = document["Events"]  # the Reboot appears in an hour
    assert (event["EventId"], event["EventType"], event["Description"], event["DurationInSeconds"]) == \
        ("E-1", "Freeze", "host update", 9)
    assert event["Resources"] == ["examplevmname"] and event["EventSource"] == "Platform"


def test_faults_of_the_config(serve_emulator):
    served = serve_emulator({"faults": [{"status": 503, "count": 1},
                                        {"kind": "drop", "path": "/metadata/loadbalancer"}]})
    assert get(served, "/metadata/instance").status_code == 503
    assert get(served, "/metadata/instance").status_code == 200
    with pytest.raises(Exception) as dropped:
        get(served, "/metadata/loadbalancer")
    assert "RemoteDisconnected" in repr(dropped.value) or "Connection aborted" in repr(dropped.value)


def test_max_api_version(serve_emulator):
    served = serve_emulator({"max_api_version": "2020-09-01"})
    versions = get(served, "/metadata/versions").json()["apiVersions"]
    assert max(versions) == "2020-09-01"
    newer = get(served, "/metadata/instance", **{"api-version": "2021-02-01"})
    assert newer.status_code == 400 and newer.json()["newest-versions"][0] == "2020-09-01"


def test_rate_limit(serve_emulator):
    unlimited = serve_emulator({"rate_limit": {"per_second": None}})
    assert {get(unlimited, "/metadata/versions").status_code for _attempt in range(12)} == {200}
    one = serve_emulator({"rate_limit": {"per_second": 1, "model": "served"}})
    statuses = [get(one, "/metadata/versions").status_code for _attempt in range(3)]
    assert 429 in statuses and statuses[0] == 200


def test_yaml_config(serve_emulator, tmp_path):
    path = tmp_path / "vm.yaml"
    path.write_text("vm:\n  name: yamlvm\n  tags:\n    tier: db\n")
    served = serve_emulator(args=["--config", str(path)])
    assert compute(served)["tagsList"] == [{"name": "tier", "value": "db"}]


def without(module: str, *args: str) -> subprocess.CompletedProcess:
    """The command in a Python where ``module`` cannot be imported (as when the extra is not installed)."""
    code = ("import sys; sys.modules[%r] = None; from azure_imds_emulator.cli import main; sys.exit(main(%r))"
            % (module, list(args)))
    return subprocess.run([paths.PYTHON, "-c", code], capture_output=True, text=True, timeout=30, check=False)


def test_yaml_without_pyyaml_is_a_clear_error(tmp_path):
    path = tmp_path / "vm.yml"
    path.write_text("vm: {name: x}\n")
    completed = without("yaml", "serve", "--config", str(path))
    assert completed.returncode == 2
    assert "needs PyYAML: pip install 'azure-imds-emulator[yaml]'" in completed.stderr, completed.stderr


def test_attestation_without_cryptography_is_signed_with_the_standard_library(tmp_path):
    """Without the [attestation] extra the emulator signs with stdlib_pki; the collection verifies it."""
    root = tmp_path / "root.pem"
    code = ("import sys; sys.modules['cryptography'] = None; from azure_imds_emulator.cli import main; "
            "sys.exit(main(['serve', '--write-root', %r]))" % str(root))
    process = subprocess.Popen([paths.PYTHON, "-c", code], stdout=subprocess.PIPE,  # pylint: disable=consider-using-with
                               stderr=subprocess.PIPE, text=True)
    try:
        url = json.loads(process.stdout.readline())["url"]
        options = "ca_path: %s\naia_cache_dir: %s\n" % (root, tmp_path / "aia")
        run = run_playbook(tmp_path, module_play("imds.azure.attestation_info", options, name="attest"),
                           env={"AZURE_IMDS_ENDPOINT": url})
        signature = get(types.SimpleNamespace(url=url), "/metadata/attested/document").json()["signature"]
    finally:
        netns.stop_process(process)
    assert run.rc == 0, run.output
    report = run.task("attest")["result"]
    assert report["verified"] and set(report["checks"].values()) == {True}, report
    assert report["signer"]["subject"].startswith("CN=metadata.azure.com")
    assert report["document"]["vmId"] == "02aab8a4-74ef-476e-8182-f6d2ba4166a6"
    if shutil.which("openssl"):  # a second, independent verifier of the chain and the signature
        (tmp_path / "document.der").write_bytes(base64.b64decode(signature))
        verified = subprocess.run(["openssl", "smime", "-verify", "-inform", "DER", "-in", str(tmp_path / "document.der"),
                                   "-CAfile", str(root), "-purpose", "any"], capture_output=True, text=True, check=False)
        assert verified.returncode == 0 and json.loads(verified.stdout)["vmId"], verified.stderr


BAD_CONFIGS = [
    ({"vmm": {}}, "vmm: unknown key; allowed here: vm, network"),
    ({"vm": {"nmae": "x"}}, "vm.nmae: unknown key; allowed here: additionalCapabilities"),
    ({"vm": {"tagsList": []}}, "vm.tagsList: unknown key"),
    ({"vm": {"tags": "a:b"}}, "vm.tags: a mapping of tag names to values"),
    ({"vm": {"tags": {"a": [1]}}}, "vm.tags.a: must be text"),
    ({"vm": {"osType": "BeOS"}}, "vm.osType: 'BeOS'; one of Linux, Windows"),
    ({"vm": {"plan": "x"}}, "vm.plan: must be a mapping"),
    ({"vm": {"zone": 1.5}}, "vm.zone: must be text"),
    ({"network": {"interfaces": [{"privateIpAddress": "10.0.0.4", "subnet": "10.9.0.0/24"}]}},
     "network.interfaces[0]: privateIpAddress 10.0.0.4 is not in subnet 10.9.0.0/24"),
    ({"network": {"interfaces": [{"macAddress": "zz"}]}}, "network.interfaces[0].macAddress: 'zz' is not a MAC"),
    ({"network": {"interfaces": [{"privateIpAddress": "fd00::1"}]}},
     "network.interfaces[0].privateIpAddress: 'fd00::1' is not an IPv4 address"),
    ({"network": {"nics": []}}, "network.nics: unknown key; allowed here: interfaces"),
    ({"identities": {"userAssigned": [{"client_id": "a", "object_id": "b"}]}},
     "identities.userAssigned[0]: needs msi_res_id"),
    ({"identities": {"system": {}}}, "identities.system: unknown key"),
    ({"scheduled_events": [{"EventType": "Explode"}]}, "scheduled_events[0]: EventType: 'Explode'; one of Freeze"),
    ({"scheduled_events": [{"EventType": "Reboot", "Status": "x"}]}, "scheduled_events[0]: Status: unknown field"),
    ({"scheduled_events": [{"EventType": "Reboot", "NotBefore": "soon"}]}, "scheduled_events[0]: NotBefore: an RFC"),
    ({"scheduled_events": {}}, "scheduled_events: must be a list"),
    ({"faults": [{"kind": "boom"}]}, "faults[0]: kind: 'boom'; one of status"),
    ({"faults": [{"status": "503"}]}, "faults[0]: status: must be a number"),
    ({"faults": [{"status": 503, "when": 1}]}, "faults[0]: when: unknown fault field"),
    ({"max_api_version": "2099-01-01"}, "max_api_version: '2099-01-01' is not an IMDS api-version"),
    ({"rate_limit": {"per_second": 0}}, "rate_limit.per_second: a whole number"),
    ({"rate_limit": {"model": "bursty"}}, "rate_limit.model: 'bursty'; one of arrivals, served"),
    ({"vms": []}, "vms: must be a non-empty list"),
    ({"vms": [{"match": "10.0.0.300", "vm": {"name": "a"}}]}, "vms[0].match[0]: '10.0.0.300' is not an IP"),
    ({"vms": [{"vm": {"name": "a"}, "match": ["10.0.0.1"]}, {"vm": {"name": "a"}, "match": ["10.0.0.2"]}]},
     "vms: every VM needs its own vm.name"),
    ({"vms": [{"vm": {"name": "a"}}, {"vm": {"name": "b"}}]}, "vms: at most one VM may leave out match"),
    ({"vms": [{"vm": {"name": "a"}, "zone": "1"}]}, "vms[0].zone: unknown key"),
]


@pytest.mark.parametrize("data, message", BAD_CONFIGS, ids=[m.split(":")[0] for _d, m in BAD_CONFIGS])
def test_a_wrong_key_or_value_names_it(data, message):
    with pytest.raises(config.ConfigError) as caught:
        config.build(data)
    assert message in str(caught.value)


def test_serve_refuses_a_wrong_config_naming_the_key(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"vm": {"tags": {"ok": "x"}, "vmsize": "A1"}}))
    completed = cli("serve", "--config", str(path), check=False)
    assert completed.returncode == 2 and not completed.stdout
    assert "vm.vmsize: unknown key; allowed here:" in completed.stderr and "vmSize" in completed.stderr
    path.write_text("{not json")
    completed = cli("serve", "--config", str(path), check=False)
    assert completed.returncode == 2 and "is not JSON" in completed.stderr


# -- the control API ------------------------------------------------------------------------------------

@pytest.mark.parametrize("event_type", sorted(MINIMUM_NOTICE))
def test_post_events_gives_the_types_minimum_notice(serve_emulator, event_type):
    served = serve_emulator(UNLIMITED)
    before = time.time()
    answer = served.call("POST", "/events", {"EventType": event_type})
    after = time.time()
    [event] = events(served)["Events"]
    assert event == answer["event"] and answer["vm"] == "examplevmname"
    not_before = email.utils.parsedate_to_datetime(event["NotBefore"]).timestamp()
    # NotBefore has whole seconds.
    assert before + MINIMUM_NOTICE[event_type] - 1 <= not_before <= after + MINIMUM_NOTICE[event_type]
    assert (event["EventStatus"], event["ResourceType"], event["Resources"]) == \
        ("Scheduled", "VirtualMachine", ["examplevmname"])


def test_post_events_appears_after_seconds_with_notice_after_that(serve_emulator):
    served = serve_emulator(UNLIMITED)
    incarnation = events(served)["DocumentIncarnation"]
    start = time.time()
    served.call("POST", "/events", {"EventType": "Preempt", "after_seconds": 1.5})
    assert events(served)["Events"] == []
    wait_for(lambda: events(served)["Events"])
    shown = events(served)
    assert time.time() - start >= 1.5 and shown["DocumentIncarnation"] == incarnation + 1
    not_before = email.utils.parsedate_to_datetime(shown["Events"][0]["NotBefore"]).timestamp()
    assert start + 1.5 + 30 - 1 <= not_before <= time.time() + 30


def test_post_events_takes_every_documented_field_and_approval_starts_it(serve_emulator):
    served = serve_emulator(UNLIMITED)
    fields = {"EventType": "Redeploy", "Resources": ["examplevmname", "othervm"], "DurationInSeconds": 1,
              "EventSource": "User", "Description": "moving hosts", "EventId": "A1B2C3D4-0000-0000-0000-000000000001",
              "NotBefore": "Mon, 19 Sep 2016 18:29:47 GMT"}
    served.call("POST", "/events", fields)
    [event] = events(served)["Events"]
    assert {key: event[key] for key in fields} == fields
    approve = session().post(served.url + "/metadata/scheduledevents", params=EVENTS, headers=HEADERS, timeout=10,
                             json={"StartRequests": [{"EventId": fields["EventId"]}]})
    assert approve.status_code == 200
    [started] = events(served)["Events"]
    assert (started["EventStatus"], started["NotBefore"]) == ("Started", "")
    wait_for(lambda: events(served)["Events"] == [])  # DurationInSeconds passed: the maintenance is over


@pytest.mark.parametrize("body, message", [
    ({"EventType": "Reboot", "after": 5}, "after: unknown field"),
    ({"EventType": "Reboot", "after_seconds": -1}, "after_seconds: a number of seconds"),
    ({"EventType": "Reboot", "EventSource": "Me"}, "EventSource: 'Me'; one of Platform, User"),
    ({"EventType": "Reboot", "DurationInSeconds": "5"}, "DurationInSeconds: a whole number"),
    ({"EventType": "Reboot", "vm": "nosuchvm"}, "vm: no VM is named 'nosuchvm'"),
    ({}, "EventType: None; one of"),
])
def test_post_events_refuses_what_imds_could_not_show(serve_emulator, body, message):
    served = serve_emulator()
    answer = session().post(served.control + "/events", json=body, timeout=10)
    assert answer.status_code == 400 and message in answer.json()["error"], answer.text
    assert events(served)["Events"] == []


def test_post_faults_status_for_a_duration(serve_emulator):
    served = serve_emulator(UNLIMITED)
    served.call("POST", "/faults", {"status": 410, "duration": 1})
    assert get(served, "/metadata/instance").status_code == 410
    wait_for(lambda: get(served, "/metadata/instance").status_code == 200)


def test_post_faults_rate_limit_storm_and_path(serve_emulator):
    served = serve_emulator({"rate_limit": {"per_second": None}})
    served.call("POST", "/faults", {"kind": "rate_limit_storm", "count": 3, "path": "/metadata/identity"})
    assert get(served, "/metadata/instance").status_code == 200
    storm = [get(served, "/metadata/identity/info").status_code for _attempt in range(4)]
    assert storm == [429, 429, 429, 200]


def raw_get(served, path: str, timeout: float) -> http.client.HTTPResponse:
    host, port = served.url[len("http://"):].rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    connection.request("GET", path + "?api-version=2021-02-01", headers=HEADERS)
    return connection.getresponse()


def test_post_faults_hang_drip_and_drop(serve_emulator):
    served = serve_emulator(UNLIMITED)
    served.call("POST", "/faults", {"kind": "hang", "count": 1})
    with pytest.raises(TimeoutError):
        raw_get(served, "/metadata/instance", timeout=0.5)
    served.call("POST", "/faults", {"kind": "drop", "count": 1})
    with pytest.raises(http.client.RemoteDisconnected):
        raw_get(served, "/metadata/instance", timeout=5)
    served.call("POST", "/faults", {"kind": "drip", "interval": 3, "count": 1})
    served.call("POST", "/faults", {"kind": "drip", "interval": 0.05, "count": 1})
    slow = raw_get(served, "/metadata/instance", timeout=1)
    assert slow.status == 200  # the head comes at once, then a byte of the body every 3 s
    with pytest.raises(TimeoutError):
        slow.read(1)
    dripping = raw_get(served, "/metadata/instance", timeout=5)
    assert dripping.read(3) == b'{"c'


def test_post_faults_refuses_unknown_fields(serve_emulator):
    served = serve_emulator()
    answer = session().post(served.control + "/faults", json={"status": 503, "for": 3}, timeout=10)
    assert answer.status_code == 400 and "for: unknown fault field" in answer.json()["error"]
    assert get(served, "/metadata/instance").status_code == 200


def test_get_requests_and_post_reset(serve_emulator):
    served = serve_emulator({"scheduled_events": [{"EventType": "Freeze", "EventId": "CONFIGURED"}]})
    session().get(served.url + "/metadata/instance", params=NEW, headers={"Metadata": "true", "X-Mine": "1"},
                  timeout=10)
    [seen] = served.requests_to("/metadata/instance")
    assert (seen.method, seen.path, seen.query, seen.status, seen.vm) == \
        ("GET", "/metadata/instance", [["api-version", "2021-02-01"]], 200, "examplevmname")
    assert seen.headers["x-mine"] == "1" and seen.client == "127.0.0.1"
    served.call("POST", "/events", {"EventType": "Terminate", "EventId": "ADDED"})
    served.call("POST", "/faults", {"status": 500})
    assert get(served, "/metadata/instance").status_code == 500
    assert served.call("POST", "/reset") == {"reset": ["examplevmname"]}
    assert served.requests_to("/") == []
    assert get(served, "/metadata/instance").status_code == 200
    assert [e["EventId"] for e in events(served)["Events"]] == ["CONFIGURED"]


def test_control_answers_unknown_paths_and_methods(serve_emulator):
    served = serve_emulator()
    unknown = session().get(served.control + "/metadata/instance", timeout=10)
    assert unknown.status_code == 404 and "/events" in unknown.json()["error"]
    wrong = session().get(served.control + "/events", timeout=10)
    assert wrong.status_code == 405
    bad = session().post(served.control + "/reset", data=b"[1]", timeout=10)
    assert bad.status_code == 400 and bad.json() == {"error": "the body must be a JSON object"}


# -- the command-line client ----------------------------------------------------------------------------

def test_cli_event_fault_requests_reset(serve_emulator):
    served = serve_emulator(UNLIMITED)
    control = ["--control", served.control]
    added = json.loads(cli("event", *control, "--type", "Preempt", "--duration", "30", "--description", "spot",
                           "--source", "Platform", "--resource", "examplevmname", "--event-id", "CLI-1",
                           "--not-before", "Mon, 19 Sep 2016 18:29:47 GMT").stdout)
    [event] = events(served)["Events"]
    assert event == added["event"] and (event["EventId"], event["DurationInSeconds"], event["Description"]) == \
        ("CLI-1", 30, "spot")
    cli("fault", *control, "--status", "503", "--count", "1", "--retry-after", "2")
    answer = get(served, "/metadata/instance")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "2"
    cli("fault", *control, "--kind", "drip", "--interval", "0.01", "--path", "/metadata/instance", "--duration", "60")
    seen = json.loads(cli("requests", *control).stdout)["requests"]
    assert [r["status"] for r in seen if r["path"] == "/metadata/instance"] == [503]
    assert json.loads(cli("reset", *control, "--vm", "examplevmname").stdout) == {"reset": ["examplevmname"]}
    assert events(served)["Events"] == [] and get(served, "/metadata/instance").status_code == 200
    later = json.loads(cli("event", *control, "--type", "Reboot", "--after", "3600").stdout)
    assert later["event"]["EventType"] == "Reboot" and events(served)["Events"] == []


def test_cli_client_errors(serve_emulator, monkeypatch):
    monkeypatch.delenv("AZURE_IMDS_EMULATOR_CONTROL", raising=False)
    missing = cli("requests", check=False)
    assert missing.returncode == 2 and "give --control URL or set AZURE_IMDS_EMULATOR_CONTROL" in missing.stderr
    served = serve_emulator()
    refused = cli("event", "--control", served.control, "--type", "Reboot", "--vm", "other", check=False)
    assert refused.returncode == 1 and "vm: no VM is named 'other'" in refused.stderr
    monkeypatch.setenv("AZURE_IMDS_EMULATOR_CONTROL", served.control)
    assert json.loads(cli("requests").stdout) == {"requests": []}


# -- packaging ------------------------------------------------------------------------------------------

def test_the_package_needs_only_the_standard_library_at_run_time():
    """Import every module and start a fleet with cryptography and yaml unimportable: nothing else is needed."""
    code = ("import sys, importlib, pkgutil\n"
            "for name in ('cryptography', 'yaml', 'requests', 'jsonschema'): sys.modules[name] = None\n"
            "import azure_imds_emulator as package\n"
            "for module in pkgutil.iter_modules(package.__path__):\n"
            "    if module.name != '__main__': importlib.import_module('azure_imds_emulator.' + module.name)\n"
            "loaded = {m.split('.')[0] for m, v in sys.modules.items() if v is not None} - {'__main__'}\n"
            "print(sorted(loaded - set(sys.stdlib_module_names)))\n")
    # -S -E: no site-packages, no sitecustomize (the test's network guard): only what the package imports.
    source = str(paths.ROOT / "emulator" / "src")
    completed = subprocess.run([paths.PYTHON, "-S", "-E", "-c", "import sys; sys.path.insert(0, %r)\n" % source + code],
                               capture_output=True, text=True, timeout=30, check=False)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout.replace("'", '"')) == ["azure_imds_emulator"]


def test_pyproject_declares_the_command_and_the_extras():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((paths.ROOT / "emulator" / "pyproject.toml").read_text())["project"]
    assert project["scripts"] == {"azure-imds-emulator": "azure_imds_emulator.cli:main"}
    assert project["dependencies"] == [] and project["requires-python"] == ">=3.9"
    assert set(project["optional-dependencies"]) == {"attestation", "yaml"}
    from importlib import metadata  # pylint: disable=import-outside-toplevel
    [script] = [e for e in metadata.distribution("azure-imds-emulator").entry_points if e.group == "console_scripts"]
    assert (script.name, script.value) == ("azure-imds-emulator", "azure_imds_emulator.cli:main")
    assert sys.version_info >= (3, 9)


# -- a fleet from one process ---------------------------------------------------------------------------

CLIENT = """
import json, sys, urllib.request, urllib.error
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
request = urllib.request.Request(sys.argv[1], headers={"Metadata": "true"})
try:
    with opener.open(request, timeout=5) as answer:
        print(json.dumps({"status": answer.status, "body": json.loads(answer.read())}))
except urllib.error.HTTPError as error:
    print(json.dumps({"status": error.code, "body": json.loads(error.read())}))
except Exception as error:
    print(json.dumps({"status": 0, "error": type(error).__name__}))
"""


def fleet_lab(make_netns, count: int) -> tuple:
    """A namespace for the emulator and ``count`` client namespaces, each joined to it by a veth pair
    (10.251.N.2 in client N, 10.251.N.1 on the emulator's side). Nothing touches the root namespace."""
    server = make_netns("fsrv")
    clients = []
    for number in range(1, count + 1):
        client = make_netns("fcl%d" % number)
        client.run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "vm%d" % number, "netns", server.name)
        client.run("ip", "addr", "add", "10.251.%d.2/24" % number, "dev", "eth0")
        client.run("ip", "link", "set", "eth0", "up")
        server.run("ip", "addr", "add", "10.251.%d.1/24" % number, "dev", "vm%d" % number)
        server.run("ip", "link", "set", "vm%d" % number, "up")
        clients.append(client)
    return server, clients


def test_a_fleet_from_one_process_chosen_by_client_address(make_netns, tmp_path):
    server, clients = fleet_lab(make_netns, 3)
    (tmp_path / "client.py").write_text(CLIENT)
    (tmp_path / "fleet.json").write_text(json.dumps({
        "vm": {"location": "westeurope", "tags": {"team": "shop"}},
        "rate_limit": {"per_second": None},
        "vms": [
            {"match": ["10.251.1.2"], "vm": {"name": "vma", "zone": "1", "tags": {"role": "web"}}},
            {"match": "10.251.2.0/24", "vm": {"name": "vmb", "zone": "2"}, "identities": {"systemAssigned": None}},
        ]}))  # client 3 is no VM of the fleet
    process = server.spawn(paths.EMULATOR_SERVE + ["--listen", "0.0.0.0:80", "--config", str(tmp_path / "fleet.json")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    info = json.loads(process.stdout.readline())
    assert info["vms"] == ["vma", "vmb"]

    def ask(number: int, path: str) -> dict:
        url = "http://10.251.%d.1%s" % (number, path)
        return json.loads(clients[number - 1].run(paths.PYTHON, str(tmp_path / "client.py"), url).stdout)

    def control(*args: str) -> dict:
        return json.loads(server.run(COMMAND, *args, "--control", info["control"]).stdout)

    vma = ask(1, "/metadata/instance/compute?api-version=2021-02-01")["body"]
    vmb = ask(2, "/metadata/instance/compute?api-version=2021-02-01")["body"]
    assert (vma["name"], vma["zone"], vma["location"], vma["tagsList"]) == \
        ("vma", "1", "westeurope", [{"name": "role", "value": "web"}])  # a VM's tags replace the defaults'
    assert (vmb["name"], vmb["zone"], vmb["location"], vmb["tags"]) == ("vmb", "2", "westeurope", "team:shop")
    token = "/metadata/identity/oauth2/token?api-version=2021-02-01&resource=https://vault.azure.net"
    assert ask(1, token)["status"] == 200 and ask(2, token)["status"] == 400
    assert ask(3, "/metadata/versions") == {"status": 0, "error": "RemoteDisconnected"}

    control("event", "--vm", "vmb", "--type", "Preempt")
    events_path = "/metadata/scheduledevents?api-version=2020-07-01"
    assert [e["Resources"] for e in ask(2, events_path)["body"]["Events"]] == [["vmb"]]
    assert ask(1, events_path)["body"]["Events"] == []
    seen = control("requests", "--vm", "vma")["requests"]
    assert {r["client"] for r in seen} == {"10.251.1.2"} and {r["vm"] for r in seen} == {"vma"}
    assert len(control("requests")["requests"]) == len(seen) + 3  # vmb's three; client 3 got no VM, no record


# -- the Containerfile (no container engine here: it is checked, not built) -----------------------------

def containerfile() -> list:
    lines = (paths.ROOT / "emulator" / "Containerfile").read_text().splitlines()
    return [line.split(None, 1) for line in lines if line.strip() and not line.startswith("#")]


def test_the_containerfile_copies_what_exists_and_runs_the_command():
    instructions = containerfile()
    assert instructions[0][0] == "FROM" and instructions[0][1].startswith("docker.io/library/python:3.")
    for instruction, argument in instructions:
        if instruction == "COPY":
            *sources, _destination = argument.split()
            for source in sources:
                assert (paths.ROOT / "emulator" / source).exists(), "COPY %s: no such file in emulator/" % source
    [run] = [argument for instruction, argument in instructions if instruction == "RUN"]
    extras = run.split('"/build[')[1].split("]")[0].split(",")
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((paths.ROOT / "emulator" / "pyproject.toml").read_text())["project"]
    assert set(extras) == set(project["optional-dependencies"])
    entrypoint = json.loads(dict(instructions)["ENTRYPOINT"])
    command = json.loads(dict(instructions)["CMD"])
    assert entrypoint == list(project["scripts"])
    from azure_imds_emulator.cli import build_parser  # pylint: disable=import-outside-toplevel
    args = build_parser().parse_args(command)
    assert (args.command, args.listen, args.control) == ("serve", ("0.0.0.0", 80), ("0.0.0.0", 8081))
    assert dict(instructions)["EXPOSE"].split() == ["80", "8081"]


def readme_block(marker: str) -> list:
    text = (paths.ROOT / "emulator" / "README.md").read_text()
    blocks = text.split("```sh\n")[1:]
    [block] = [b.split("```")[0] for b in blocks if marker in b]
    return [line for line in block.splitlines() if line.strip()]


def test_the_readme_recipe_for_the_real_address_in_a_namespace(make_netns, tmp_path):
    """emulator/README.md's recipe for a namespace, with the test's own namespace for ``imds-lab``."""
    lab = make_netns("real")
    lines = [line.replace("imds-lab", lab.name) for line in readme_block("169.254.169.254/32 dev lo")]
    assert lines[0] == "ip netns add %s" % lab.name and lines[-1].startswith("ip netns del %s" % lab.name)
    (tmp_path / "vm.yml").write_text("vm: {name: at-the-real-address}\n")
    (tmp_path / "client.py").write_text(CLIENT)
    for line in lines[1:-1]:
        argv = shlex.split(line.rstrip("&"))
        if "serve" in argv:
            argv[argv.index("azure-imds-emulator")] = COMMAND
            argv[argv.index("vm.yml")] = str(tmp_path / "vm.yml")
            process = lab.spawn(argv[4:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            assert json.loads(process.stdout.readline())["url"] == "http://169.254.169.254:80"
        elif "ansible-playbook" in argv:  # the client: here a plain HTTP request from inside the namespace
            answer = lab.run(paths.PYTHON, str(tmp_path / "client.py"),
                             "http://169.254.169.254/metadata/instance/compute?api-version=2021-02-01")
            assert json.loads(answer.stdout)["body"]["name"] == "at-the-real-address", answer.stdout
        else:
            subprocess.run(argv, check=True, capture_output=True)


def oldest_python() -> str | None:
    """A working Python 3.9 (the package's requires-python), from pyenv or PATH (pyenv's shims may not run)."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [str(p) for p in sorted(root.glob("versions/3.9.*/bin/python3.9"))] + [shutil.which("python3.9")]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False).returncode == 0:
            return candidate
    return None


def test_the_package_runs_on_python_3_9_with_nothing_installed(tmp_path):
    python = oldest_python()
    if python is None:
        pytest.skip("no Python 3.9 here (PATH or pyenv)")
    (tmp_path / "vm.json").write_text(json.dumps({"vm": {"name": "old-python", "tags": {"a": "b"}}}))
    env = dict(os.environ, PYTHONPATH="%s:%s" % (paths.ROOT / "emulator" / "src", paths.NETGUARD_DIR))
    process = subprocess.Popen([python, "-m", "azure_imds_emulator", "serve",  # pylint: disable=consider-using-with
                                "--config", str(tmp_path / "vm.json")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        info = json.loads(process.stdout.readline())
        served = types.SimpleNamespace(url=info["url"])
        assert compute(served)["tagsList"] == [{"name": "a", "value": "b"}]
        added = session().post(info["control"] + "/events", json={"EventType": "Freeze"}, timeout=10).json()
        assert events(served)["Events"] == [added["event"]]
    finally:
        netns.stop_process(process)


def test_the_older_serve_flags_still_work(serve_emulator, tmp_path):
    """tests/emulator/serve.py's flags, as the package's serve takes them."""
    user = {"client_id": "11111111-2222-3333-4444-555555555555", "object_id": "aaaaaaaa-0000-0000-0000-000000000001",
            "msi_res_id": "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/"
                          "userAssignedIdentities/app"}
    (tmp_path / "identities.json").write_text(json.dumps({"systemAssigned": None, "userAssigned": [user]}))
    log, root = tmp_path / "requests.jsonl", tmp_path / "root.pem"
    served = serve_emulator(args=["--fault", "status=410,count=1", "--max-version", "2021-03-15",
                                  "--identities", str(tmp_path / "identities.json"), "--rate-limit-model", "served",
                                  "--write-root", str(root), "--request-log", str(log)])
    assert get(served, "/metadata/instance").status_code == 410
    assert max(get(served, "/metadata/versions").json()["apiVersions"]) == "2021-03-01"
    token = get(served, "/metadata/identity/oauth2/token", resource="https://vault.azure.net", **NEW).json()
    assert token["client_id"] == user["client_id"]
    assert root.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert [json.loads(line)["status"] for line in log.read_text().splitlines()] == [410, 200, 200]
    nobody = serve_emulator(args=["--no-identity", "--no-rate-limit"])
    assert get(nobody, "/metadata/identity/info", **NEW).status_code == 400
    assert {get(nobody, "/metadata/versions").status_code for _attempt in range(8)} == {200}
    assert cli("serve", "--fault", "colour=red", check=False).returncode == 2


def test_ipv6_listeners(serve_emulator):
    v6 = serve_emulator(args=["--listen", "[::1]:0", "--control", "[::1]:0"])
    assert v6.url.startswith("http://[::1]:") and v6.control.startswith("http://[::1]:")
    assert session().get(v6.control + "/vms", timeout=10).json() == {"vms": ["examplevmname"]}
    assert compute(v6)["name"] == "examplevmname"
