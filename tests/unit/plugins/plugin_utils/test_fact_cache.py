"""Reading fact caches of both layouts (ansible-core <= 2.18 plain, 2.19+ s1_ + __payload__), read-only."""

from __future__ import annotations

import json
import os
import time

import pytest
from ansible.plugins.cache import BaseFileCacheModule
from ansible.plugins.loader import cache_loader, init_plugin_loader
from ansible_collections.imds.azure.plugins.plugin_utils._fact_cache import (
    FactCacheReader,
    classify_key,
    decode_plain,
    facts_of,
    plain_values,
)
from ansible_collections.imds.azure.plugins.plugin_utils._fact_records import FactRecordError

FACTS = {"azure_imds": {"compute": {"location": "westus"}, "network": {}, "tags": {"Role": "web"}}}


def payload(facts) -> dict:
    return {"__payload__": json.dumps(facts)}


def test_keys_name_host_and_layout():
    entry = classify_key("s1_web1")
    assert (entry.host, entry.layout, entry.schema) == ("web1", "payload", "1")
    entry = classify_key("web1")
    assert (entry.host, entry.layout, entry.schema) == ("web1", "plain", "")
    assert classify_key("s12_a_b").host == "a_b" and classify_key("s12_a_b").schema == "12"
    assert classify_key("s_x").layout == "plain" and classify_key("s1").layout == "plain"


def test_payload_and_plain_entries_give_the_facts():
    assert facts_of(classify_key("s1_web1"), payload(FACTS)) == FACTS
    assert facts_of(classify_key("web1"), FACTS) == FACTS


def test_a_newer_schema_is_refused_by_name():
    with pytest.raises(FactRecordError, match="schema 2, which this plugin cannot read"):
        facts_of(classify_key("s2_web1"), payload(FACTS))


def test_a_host_that_only_looks_like_a_schema_key():
    entry = classify_key("s1_web1")
    assert facts_of(entry, FACTS) == FACTS
    assert (entry.host, entry.layout) == ("s1_web1", "plain")


def test_plain_decoding_drops_unsafe_markers_only():
    text = json.dumps({"a": {"__ansible_unsafe": "{{ x }}"}, "b": [{"__ansible_unsafe": "y"}],
                       "c": {"__ansible_unsafe": "z", "other": 1}})
    assert decode_plain(text) == {"a": "{{ x }}", "b": ["y"], "c": {"__ansible_unsafe": "z", "other": 1}}
    assert decode_plain(text)["a"].__class__ is str


def test_plain_values_turns_str_subclasses_into_str():
    class Unsafe(str):
        pass

    value = plain_values({Unsafe("k"): [Unsafe("v"), {"__ansible_unsafe": Unsafe("w")}, 3, None]})
    assert value == {"k": ["v", "w", 3, None]}
    [key] = value
    assert key.__class__ is str and value["k"][0].__class__ is str and value["k"][1].__class__ is str


class DictBackend:
    """A non-file cache plugin (as redis is): keys() and get(), nothing else used."""

    ansible_name = "test.dict"
    _prefix = "pre_"

    def __init__(self, entries: dict) -> None:
        self.entries = entries

    def keys(self):
        return [k.encode() for k in self.entries]  # redis answers bytes

    def get(self, key):
        return self.entries[key]


class Interposed:
    """As ansible-core 2.19 wraps a cache plugin."""

    def __init__(self, backend) -> None:
        self.__wrapped__ = backend


def test_non_file_backend_both_layouts_payload_preferred():
    backend = DictBackend({"s1_web1": payload(FACTS), "web2": FACTS, "web1": {"azure_imds": {"old": True}}})
    reader = FactCacheReader(Interposed(backend), BaseFileCacheModule)
    chosen = reader.read_all(reader.entries())
    assert [(e.host, e.layout) for e, _facts in chosen] == [("web1", "payload"), ("web2", "plain")]
    assert [facts for _entry, facts in chosen] == [FACTS, FACTS]
    assert reader.origin(chosen[0][0]) == "test.dict fact cache entry 'pre_s1_web1'"


def test_a_decoded_payload_that_was_marked_unsafe_is_a_plain_entry():
    """ansible-core 2.16-2.18 cache plugins decode a marked string to a str subclass (AnsibleUnsafeText):
    such an entry is host s1_db1's plain entry holding a __payload__ fact, not db1's payload entry."""

    class Unsafe(str):
        pass

    forged = {"__payload__": Unsafe(json.dumps({"azure_imds": {"compute": {"zone": "9"}}}))}
    backend = DictBackend({"s1_db1": forged, "db1": FACTS})
    reader = FactCacheReader(backend, BaseFileCacheModule)
    chosen = reader.read_all(reader.entries())
    assert [(e.host, e.layout) for e, _facts in chosen] == [("db1", "plain"), ("s1_db1", "plain")]
    assert chosen[0][1] == FACTS and "azure_imds" not in chosen[1][1]


