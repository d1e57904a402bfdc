# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""The logic of imds.azure.metadata_info: one read of any IMDS path, as the path table allows."""

from typing import Sequence

from ansible_collections.imds.azure.plugins.module_utils._client import metadata_path
from ansible_collections.imds.azure.plugins.module_utils._errors import (
    ImdsApiVersionError,
    ImdsBadRequestError,
    ImdsRequestError,
)
from ansible_collections.imds.azure.plugins.module_utils._module_adapter import (
    ModuleEntry,
    client_argument_spec,
    client_from_params,
)
from ansible_collections.imds.azure.plugins.module_utils._path_rules import (
    SECRET_USER_DATA,
    PathRule,
    rule_for,
    segments_of,
    strip_user_data,
    version_for_request,
)


# Keys of the instance document whose value is an object or an array (Microsoft's OpenAPI file for
# 2023-07-01 and the 2025-04-07 documentation sample). Below compute and network every other key holds
# one value (a leaf), which IMDS returns only with format=text; array elements are all objects.
INSTANCE_CONTAINER_KEYS = frozenset((
    "additionalCapabilities", "dataDisks", "diffDiskSettings", "diskEncryptionKey", "encryptionSettings",
    "extendedLocation", "host", "hostGroup", "image", "imageReference", "interface", "ipAddress", "ipv4",
    "ipv6", "keyEncryptionKey", "managedDisk", "osDisk", "osProfile", "plan", "publicKeys", "resourceDisk",
    "securityProfile", "sourceVault", "storageProfile", "subnet", "tagsList", "vhd", "virtualMachineScaleSet",
))


def may_be_leaf(rule: PathRule, segments: Sequence[str]) -> bool:
    """Could this path (of ``rule``) name a single value, which IMDS returns only as text?

    ``instance`` and ``instance/compute|network`` are objects; anything deeper may be a leaf.
    """
    return rule.text_format and len(segments) > 2


def format_for(rule: PathRule, segments: Sequence[str]) -> str:
    """The format a path needs: ``text`` for an instance path that names one value, ``json`` otherwise.

    A key this table does not know is taken for a leaf: IMDS adds single values far more often than objects.
    """
    if not may_be_leaf(rule, segments):
        return "json"
    last = str(segments[-1])
    return "json" if last.isdigit() or last in INSTANCE_CONTAINER_KEYS else "text"


def check_request(segments: tuple, rule, fmt: str, query: dict, include_user_data: bool) -> None:
    """Refuse, before sending anything, what the path table says IMDS or this module will not do."""
    if "format" in query:
        raise ImdsRequestError("Set the answer format with the format option, not in query.")
    if fmt == "text" and not rule.text_format:
        raise ImdsRequestError("format=text exists only for instance paths; %s answers JSON, so use format: json."
                               % "/".join(segments))
    if rule.secret == SECRET_USER_DATA and not include_user_data:
        raise ImdsRequestError(
            "%s is user data, which often holds secrets (bootstrap keys, join tokens). Set include_user_data: true "
            "to read it; the result is then hidden from task output." % "/".join(segments))


def leaf_hint(error: ImdsBadRequestError, rule: PathRule, segments: tuple, fmt: str) -> ImdsBadRequestError:
    """Add "use format=text" to a 400 on an instance path that may be a leaf."""
    if fmt == "json" and may_be_leaf(rule, segments) and "format=text" not in error.message:
        error.message += (" %s may be a single value (a leaf); IMDS returns leaves only with format=text, "
                          "so set format: text." % "/".join(segments))
    return error


def argument_spec() -> dict:
    spec = client_argument_spec(api_version_default=None)
    spec.update(
        path=dict(type="str", required=True),
        format=dict(type="str", choices=["json", "text"]),
        query=dict(type="dict", default={}),
        include_user_data=dict(type="bool", default=False),
    )
    return spec


def run(params: dict, check_mode: bool, context: dict) -> dict:  # pylint: disable=unused-argument
    """The module result for validated ``params``; raises ImdsError (the ``ModuleEntry`` contract).

    The path's rule (``_path_rules``), found once, gives the api-version and, through ``format_for``, the format.
    """
    segments = segments_of(metadata_path(params["path"]))
    rule = rule_for(segments)
    fmt = params["format"] or format_for(rule, segments)
    query = dict(params["query"])
    check_request(segments, rule, fmt, query, params["include_user_data"])
    if rule.text_format:
        query["format"] = fmt
    client = client_from_params(params, **context)
    try:
        result = client.get(list(segments), params=query, api_version=version_for_request(rule, params["api_version"]),
                            expect=fmt)
    except ImdsApiVersionError:
        raise
    except ImdsBadRequestError as exc:
        raise leaf_hint(exc, rule, segments, fmt)
    output = dict(changed=False, url=result.url, api_version=result.api_version, status=result.status, format=fmt)
    if fmt == "text":
        output["text"] = result.text
    elif rule.contains_user_data and not params["include_user_data"]:
        output["data"] = strip_user_data(result.data, segments)
    else:
        output["data"] = result.data
    return output


ENTRY = ModuleEntry(argument_spec=argument_spec, run=run, rules={})
