"""The emulator itself: IMDS behaviour from IMDS.md, and answers that validate against Microsoft's spec.

The client here is `requests` (controller-side), independent of the collection's own client.
"""

from __future__ import annotations

import json
import re
import subprocess

import jsonschema
import pytest
import requests
from azure_imds_emulator.server import ImdsEmulator
from helpers import netns, paths

HEADERS = {"Metadata": "true"}
SPEC = json.loads(paths.SPEC.read_text())


def schema(definition: str) -> dict:
    return {"definitions": SPEC["definitions"], "$ref": "#/definitions/%s" % definition}


def validate(data, definition: str) -> None:
    jsonschema.Draft4Validator(schema(definition)).validate(data)


def get(emulator, path: str, headers: dict | None = None, **params) -> requests.Response:
    headers = HEADERS if headers is None else headers
    session = requests.Session()
    session.trust_env = False  # no proxies from the environment for this test client either
    return session.get(emulator.url + path, params=params, headers=headers, timeout=10, allow_redirects=False)


def sample_profiles() -> list:
    profiles = []
    for folder in (paths.SAMPLES, paths.FIELD_SAMPLES):
        for path in sorted(folder.glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and "compute" in data:
                profiles.append(pytest.param(data, id=path.stem))
    return profiles


@pytest.mark.parametrize("profile", sample_profiles())
@pytest.mark.parametrize("how", ["in-process", "command"])
def test_instance_answers_validate_against_the_spec(make_emulator, serve_emulator, tmp_path, profile, how):
    if how == "command":  # the packaged command, as users run it
        (tmp_path / "profile.json").write_text(json.dumps(profile))
        emulator = serve_emulator(args=["--profile", str(tmp_path / "profile.json"), "--no-rate-limit"])
    else:
        emulator = make_emulator(profile=profile, rate_limit=None)
    whole = get(emulator, "/metadata/instance", **{"api-version": "2023-07-01"})
    assert whole.status_code == 200
    assert whole.headers["Content-Type"].startswith("application/json")
    validate(whole.json(), "Instance")
    validate(get(emulator, "/metadata/instance/compute", **{"api-version": "2023-07-01"}).json(), "Compute")
    validate(get(emulator, "/metadata/instance/network", **{"api-version": "2023-07-01"}).json(), "Network")


@pytest.mark.parametrize("how", ["in-process", "command"])
def test_other_answers_validate_against_the_spec(emulator, serve_emulator, how):
    if how == "command":
        emulator = serve_emulator({"rate_limit": {"per_second": None}})
    emulator.rate_limit = None
    version = {"api-version": "2023-07-01"}
    validate(get(emulator, "/metadata/versions").json(), "Versions")
    validate(get(emulator, "/metadata/attested/document", **version).json(), "AttestedData")
    token = get(emulator, "/metadata/identity/oauth2/token", resource="https://vault.azure.net", **version)
    validate(token.json(), "IdentityTokenResponse")
    validate(get(emulator, "/metadata/identity/info", **version).json(), "IdentityInfoResponse")
    validate(get(emulator, "/metadata/identity/oauth2/token", **version).json(), "IdentityErrorResponse")
    validate(get(emulator, "/metadata/instance").json(), "ErrorResponse")
    validate(get(emulator, "/metadata/instance", headers={}, **version).json(), "ErrorResponse")


def test_spec_examples_match(emulator):
    examples = paths.SHARED / "spec" / "examples-2023-07-01"
    versions = json.loads((examples / "GetVersions.json").read_text())["responses"]["200"]["body"]
    assert set(versions) == set(get(emulator, "/metadata/versions").json())
    info = json.loads((examples / "GetIdentityInfo.json").read_text())["responses"]["200"]["body"]
    assert get(emulator, "/metadata/identity/info", **{"api-version": "2023-07-01"}).json() == info


def test_missing_api_version_is_the_documented_400(emulator):
    documented = json.loads((paths.SAMPLES / "error-docs-missing-api-version-2025.json").read_text())
    answer = get(emulator, "/metadata/instance")
    assert answer.status_code == 400
    assert answer.json() == documented
    assert get(emulator, "/metadata/instance", **{"api-version": "2099-01-01"}).json() == documented


@pytest.mark.parametrize("headers, params, status", [
    ({}, {}, 400),
    ({"Metadata": "false"}, {}, 400),
    ({"Metadata": "true", "X-Forwarded-For": "10.0.0.1"}, {}, 400),
    ({"Metadata": "True"}, {}, 200),
])
def test_request_headers(emulator, headers, params, status):
    answer = get(emulator, "/metadata/instance", headers=headers, **{"api-version": "2021-02-01"}, **params)
    assert answer.status_code == status
    if status == 400 and "X-Forwarded-For" not in headers:
        assert answer.json() == {"error": "Bad request. Required metadata header not specified"}


def test_duplicate_query_parameters_are_refused(emulator):
    answer = requests.get(emulator.url + "/metadata/instance?api-version=2021-02-01&api-version=2021-02-01",
                          headers=HEADERS, timeout=10)
    assert answer.status_code == 400


def test_json_text_and_leaf_rules(emulator):
    emulator.rate_limit = None
    version = {"api-version": "2021-02-01"}
    assert get(emulator, "/metadata/instance/compute/vmId", **version).status_code == 400
    assert get(emulator, "/metadata/instance/compute/vmId", format="json", **version).status_code == 400
    leaf = get(emulator, "/metadata/instance/compute/vmId", format="text", **version)
    assert leaf.text == "02aab8a4-74ef-476e-8182-f6d2ba4166a6"
    assert leaf.headers["Content-Type"].startswith("text/plain")
    keys = get(emulator, "/metadata/instance", format="text", **version).text
    assert keys.splitlines() == ["compute", "network"]
    public_ip = get(emulator, "/metadata/instance/network/interface/0/ipv4/ipAddress/0/publicIpAddress",
                    format="text", **version)
    assert public_ip.status_code == 200 and public_ip.text == ""
    assert get(emulator, "/metadata/instance/network/interface/9", **version).status_code == 404
    assert get(emulator, "/metadata/instance", format="xml", **version).status_code == 400
    assert get(emulator, "/metadata/attested/document", format="text", **version).status_code == 400


def test_array_nodes_are_bare_arrays(make_emulator):
    profile = json.loads((paths.FIELD_SAMPLES / "cloudinit-network-metadata.json").read_text())
    profile["compute"]["tagsList"] = json.loads((paths.SAMPLES / "docs-tagslist-linux.json").read_text())
    emulator = make_emulator(profile=profile)
    answer = get(emulator, "/metadata/instance/compute/tagsList", **{"api-version": "2019-06-04"})
    assert answer.json() == profile["compute"]["tagsList"]


def test_fields_newer_than_the_version_are_not_returned(make_emulator):
    profile = {"compute": json.loads((paths.SAMPLES / "docs-compute-linux-2025-04-07.json").read_text()),
               "network": json.loads((paths.SAMPLES / "docs-network-ipv6.json").read_text())}
    emulator = make_emulator(profile=profile, rate_limit=None)

    def compute(version: str) -> dict:
        return get(emulator, "/metadata/instance/compute", **{"api-version": version}).json()

    assert "physicalZone" not in compute("2023-07-01")
    assert compute("2023-11-15")["physicalZone"] == "useast-AZ01"
    old = compute("2017-04-02")
    assert {"location", "name", "vmId", "vmSize", "platformFaultDomain"} <= set(old)
    for newer in ("zone", "tags", "subscriptionId", "azEnvironment", "storageProfile", "osProfile"):
        assert newer not in old
    assert "disablePasswordAuthentication" not in compute("2020-09-01")["osProfile"]
    assert "disablePasswordAuthentication" in compute("2020-10-01")["osProfile"]


def test_not_found_and_method_not_allowed(emulator):
    emulator.rate_limit = None
    version = {"api-version": "2021-02-01"}
    assert get(emulator, "/metadata/nothing", **version).status_code == 404
    assert get(emulator, "/other", **version).status_code == 404
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        answer = requests.request(method, emulator.url + "/metadata/instance", params=version, headers=HEADERS,
                                  timeout=10)
        assert answer.status_code == 405, method
    assert get(emulator, "/metadata/loadbalancer", **{"api-version": "2020-09-01"}).status_code == 400
    assert get(emulator, "/metadata/loadbalancer", **{"api-version": "2020-10-01"}).status_code == 200


def test_rate_limit_is_five_per_second_per_client(emulator):
    statuses = [get(emulator, "/metadata/versions").status_code for _attempt in range(7)]
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429, 429]


