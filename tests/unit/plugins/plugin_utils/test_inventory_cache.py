"""The inventory cache entry: written as JSON text, read back with every record checked again."""

from __future__ import annotations

import json

import pytest
from ansible_collections.imds.azure.plugins.plugin_utils._inventory_cache import (
    InventoryCacheError,
    decode,
    encode,
)

GOOD = {"compute": {"zone": "1"}, "tags": {"Role": "web"}}


def test_round_trip_of_both_details():
    for detail in ("grouping", "full"):
        records, problems = decode(encode({"vm-1": GOOD}, detail), "grouping")
        assert records == {"vm-1": GOOD} and problems == []
    records, _problems = decode(encode({"vm-1": GOOD}, "full"), "full")
    assert records == {"vm-1": GOOD}


def test_a_grouping_entry_cannot_serve_whole_facts():
    with pytest.raises(InventoryCacheError, match="only what grouping needs"):
        decode(encode({"vm-1": GOOD}, "grouping"), "full")


def test_records_are_checked_like_fact_cache_records():
    text = encode({"-G": GOOD, "vm-list": {"compute": [1], "network": {}}, "a b": GOOD, "vm-ok": GOOD,
                   "vm-str": "x", "vm-tags": {"compute": {"tags": "a:1"}, "tags": ["bad"]}}, "full")
    records, problems = decode(text, "full")
    assert set(records) == {"vm-ok", "vm-tags"}
    assert records["vm-tags"]["tags"] == {"a": "1"}  # rebuilt from compute, as for the fact cache
    reasons = dict(problems)
    assert set(reasons) == {"-G", "vm-list", "a b", "vm-str"}
    assert "not a usable host name" in reasons["-G"] and "compute is a JSON list" in reasons["vm-list"]


@pytest.mark.parametrize("text, why", [
    (b"{}", "not the JSON text"), ({"records": {}}, "not the JSON text"), ("{not json", "not valid JSON"),
    ("[" * 100000, "not valid JSON"), (json.dumps({"vm-1": GOOD}), "not written by this version"),
    (json.dumps({"format": 1, "detail": "full", "records": {}}), "not written by this version"),
    (json.dumps({"format": 2, "detail": "most", "records": {}}), "not written by this version"),
    (json.dumps({"format": 2, "detail": "full", "records": []}), "no records object"),
])
def test_unusable_entries_are_refused_whole(text, why):
    with pytest.raises(InventoryCacheError, match=why):
        decode(text, "grouping")
