"""The path table: one rule per path, longest prefix first; and what the client takes from it."""

from __future__ import annotations

import pytest
from ansible_collections.imds.azure.plugins.module_utils import _errors
from ansible_collections.imds.azure.plugins.module_utils._api_versions import SCHEDULED_EVENTS_API_VERSIONS
from ansible_collections.imds.azure.plugins.module_utils._client import ImdsClient
from ansible_collections.imds.azure.plugins.module_utils._path_rules import (
    version_for_request,
    SECRET_TOKEN,
    SECRET_USER_DATA,
    UNKNOWN_CATEGORY_RULE,
    rule_for,
    rule_for_path,
    strip_user_data,
)
from ansible_collections.imds.azure.plugins.module_utils._identity_token_logic import request_token
from azure_imds_emulator.faults import Fault


@pytest.mark.parametrize("path, version, text, secret, retry_404", [
    ("/metadata/versions", None, False, "", False),
    ("/metadata/instance", "2025-04-07", True, "", False),
    ("/metadata/instance/network/interface/0/macAddress", "2025-04-07", True, "", False),
    ("/metadata/instance/compute/userData", "2025-04-07", True, SECRET_USER_DATA, False),
    ("/metadata/instance/compute/customData", "2025-04-07", True, SECRET_USER_DATA, False),
    ("/metadata/identity/info", "2025-04-07", False, "", True),
    ("/metadata/identity/oauth2/token", "2025-04-07", False, SECRET_TOKEN, True),
    ("/metadata/scheduledevents", "2020-07-01", False, "", False),
    ("/metadata/loadbalancer", "2025-04-07", False, "", False),
    ("/metadata/attested/document", "2025-04-07", False, "", False),
])
def test_rules(path, version, text, secret, retry_404):
    rule = rule_for_path(path)
    assert (rule.default_version, rule.text_format, rule.secret, rule.retry_not_found) == (
        version, text, secret, retry_404)


def test_identity_paths_are_private_and_others_not():
    assert rule_for(("identity", "info")).private and rule_for(("identity", "oauth2", "token")).private
    assert rule_for(("instance", "compute", "userData")).private
    assert not rule_for(("instance", "compute")).private
    assert rule_for(("scheduledevents",)).known_versions == SCHEDULED_EVENTS_API_VERSIONS
    assert rule_for(("somethingNew",)) is UNKNOWN_CATEGORY_RULE


def test_strip_user_data_keeps_the_rest():
    document = {"compute": {"vmId": "v", "userData": "c2VjcmV0", "customData": "x"}, "network": {}}
    assert strip_user_data(document, ("instance",)) == {"compute": {"vmId": "v"}, "network": {}}
    assert strip_user_data(document["compute"], ("instance", "compute")) == {"vmId": "v"}
    assert document["compute"]["userData"] == "c2VjcmV0"  # the original is untouched


def test_client_takes_versions_and_404_retry_from_the_table(make_emulator, clock):
    emulator = make_emulator(clock=clock)
    client = ImdsClient(endpoint=emulator.url, clock=clock, sleep=clock.sleep)
    emulator.add_fault(Fault(status=404, path="/metadata/identity/info", count=1))
    assert client.get("identity/info").data["tenantId"]
    assert [r.status for r in emulator.requests] == [404, 200]
    # 404 elsewhere is final.
    with pytest.raises(_errors.ImdsNotFoundError):
        client.get("loadbalancer/nothing")


@pytest.mark.parametrize("fault", [
    Fault(kind="malformed", path="/metadata/identity"),
    Fault(kind="html", path="/metadata/identity"),
    Fault(status=500, path="/metadata/identity"),
    Fault(kind="raw", path="/metadata/identity", body=b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
          b"Connection: close\r\n\r\n" b'{"access_token": "examplevmname-secret", "expires_in": NaN}'),
])
def test_errors_from_identity_paths_quote_nothing(emulator, fault):
    emulator.add_fault(fault)
    client = ImdsClient(endpoint=emulator.url, max_retry_time=0)
    with pytest.raises(_errors.ImdsError) as caught:
        request_token(client, "https://management.azure.com/")
    message = str(caught.value)
    assert "not quoted" in message and "/metadata/identity/oauth2/token" in message
    for quoted in ("examplevmname", "corporate-proxy", "Internal server error"):
        assert quoted not in message
    assert caught.value.body is None


def test_identity_not_found_is_named(make_emulator):
    emulator = make_emulator(identity=False)
    with pytest.raises(_errors.ImdsBadRequestError, match="Identity not found.*client_id, object_id or msi_res_id"):
        request_token(ImdsClient(endpoint=emulator.url), "https://management.azure.com/")


@pytest.mark.parametrize("path, requested, sent", [
    ("scheduledevents", "2021-02-01", "2020-07-01"),   # an instance version set for the whole group
    ("scheduledevents", "2019-08-01", "2019-08-01"),
    ("scheduledevents", None, "2020-07-01"),
    ("scheduledevents", "2031-01-01", "2031-01-01"),   # unknown here: IMDS decides (and a fallback warns)
    ("instance/compute", "2021-02-01", "2021-02-01"),
    ("instance/compute", "2019-01-01", "2025-04-07"),  # a scheduled events version only
])
def test_version_for_request(path, requested, sent):
    assert version_for_request(rule_for(path.split("/")), requested) == sent