def test_identity_allows_twenty_per_second(emulator):
    statuses = [get(emulator, "/metadata/identity/info", **{"api-version": "2021-02-01"}).status_code
                for _attempt in range(21)]
    assert statuses[:20] == [200] * 20 and statuses[20] == 429


def test_attested_document_nonce_and_versions(emulator, tmp_path):
    emulator.rate_limit = None
    content = emulator.attested_content("2018-10-01", None)
    assert re.match(r"^\d{8}-\d{6}$", content["nonce"])
    assert "sku" not in content and "subscriptionId" not in content
    assert {"sku", "subscriptionId", "licenseType"} <= set(emulator.attested_content("2021-02-01", "x"))
    assert get(emulator, "/metadata/attested/document", nonce="x" * 33,
               **{"api-version": "2021-02-01"}).status_code == 400
    assert get(emulator, "/metadata/attested/document", **{"api-version": "2018-04-02"}).status_code == 400
    signature = get(emulator, "/metadata/attested/document", nonce="abc",
                    **{"api-version": "2021-02-01"}).json()["signature"]
    der = tmp_path / "doc.der"
    der.write_bytes(__import__("base64").b64decode(signature))
    root = tmp_path / "root.pem"
    emulator.pki.write_root(str(root))
    verified = subprocess.run(["openssl", "cms", "-verify", "-inform", "DER", "-in", str(der), "-CAfile", str(root),
                               "-purpose", "any", "-certsout", str(tmp_path / "certs.pem")],
                              capture_output=True, check=False)
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["nonce"] == "abc"
    subjects = subprocess.run(["openssl", "crl2pkcs7", "-nocrl", "-certfile", str(tmp_path / "certs.pem")],
                              capture_output=True, check=True).stdout
    printed = subprocess.run(["openssl", "pkcs7", "-print_certs", "-noout"], input=subjects, capture_output=True,
                             check=True).stdout.decode()
    assert "CN=metadata.azure.com" in printed.replace(" = ", "=")
    other_root = ImdsEmulator().pki
    (tmp_path / "other.pem").write_bytes(other_root.root_pem())
    refused = subprocess.run(["openssl", "cms", "-verify", "-inform", "DER", "-in", str(der),
                              "-CAfile", str(tmp_path / "other.pem"), "-purpose", "any"],
                             capture_output=True, check=False)
    assert refused.returncode != 0


