"""The emulator held to real managed-identity clients: azure-identity's ManagedIdentityCredential and
msal's ManagedIdentityClient (test-only requirements), pointed at the emulator on loopback with the
endpoint variable both document (AZURE_POD_IDENTITY_AUTHORITY_HOST), never at the real address."""

from __future__ import annotations

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CredentialUnavailableError, ManagedIdentityCredential
import msal

from azure_imds_emulator.identities import Identities

USER = {"client_id": "11111111-2222-3333-4444-555555555555", "object_id": "aaaaaaaa-0000-0000-0000-000000000001",
        "msi_res_id": "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/"
                      "userAssignedIdentities/app"}
SYSTEM = {"client_id": "be5947ed-3560-4afe-9504-59967a63f810", "object_id": "0f6a3c9e-3a43-4e63-9c4e-8b0a6f0b1c11"}
OTHER_CLIENT_ID = "99999999-9999-9999-9999-999999999999"
# Variables that would send either library to another managed-identity source than IMDS.
OTHER_SOURCES = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT", "MSI_SECRET",
                 "IMDS_ENDPOINT", "AZURE_FEDERATED_TOKEN_FILE", "APPSETTING_WEBSITE_SITE_NAME")


@pytest.fixture(params=["in-process", "command"])
def vm(request, make_emulator, serve_emulator, monkeypatch):
    if request.param == "command":  # the packaged command, as users run it
        emulator = serve_emulator({"identities": {"systemAssigned": SYSTEM, "userAssigned": [USER]}})
    else:
        emulator = make_emulator(identities=Identities(SYSTEM, [USER]))
    for name in OTHER_SOURCES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", emulator.url)
    return emulator


def last_token_request(emulator):
    return emulator.requests_to("/metadata/identity/oauth2/token")[-1]


@pytest.mark.parametrize("kwargs, expected", [
    ({}, SYSTEM["client_id"]),
    ({"client_id": USER["client_id"]}, USER["client_id"]),
    ({"identity_config": {"object_id": USER["object_id"]}}, USER["client_id"]),
    # azure-identity names it resource_id and sends it to IMDS as msi_res_id.
    ({"identity_config": {"resource_id": USER["msi_res_id"]}}, USER["client_id"]),
])
def test_azure_identity(vm, kwargs, expected):
    credential = ManagedIdentityCredential(**kwargs)
    token = credential.get_token("https://vault.azure.net/.default")
    assert token.token in vm.identities.issued_tokens
    request = last_token_request(vm)
    assert request.headers["metadata"] == "true" and dict(request.query)["resource"] == "https://vault.azure.net"
    assert token.expires_on > 0 and _appid_of(token.token) == expected
    selectors = {name for name, _value in request.query} & {"client_id", "object_id", "msi_res_id"}
    assert len(selectors) == (0 if expected == SYSTEM["client_id"] else 1)


def test_azure_identity_unknown_identity(vm):
    credential = ManagedIdentityCredential(client_id=OTHER_CLIENT_ID)
    with pytest.raises((CredentialUnavailableError, ClientAuthenticationError)) as caught:
        credential.get_token("https://vault.azure.net/.default")
    assert last_token_request(vm).status == 400
    assert "identity" in str(caught.value).lower()


@pytest.mark.parametrize("identity, expected", [
    (msal.SystemAssignedManagedIdentity(), SYSTEM["client_id"]),
    (msal.UserAssignedManagedIdentity(client_id=USER["client_id"]), USER["client_id"]),
    (msal.UserAssignedManagedIdentity(object_id=USER["object_id"]), USER["client_id"]),
    (msal.UserAssignedManagedIdentity(resource_id=USER["msi_res_id"]), USER["client_id"]),
])
def test_msal(vm, identity, expected):
    with requests.Session() as session:
        session.trust_env = False
        client = msal.ManagedIdentityClient(identity, http_client=session)
        result = client.acquire_token_for_client(resource="https://management.azure.com/")
    assert "access_token" in result, result
    assert result["access_token"] in vm.identities.issued_tokens and _appid_of(result["access_token"]) == expected


def test_msal_unknown_identity(vm):
    with requests.Session() as session:
        session.trust_env = False
        client = msal.ManagedIdentityClient(msal.UserAssignedManagedIdentity(client_id=OTHER_CLIENT_ID),
                                            http_client=session)
        result = client.acquire_token_for_client(resource="https://management.azure.com/")
    assert result.get("error") == "invalid_request" and "Identity not found" in result.get("error_description", "")


def _appid_of(token: str) -> str:
    import base64  # pylint: disable=import-outside-toplevel
    import json  # pylint: disable=import-outside-toplevel

    claims = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["appid"]
