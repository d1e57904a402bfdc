"""Tag parsing: tagsList first, then the `name:value;...` string split on the FIRST colon."""

from __future__ import annotations

import json

import pytest
from ansible_collections.imds.azure.plugins.module_utils._tags import (
    parse_tags_list,
    parse_tags_string,
    tags_from_compute,
)
from helpers import paths


@pytest.mark.parametrize("raw, expected", [
    ("", {}),
    ("baz:bash;foo:bar", {"baz": "bash", "foo": "bar"}),
    ("Department:IT;ReferenceNumber:123456;TestStatus:Pending",
     {"Department": "IT", "ReferenceNumber": "123456", "TestStatus": "Pending"}),
    ("aks-managed-orchestrator:Kubernetes:1.25.6", {"aks-managed-orchestrator": "Kubernetes:1.25.6"}),
    ("url:http://example.com:8080/x", {"url": "http://example.com:8080/x"}),
    ("flag;empty:;:novalue;;", {"flag": "", "empty": ""}),
    ("name:värde;名前:値", {"name": "värde", "名前": "値"}),
])
def test_tags_string(raw, expected):
    assert parse_tags_string(raw) == expected


def test_tags_string_cannot_recover_semicolons_in_values():
    # Documented limitation of the string form; tagsList exists for this.
    assert parse_tags_string("note:a;b") == {"note": "a", "b": ""}


def test_tags_list_skips_malformed_items():
    items = [{"name": "Role", "value": "web"}, "junk", {"name": ""}, {"value": "x"},
             {"name": "n", "value": None}, {"name": "count", "value": 3}, {"name": 5, "value": "x"}]
    assert parse_tags_list(items) == {"Role": "web", "n": "", "count": "3"}


def test_tags_list_wins_when_not_empty():
    compute = {"tags": "a:1", "tagsList": [{"name": "a", "value": "1;with;semicolons"}]}
    assert tags_from_compute(compute) == {"a": "1;with;semicolons"}


def test_empty_tags_list_falls_back_to_string():
    # beats-aks-vmss-compute.json: tagsList [] while tags is not empty.
    compute = json.loads((paths.FIELD_SAMPLES / "beats-aks-vmss-compute.json").read_text())
    tags = tags_from_compute(compute)
    assert tags["aks-managed-orchestrator"] == "Kubernetes:1.25.6"
    assert tags["aks-managed-poolName"] == "agentpool"
    assert len(tags) == 7


@pytest.mark.parametrize("compute", [{}, {"tags": None}, {"tags": 5, "tagsList": "x"}, {"tagsList": [{}]}])
def test_missing_or_wrong_types_give_no_tags(compute):
    assert tags_from_compute(compute) == {}