def test_scheduled_events_lifecycle(emulator):
    emulator.rate_limit = None
    version = {"api-version": "2020-07-01"}
    empty = get(emulator, "/metadata/scheduledevents", **version).json()
    assert empty["Events"] == []
    event = emulator.events.schedule("Freeze", resources=["WestNO_0", "WestNO_1"], duration=5)
    scheduled = get(emulator, "/metadata/scheduledevents", **version).json()
    assert scheduled["DocumentIncarnation"] == empty["DocumentIncarnation"] + 1
    assert scheduled["Events"][0]["EventStatus"] == "Scheduled" and scheduled["Events"][0]["NotBefore"]
    body = {"StartRequests": [{"EventId": event["EventId"]}]}
    url = emulator.url + "/metadata/scheduledevents"
    for _attempt in range(2):  # approving again is accepted
        assert requests.post(url, params=version, headers=HEADERS, json=body, timeout=10).status_code == 200
    started = get(emulator, "/metadata/scheduledevents", **version).json()
    assert started["Events"][0]["EventStatus"] == "Started" and started["Events"][0]["NotBefore"] == ""
    assert started["DocumentIncarnation"] == scheduled["DocumentIncarnation"] + 1
    bad = {"StartRequests": [{"EventId": "no-such-event"}]}
    assert requests.post(url, params=version, headers=HEADERS, json=bad, timeout=10).status_code == 400
    assert requests.post(url, params=version, headers=HEADERS, data="junk", timeout=10).status_code == 400
    emulator.events.complete(event["EventId"])
    assert get(emulator, "/metadata/scheduledevents", **version).json()["Events"] == []
    assert get(emulator, "/metadata/scheduledevents", **{"api-version": "2021-02-01"}).status_code == 400


def test_command_line_emulator(tmp_path):
    profile = paths.FIELD_SAMPLES / "wala-valid.json"
    root = tmp_path / "root.pem"
    log = tmp_path / "requests.jsonl"
    process = subprocess.Popen(  # pylint: disable=consider-using-with
        [*paths.EMULATOR_SERVE, "--bind", "127.0.0.1:0", "--profile", str(profile),
         "--fault", "status=500,count=1", "--write-root", str(root), "--request-log", str(log)],
        stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(process.stdout.readline())
        assert info["pid"] == process.pid
        session = requests.Session()
        session.trust_env = False
        url = info["url"] + "/metadata/instance"
        assert session.get(url, params={"api-version": "2021-02-01"}, headers=HEADERS, timeout=10).status_code == 500
        answer = session.get(url, params={"api-version": "2021-02-01"}, headers=HEADERS, timeout=10)
        assert answer.json() == json.loads(profile.read_text())
        assert root.read_text().startswith("-----BEGIN CERTIFICATE-----")
        assert [json.loads(line)["status"] for line in log.read_text().splitlines()] == [500, 200]
    finally:
        netns.stop_process(process)
    assert process.returncode == 0
