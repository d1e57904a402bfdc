"""Fact records: the shapes the inventory plugin accepts, and what it refuses."""

from __future__ import annotations

import json

import pytest
from ansible_collections.imds.azure.plugins.plugin_utils._fact_records import (
    FactRecordError,
    GROUPING_KEYS,
    checked_fact,
    checked_record,
    fact_from_cache_entry,
    fact_from_file_data,
    grouping_view,
    host_variables,
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


def test_malformed_tags_are_rebuilt_from_compute_and_the_rest_is_kept():
    fact = checked_fact({"compute": {"tags": "a:1;b:2:3", "zone": "2"}, "network": {"interface": []}, "tags": {"x": 5},
                         "api_version": "2021-02-01"})
    assert fact == {"compute": {"tags": "a:1;b:2:3", "zone": "2"}, "network": {"interface": []},
                    "tags": {"a": "1", "b": "2:3"}, "api_version": "2021-02-01"}
    assert checked_fact({"network": {}})["tags"] == {}  # missing tags: rebuilt (from nothing)
    assert checked_fact({"compute": {}, "tags": [["a", "b"]]})["tags"] == {}
    assert checked_fact({"compute": {}, "tags": {1: "x"}})["tags"] == {}


def test_good_tags_are_kept_as_they_are():
    fact = {"compute": {"tags": "other:1"}, "tags": {"a": "1"}}
    assert checked_fact(fact) is fact


def test_checked_record_checks_the_name_and_the_fact():
    assert checked_record("vm-1", {"compute": {}})["tags"] == {}
    for host in ("-G", "", "a b", "x\n", None, 5):
        with pytest.raises(FactRecordError, match="not a usable host name"):
            checked_record(host, {"compute": {}})
    with pytest.raises(FactRecordError, match="compute is a JSON list"):
        checked_record("vm-1", {"compute": [], "network": {}})
    with pytest.raises(FactRecordError, match="not an object"):
        checked_record("vm-1", "text")


def test_grouping_view_keeps_what_grouping_reads_and_nothing_else():
    fact = fact_from_file_data(DOCUMENT)
    fact["compute"]["priority"] = "Spot"
    view = grouping_view(fact)
    assert set(view) == {"compute", "tags"}
    assert view["compute"] == {k: fact["compute"][k] for k in GROUPING_KEYS if k in fact["compute"]}
    assert view["compute"]["priority"] == "Spot" and view["compute"]["location"] == "eastus2"
    assert "network" not in view and "vmId" not in view["compute"]
    assert grouping_view({"network": {}, "tags": {}}) == {"compute": {}, "tags": {}}


def test_host_variables_of_each_set():
    fact = fact_from_file_data(DOCUMENT)
    assert host_variables(fact, ["flat"]) == {"azure_location": "eastus2", "azure_zone": "",
                                              "azure_fault_domain": "0", "azure_update_domain": "0"}
    assert host_variables(fact, ["tags"]) == {"azure_tags": {}}
    assert host_variables(fact, ["instance"]) == {"azure_instance": fact}
    assert host_variables(fact, []) == {}
    assert set(host_variables(fact, ["flat", "tags", "instance"])) == {
        "azure_location", "azure_zone", "azure_fault_domain", "azure_update_domain", "azure_tags", "azure_instance"}


def test_host_variables_survive_missing_and_odd_fields():
    hostvars = host_variables({"compute": {"zone": 1, "location": None}, "network": {"interface": [None]}},
                              ["flat", "tags"])
    assert hostvars == {"azure_zone": "", "azure_location": "", "azure_fault_domain": "", "azure_update_domain": "",
                        "azure_tags": {}}


@pytest.mark.parametrize("name, ok", [("web1", True), ("web1.example.com", True), ("10.0.0.4", True),
                                      ("[::1]", True), ("db_2-x", True), ("", False), ("-x", False), ("a b", False),
                                      ("a/b", False), ("a;b", False), ("x" * 256, False), ("a\nb", False),
                                      ("ab\n", False), ("x" * 255, True), ("é", True)])
def test_host_names(name, ok):
    assert valid_host_name(name) is ok
