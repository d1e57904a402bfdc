"""The /metadata/instance category: api-version filtering, route parameters, json/text output."""

from __future__ import annotations

import copy
import json
from pathlib import Path

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"
DEFAULT_PROFILE = PROFILE_DIR / "seed-example-vm.json"

INSTANCE_SINCE = "2017-04-02"

# The version that introduced each field, from the seeds' schema tables (and
# IMDS.md for physicalZone). Fields not listed are returned at every version.
FIELD_SINCE = {
    "compute.azEnvironment": "2018-10-01",
    "compute.customData": "2019-02-01",
    "compute.evictionPolicy": "2020-12-01",
    "compute.isHostCompatibilityLayerVm": "2020-06-01",
    "compute.licenseType": "2020-09-01",
    "compute.osProfile": "2020-07-15",
    "compute.osProfile.disablePasswordAuthentication": "2020-10-01",
    "compute.placementGroupId": "2017-08-01",
    "compute.plan": "2018-04-02",
    "compute.priority": "2020-12-01",
    "compute.provider": "2018-10-01",
    "compute.publicKeys": "2018-04-02",
    "compute.resourceGroupName": "2017-08-01",
    "compute.resourceId": "2019-03-11",
    "compute.securityProfile": "2020-06-01",
    "compute.storageProfile": "2019-06-01",
    "compute.subscriptionId": "2017-08-01",
    "compute.tags": "2017-08-01",
    "compute.tagsList": "2019-06-04",
    "compute.userData": "2021-01-01",
    "compute.vmScaleSetName": "2017-12-01",
    "compute.zone": "2017-12-01",
    "compute.physicalZone": "2023-11-15",
}


class RouteError(Exception):
    """A route parameter names nothing in the document (IMDS answers 404)."""


def load_profile(path: str | Path | None = None) -> dict:
    """Read an /metadata/instance document; the default is the seeds' example VM."""
    with open(path or DEFAULT_PROFILE, encoding="utf-8") as handle:
        document = json.load(handle)
    if not isinstance(document, dict):
        raise ValueError("%s is not a JSON object" % path)
    return document


def filter_for_version(document: dict, api_version: str) -> dict:
    """Drop the fields that ``api_version`` predates."""
    return _filter(copy.deepcopy(document), "", api_version)


def _filter(node, prefix: str, api_version: str):
    if isinstance(node, dict):
        kept = {}
        for key, value in node.items():
            dotted = prefix + key
            since = FIELD_SINCE.get(dotted)
            if since is not None and api_version < since:
                continue
            kept[key] = _filter(value, dotted + ".", api_version)
        return kept
    return node


def navigate(document, route: list):
    """Follow route parameters (keys and array indexes) into the document."""
    node = document
    for segment in route:
        if isinstance(node, dict) and segment in node:
            node = node[segment]
        elif isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
            node = node[int(segment)]
        else:
            raise RouteError(segment)
    return node


def is_leaf(node) -> bool:
    return not isinstance(node, (dict, list))


def render_text(node) -> str:
    """format=text: a leaf is its bare value, an object one key per line, an array one index per line."""
    if isinstance(node, dict):
        return "\n".join(node)
    if isinstance(node, list):
        return "\n".join(str(index) for index in range(len(node)))
    return "" if node is None else str(node)
