"""Fact records: the shapes the inventory plugin accepts, and what it refuses."""

from __future__ import annotations

import json
import re

import pytest
from ansible_collections.imds.azure.plugins.plugin_utils._fact_records import (
    FactRecordError,
    GROUPING_KEYS,
    RecordLimits,
    check_bounds,
    checked_fact,
    checked_record,
    decoded_json,
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


# -- the messages users read, whole, and the shapes each branch takes ----------------------------

@pytest.mark.parametrize("data, message", [
    ([1], "the file holds a JSON list, not an object"),
    ({"failed": True, "msg": "boom"}, "it records a failed run: boom"),
    ({"failed": True}, "it records a failed run: no message"),
    # What a host that could not be reached leaves behind (no "failed" key at all).
    ({"unreachable": True, "changed": False, "msg": "ssh: connect to host vm1 port 22: timed out"},
     "it records a failed run: ssh: connect to host vm1 port 22: timed out"),
    ({"failed": False, "unreachable": True, "ansible_facts": {"azure_imds": {"network": {}}}},
     "it records a failed run: no message"),
    ({"failed": True, "msg": "x" * 400}, "it records a failed run: " + "x" * 300 + "..."),
    # Issue 21: a saved record's message reaches a terminal: no escape sequence, bell or carriage return.
    ({"failed": True, "msg": "\x1b]0;owned\x07gone\rfake\x1b[2J"}, "it records a failed run:  ]0;owned gone fake [2J"),
    ({"ansible_facts": {"other": 1}}, "it has no ansible_facts.azure_imds"),
    ({"ansible_facts": ["azure_imds"]}, "it has no ansible_facts.azure_imds"),
    ({"hello": "world"}, "it is neither an /metadata/instance document nor metadata_facts output"),
    ({"compute": [1]}, "'compute' is a JSON list, not an object"),
])
def test_file_refusals_say_exactly_why(data, message):
    with pytest.raises(FactRecordError) as caught:
        fact_from_file_data(data)
    assert str(caught.value) == message


def test_a_document_with_one_section_is_still_a_document():
    assert fact_from_file_data({"network": {"interface": []}}) == {
        "compute": {}, "network": {"interface": []}, "tags": {}, "api_version": None}
    assert fact_from_file_data({"compute": {"tags": "Role:web"}}) == {
        "compute": {"tags": "Role:web"}, "network": {}, "tags": {"Role": "web"}, "api_version": None}


def test_only_a_whole_fact_is_taken_as_one():
    """A fact has api_version AND tags; with only one of them the file is read as a raw document."""
    fact = {"compute": {"tags": "Role:web"}, "network": {}, "tags": {"Role": "web"}, "api_version": "2021-02-01"}
    assert fact_from_file_data(fact) is fact
    without_tags = {"compute": {"tags": "Role:web"}, "network": {}, "api_version": "2021-02-01"}
    assert fact_from_file_data(without_tags)["api_version"] is None
    without_version = {"compute": {}, "network": {}, "tags": {"Forged": "1"}}
    assert fact_from_file_data(without_version)["tags"] == {}  # rebuilt from compute, not taken


@pytest.mark.parametrize("fact, message", [
    ("text", "azure_imds is a JSON str, not an object"),
    ({"compute": "x"}, "azure_imds.compute is a JSON str, not an object"),
    ({"tags": {}}, "azure_imds has neither compute nor network"),
])
def test_fact_refusals_say_exactly_why(fact, message):
    with pytest.raises(FactRecordError) as caught:
        checked_fact(fact)
    assert str(caught.value) == message


def test_record_and_entry_refusals_say_exactly_why():
    with pytest.raises(FactRecordError) as caught:
        checked_record("-G", {"network": {}})
    assert str(caught.value) == "'-G' is not a usable host name"
    with pytest.raises(FactRecordError) as caught:
        fact_from_cache_entry([1])
    assert str(caught.value) == "the entry is a JSON list, not an object of facts"


def test_tags_and_zone_reach_the_view_and_the_variables():
    fact = checked_fact({"compute": {"zone": "2", "location": "westeurope", "platformFaultDomain": "1",
                                     "platformUpdateDomain": "4", "tags": "Role:web;Env:prod"}, "network": {}})
    assert grouping_view(fact)["tags"] == {"Role": "web", "Env": "prod"}
    assert host_variables(fact, ["flat", "tags"]) == {
        "azure_location": "westeurope", "azure_zone": "2", "azure_fault_domain": "1", "azure_update_domain": "4",
        "azure_tags": {"Role": "web", "Env": "prod"}}
    assert host_variables({"network": {}}, ["flat"])["azure_zone"] == ""


@pytest.mark.parametrize("data, what, message", [
    (b"\xff{}", "the file", "the file is not UTF-8 text (byte 0)"),
    ("[" * 100000, "the entry", "the JSON is nested too deeply"),
    ("{", "the entry", "the entry is not valid JSON (Expecting property name enclosed in double quotes: "
                       "line 1 column 2 (char 1))"),
])
def test_decoding_refusals_say_exactly_why(data, what, message):
    with pytest.raises(FactRecordError) as caught:
        decoded_json(data, what)
    assert str(caught.value) == message


def nested_list(depth: int):
    value = []
    for _level in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize("record, limits, message", [
    ({"tags": {"k%d" % i: "v" for i in range(51)}}, RecordLimits(), "51 tags, more than max_tags (50"),
    ({"compute": {"deep": nested_list(600)}}, RecordLimits(), "nested more than max_depth (20)"),
    ({"compute": {"list": list(range(10001))}}, RecordLimits(), "more than max_items (10000)"),
    ({"compute": {"name": "x" * 131073}}, RecordLimits(), "string of 131073 characters, more than max_string_length"),
    ({"compute": {"k%d" % i: "x" * 1000 for i in range(1100)}}, RecordLimits(), "larger than max_record_size"),
    ({"compute": {"deep": nested_list(4)}}, RecordLimits(depth=4), "max_depth (4)"),
])
def test_bounds_name_the_one_crossed(record, limits, message):
    with pytest.raises(FactRecordError, match=re.escape(message)):
        check_bounds(record, limits)


def test_a_real_fact_is_within_the_default_bounds_and_the_bounds_are_exact():
    fact = fact_from_file_data(DOCUMENT)
    check_bounds(fact)
    check_bounds({"tags": {"k%d" % i: "v" for i in range(50)}})
    check_bounds({"compute": {"deep": nested_list(18)}})  # the record, compute, then 18 lists: 20 levels
    with pytest.raises(FactRecordError):
        check_bounds({"compute": {"deep": nested_list(19)}})


def test_200000_tags_are_refused_before_anything_walks_them():
    tags = {"k%d" % i: "v" for i in range(200000)}
    with pytest.raises(FactRecordError, match="200000 tags"):
        check_bounds({"tags": tags, "compute": {}})
