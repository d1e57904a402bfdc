"""Property tests (hypothesis) over what the inventory plugin does with untrusted text: group-name
and host-name sanitising, and fact-cache / file / inventory-cache record validation. Whatever a
cache key, a file or a tag brings, the result is a value of the documented shape or the plugin's
own typed error (FactRecordError, InventoryCacheError), never another exception.

The normal run draws a bounded number of examples (IMDS_AZURE_FUZZ_EXAMPLES, default 120, the
variable the other property tests of the collection read); `make fuzz` runs them longer."""

from __future__ import annotations

import json
import os

from ansible import constants as C
from ansible.inventory.group import to_safe_group_name
from ansible_collections.imds.azure.plugins.plugin_utils import _inventory_cache
from ansible_collections.imds.azure.plugins.plugin_utils._fact_cache import classify_key, decode_plain, facts_of
from ansible_collections.imds.azure.plugins.plugin_utils._fact_records import (
    FactRecordError,
    checked_record,
    fact_from_cache_entry,
    fact_from_file_data,
    valid_host_name,
)
from ansible_collections.imds.azure.plugins.plugin_utils._group_names import (
    FAMILIES,
    GroupNamer,
    TagSpellings,
    default_groups,
    reserved_host_reason,
    valid_prefix,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("IMDS_AZURE_FUZZ_EXAMPLES", "120"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TEXT = st.text(max_size=40)
PREFIXES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True) | st.just("")
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                    max_leaves=20)
# Facts that look like IMDS ones, with any value anywhere: more examples reach the deep checks.
COMPUTE = st.dictionaries(st.sampled_from(["zone", "location", "platformFaultDomain", "vmSize", "priority",
                                           "Priority", "osType", "vmScaleSetName", "tags", "tagsList"]) | TEXT,
                          JSON | TEXT, max_size=6)
FACTS = st.fixed_dictionaries({}, optional={"compute": COMPUTE | JSON, "network": JSON, "tags": JSON,
                                            "api_version": JSON})


@FUZZ
@given(PREFIXES, st.sampled_from(FAMILIES), st.lists(TEXT, min_size=1, max_size=2))
def test_ansible_style_names_are_safe_and_ansibles_own(prefix, family, parts):
    name = GroupNamer(prefix).name(family, *parts, host="h")
    assert not C.INVALID_VARIABLE_NAMES.findall(name)  # nothing Ansible would have to replace
    joined = "_".join([p for p in (prefix, family) if p] + parts)
    assert name == to_safe_group_name(joined, force=True, silent=True)
    assert len(name) == len(joined)  # one character for one: a value cannot hide in a shorter name


@FUZZ
@given(PREFIXES, st.sampled_from(FAMILIES), st.lists(TEXT, min_size=1, max_size=2))
def test_lower_style_names_use_only_lower_case_ascii(prefix, family, parts):
    name = GroupNamer(prefix, "lower").name(family, *parts, host="h")
    head = "_".join(p for p in (prefix, family) if p) + "_"
    assert name.startswith(head)
    assert all(c in "abcdefghijklmnopqrstuvwxyz0123456789_" for c in name[len(head):])
    assert "__" not in name[len(head) - 1:] and not name.endswith("_")


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(FAMILIES[:3]), st.lists(TEXT, min_size=1, max_size=2)), max_size=8),
       st.sampled_from(["ansible", "lower"]))
def test_a_collision_is_reported_exactly_when_different_values_share_a_name(origins, style):
    namer = GroupNamer("azure", style)
    owners = {}
    for index, (family, parts) in enumerate(origins):
        owners.setdefault(namer.name(family, *parts, host="h%d" % index), set()).add((family,) + tuple(parts))
    assert set(namer.collisions) == {name for name, values in owners.items() if len(values) > 1}
    assert len(namer.collision_messages()) == len(namer.collisions)


@FUZZ
@given(st.lists(st.dictionaries(st.sampled_from(["Role", "role", "ROLE", "Env", "env"]) | TEXT, TEXT, max_size=3),
                max_size=6), st.randoms())
def test_tag_spellings_do_not_depend_on_order(tag_sets, rng):
    facts = [{"compute": {}, "tags": tags} for tags in tag_sets]
    shuffled = list(facts)
    rng.shuffle(shuffled)
    first, second = TagSpellings(facts), TagSpellings(shuffled)
    for tags in tag_sets:
        for name in tags:
            assert first.canonical(name) == second.canonical(name)
            assert first.canonical(name).casefold() == name.casefold()
    assert first.messages() == second.messages()


