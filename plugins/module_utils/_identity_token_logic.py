# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""The logic of imds.azure.identity_token: one managed identity token, described without its secrets in errors."""

from typing import Optional

import datetime

from ansible_collections.imds.azure.plugins.module_utils._client import ImdsClient, ImdsResult
from ansible_collections.imds.azure.plugins.module_utils._errors import ImdsBadResponseError, ImdsRequestError
from ansible_collections.imds.azure.plugins.module_utils._module_adapter import (
    ModuleEntry,
    client_argument_spec,
    client_from_params,
)

IDENTITY_API_VERSION = "2018-02-01"
SELECTORS = ("client_id", "object_id", "msi_res_id")


def request_token(client: ImdsClient, resource: str, client_id: Optional[str] = None, object_id: Optional[str] = None,
                  msi_res_id: Optional[str] = None) -> ImdsResult:
    """GET /metadata/identity/oauth2/token for ``resource``, as the one identity chosen (or the only one)."""
    identities = {"client_id": client_id, "object_id": object_id, "msi_res_id": msi_res_id}
    chosen = {name: value for name, value in identities.items() if value}
    if len(chosen) > 1:
        raise ImdsRequestError("client_id, object_id and msi_res_id are mutually exclusive; got %s."
                               % ", ".join(sorted(chosen)))
    if not resource:
        raise ImdsRequestError("An identity token needs a resource, for example https://management.azure.com/.")
    params = {"resource": resource}
    params.update(chosen)
    return client.get("identity/oauth2/token", params=params)


def _integer(token: dict, key: str, url: str) -> int:
    """IMDS sends numbers in the token answer as strings; say which field is wrong, never its value."""
    try:
        return int(str(token.get(key)).strip())
    except ValueError:
        raise ImdsBadResponseError("The identity token answer from %s has no integer %s field." % (url, key),
                                   url=url)


def describe_token(token, url: str, api_version: str) -> dict:
    """The module result for one token answer (``token`` is the parsed JSON)."""
    if not isinstance(token, dict) or not isinstance(token.get("access_token"), str) or not token["access_token"]:
        raise ImdsBadResponseError("The identity token answer from %s has no access_token field." % url, url=url)
    expires_on = _integer(token, "expires_on", url)
    result = {
        "access_token": token["access_token"],
        "token_type": str(token.get("token_type") or "Bearer"),
        "resource": str(token.get("resource", "")),
        "expires_on_epoch": expires_on,
        "expires_on": datetime.datetime.fromtimestamp(expires_on, tz=datetime.timezone.utc).isoformat(),
        "expires_in": _integer(token, "expires_in", url),
        "api_version": api_version,
    }
    if isinstance(token.get("client_id"), str):
        result["client_id"] = token["client_id"]
    return result


def argument_spec() -> dict:
    spec = client_argument_spec(api_version_default=IDENTITY_API_VERSION)
    spec.update(
        resource=dict(type="str", required=True),
        client_id=dict(type="str"),
        object_id=dict(type="str"),
        msi_res_id=dict(type="str"),
    )
    return spec


def run(params: dict, check_mode: bool, context: dict) -> dict:  # pylint: disable=unused-argument
    """The module result for validated ``params``; raises ImdsError (whose messages never quote the answer)."""
    client = client_from_params(params, **context)
    answer = request_token(client, params["resource"], **dict((key, params[key]) for key in SELECTORS))
    result = describe_token(answer.data, answer.url, answer.api_version)
    result["changed"] = False
    return result


ENTRY = ModuleEntry(argument_spec=argument_spec, run=run, rules=dict(mutually_exclusive=[SELECTORS]))