@pytest.fixture
def jsonfile_cache(tmp_path, monkeypatch):
    init_plugin_loader()
    monkeypatch.setenv("ANSIBLE_CACHE_PLUGIN_CONNECTION", str(tmp_path))
    plugin = cache_loader.get("ansible.builtin.jsonfile")
    return plugin, tmp_path


def test_jsonfile_both_layouts_newest_wins_and_nothing_changes(jsonfile_cache):
    plugin, directory = jsonfile_cache
    (directory / "s1_both").write_text(json.dumps(payload(FACTS)))
    (directory / "both").write_text(json.dumps({"azure_imds": {"compute": {"location": {"__ansible_unsafe": "old"}}}}))
    os.utime(directory / "both", (1000, 1000))
    (directory / "legacy").write_text(json.dumps({"azure_imds": {"compute": {"zone": {"__ansible_unsafe": "1"}}}}))
    (directory / "s1_broken").write_text("{not json")
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    reader = FactCacheReader(plugin, BaseFileCacheModule)
    chosen = {e.host: (e, facts) for e, facts in reader.read_all(reader.entries())}
    assert set(chosen) == {"both", "legacy", "broken"}
    assert chosen["both"][1] == FACTS  # the 2.19 entry is the newer one
    assert chosen["legacy"][1] == {"azure_imds": {"compute": {"zone": "1"}}}
    assert reader.origin(chosen["legacy"][0]) == "fact cache file %s" % (directory / "legacy")
    assert isinstance(chosen["broken"][1], ValueError)
    os.utime(directory / "both", None)
    os.utime(directory / "s1_both", (1000, 1000))
    reader = FactCacheReader(plugin, BaseFileCacheModule)
    newer_plain = {e.host: e for e, _facts in reader.read_all(reader.entries())}["both"]
    assert newer_plain.layout == "plain"
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before


def test_a_2_18_entry_keyed_like_a_payload_cannot_replace_that_host(jsonfile_cache):
    """Issue 21: in ansible-core 2.18's layout, host s1_db1's facts {"__payload__": ...} (strings marked
    unsafe, as 2.18 writes module facts) are s1_db1's, however new, never db1's."""
    plugin, directory = jsonfile_cache
    (directory / "db1").write_text(json.dumps({"azure_imds": {"compute": {"zone": {"__ansible_unsafe": "1"}}}}))
    older = time.time() - 100
    os.utime(directory / "db1", (older, older))
    forged = json.dumps({"azure_imds": {"compute": {"zone": "9"}}})
    (directory / "s1_db1").write_text(json.dumps({"__payload__": {"__ansible_unsafe": forged}}))
    reader = FactCacheReader(plugin, BaseFileCacheModule)
    chosen = {e.host: (e.layout, facts) for e, facts in reader.read_all(reader.entries())}
    assert chosen["db1"] == ("plain", {"azure_imds": {"compute": {"zone": "1"}}})
    assert chosen["s1_db1"] == ("plain", {"__payload__": forged})


def test_expired_and_foreign_files_are_counted_not_read(jsonfile_cache, monkeypatch):
    plugin, directory = jsonfile_cache
    monkeypatch.setattr(plugin, "_timeout", 60.0)
    plugin.set_option("_prefix", "facts_")
    (directory / "facts_fresh").write_text(json.dumps(FACTS))
    (directory / "facts_old").write_text(json.dumps(FACTS))
    os.utime(directory / "facts_old", (1000, 1000))
    (directory / "other_vm1").write_text(json.dumps(FACTS))
    reader = FactCacheReader(plugin, BaseFileCacheModule)
    assert [e.host for e in reader.entries()] == ["fresh"]
    listing = reader.listing
    assert (listing.expired, listing.other_names, listing.other_example) == (1, 1, "other_vm1")
    assert (directory / "facts_old").exists()


def test_an_oversized_entry_file_is_refused_unread(jsonfile_cache, monkeypatch):
    plugin, directory = jsonfile_cache
    monkeypatch.setattr("ansible_collections.imds.azure.plugins.plugin_utils._fact_cache.MAX_FILE_BYTES", 100)
    (directory / "big").write_text(json.dumps({"azure_imds": {"compute": {"name": "x" * 200}}}))
    reader = FactCacheReader(plugin, BaseFileCacheModule)
    [(_entry, outcome)] = reader.read_all(reader.entries())
    assert isinstance(outcome, FactRecordError) and "more than 100 bytes" in str(outcome)
