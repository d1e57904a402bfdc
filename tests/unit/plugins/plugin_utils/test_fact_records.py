"""Fact records: the shapes the inventory plugin accepts, and what it refuses."""

from __future__ import annotations

import json

import pytest
from ansible_collections.imds.azure.plugins.plugin_utils._fact_records import (
    FactRecordError,
    checked_fact,
    fact_from_cache_entry,
    fact_from_file_data,
    flat_hostvars,
    valid_host_name,
)
from helpers import paths

DOCUMENT = json.loads((paths.FIELD_SAMPLES / "cloudinit-derived-three-nics.json").read_text())


def test_raw_document_becomes_a_fact_without_user_data():
    document = dict(DOCUMENT, compute=dict(DOCUMENT["compute"], userData="c2VjcmV0"))
    fact = fact_from_file_data(document)
    assert "userData" not in fact["compute"] and fact["api_version"] is None
    assert fact["network"] == DOCUMENT["network"]


def test_tree_output_and_fact_files():
    fact = fact_from_file_data(DOCUMENT)
    assert fact_from_file_data({"ansible_facts": {"azure_imds": fact}, "changed": False}) == fact
    assert fact_from_file_data(fact) == fact
    with pytest.raises(FactRecordError, match="failed run: boom"):
        fact_from_file_data({"failed": True, "msg": "boom"})
    with pytest.raises(FactRecordError, match="no ansible_facts.azure_imds"):
        fact_from_file_data({"ansible_facts": {"other": 1}})
    with pytest.raises(FactRecordError, match="neither"):
        fact_from_file_data({"hello": "world"})
    with pytest.raises(FactRecordError, match="JSON list"):
        fact_from_file_data([1])


def test_cache_entries():
    assert fact_from_cache_entry({"ansible_os_family": "Debian"}) is None
    with pytest.raises(FactRecordError, match="not an object of facts"):
        fact_from_cache_entry("text")
    with pytest.raises(FactRecordError, match="azure_imds.network is a JSON list"):
        fact_from_cache_entry({"azure_imds": {"compute": {}, "network": []}})
    with pytest.raises(FactRecordError, match="neither compute nor network"):
        fact_from_cache_entry({"azure_imds": {"tags": {}}})


def test_malformed_tags_are_rebuilt_from_compute():
    fact = checked_fact({"compute": {"tags": "a:1;b:2:3"}, "tags": {"x": 5}})
    assert fact["tags"] == {"a": "1", "b": "2:3"}


def test_flat_hostvars_survive_missing_and_odd_fields():
    hostvars = flat_hostvars({"compute": {"zone": 1, "location": None}, "network": {"interface": [None]}, "tags": {}})
    assert hostvars["azure_zone"] == "" and hostvars["azure_location"] == "" and hostvars["azure_tags"] == {}
    fact = fact_from_file_data(DOCUMENT)
    full = flat_hostvars(fact)
    assert full == {"azure_imds": fact, "azure_location": "eastus2", "azure_zone": "",
                    "azure_fault_domain": "0", "azure_update_domain": "0", "azure_tags": {}}


@pytest.mark.parametrize("name, ok", [("web1", True), ("web1.example.com", True), ("10.0.0.4", True),
                                      ("[::1]", True), ("db_2-x", True), ("", False), ("-x", False), ("a b", False),
                                      ("a/b", False), ("a;b", False), ("x" * 256, False), ("a\nb", False)])
def test_host_names(name, ok):
    assert valid_host_name(name) is ok