@FUZZ
@given(FACTS, st.lists(st.sampled_from(FAMILIES), unique=True), st.sampled_from(["ansible", "lower"]))
def test_default_groups_of_any_fact_are_group_names(fact, families, style):
    groups = default_groups(fact, families, GroupNamer("azure", style), "h", TagSpellings([fact]))
    assert all(isinstance(g, str) and g.startswith("azure_") and not C.INVALID_VARIABLE_NAMES.findall(g)
               for g in groups)


@FUZZ
@given(TEXT | st.from_regex(r"azure_(zone|tag)_\w{0,5}", fullmatch=True), PREFIXES,
       st.lists(st.sampled_from(FAMILIES), unique=True), st.sets(TEXT, max_size=3))
def test_reserved_host_reason_is_a_reason_or_none(host, prefix, families, made):
    reason = reserved_host_reason(host, GroupNamer(prefix), families, made)
    assert reason is None or (isinstance(reason, str) and repr(host) in reason)
    if host in ("all", "ungrouped") or host in made:
        assert reason is not None


@FUZZ
@given(TEXT)
def test_usable_host_names_cannot_be_options_or_paths(name):
    if valid_host_name(name):
        assert not name.startswith("-") and 0 < len(name) <= 255
        assert not any(c.isspace() or c in "/;$`'\"\\|&<>*?{}()" for c in name)


@FUZZ
@given(TEXT)
def test_valid_prefixes_make_valid_group_names(prefix):
    if valid_prefix(prefix):
        assert not C.INVALID_VARIABLE_NAMES.findall(GroupNamer(prefix).name("zone", "1"))


def assert_checked_fact(fact) -> None:
    assert isinstance(fact, dict)
    assert isinstance(fact.get("compute", {}), dict) and isinstance(fact.get("network", {}), dict)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fact["tags"].items())


@FUZZ
@given(TEXT, FACTS | JSON)
def test_records_are_a_checked_fact_or_the_typed_error(host, fact):
    try:
        checked = checked_record(host, fact)
    except FactRecordError:
        return
    assert valid_host_name(host)
    assert_checked_fact(checked)


@FUZZ
@given(st.fixed_dictionaries({}, optional={"azure_imds": FACTS | JSON, "other": JSON}) | JSON)
def test_cache_entries_give_a_fact_none_or_the_typed_error(entry):
    try:
        fact = fact_from_cache_entry(entry)
    except FactRecordError:
        return
    assert fact is None or assert_checked_fact(fact) is None


@FUZZ
@given(FACTS | st.fixed_dictionaries({"ansible_facts": st.fixed_dictionaries({}, optional={"azure_imds": FACTS})},
                                     optional={"failed": JSON, "unreachable": JSON, "msg": JSON}) | JSON)
def test_files_give_a_fact_or_the_typed_error(data):
    try:
        fact = fact_from_file_data(data)
    except FactRecordError:
        return
    assert_checked_fact(fact)


@FUZZ
@given(TEXT, JSON | st.fixed_dictionaries({"__payload__": TEXT | JSON}))
def test_cache_layouts_give_an_entry_or_the_typed_error(key, raw):
    entry = classify_key(key)
    try:
        facts_of(entry, raw)
    except FactRecordError:
        return
    assert entry.layout in ("plain", "payload") and key.endswith(entry.host)  # the host is checked later


@FUZZ
@given(st.binary(max_size=60) | st.builds(json.dumps, JSON).map(str.encode))
def test_plain_entries_decode_or_give_the_typed_error(data):
    try:
        decode_plain(data)
    except FactRecordError:
        pass


@FUZZ
@given(st.builds(json.dumps, st.fixed_dictionaries(
    {"format": st.just(2) | JSON, "detail": st.sampled_from(["grouping", "full"]) | JSON,
     "records": st.dictionaries(TEXT, FACTS | JSON, max_size=4) | JSON})) | TEXT | JSON,
    st.sampled_from(["grouping", "full"]))
def test_inventory_cache_entries_give_checked_records_or_the_typed_error(text, needed):
    try:
        records, problems = _inventory_cache.decode(text, needed)
    except _inventory_cache.InventoryCacheError:
        return
    for host, fact in records.items():
        assert valid_host_name(host)
        assert_checked_fact(fact)
    assert all(isinstance(host, str) and isinstance(reason, str) for host, reason in problems)
