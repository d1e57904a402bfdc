"""Group naming rules, tag-name spellings, reserved host names and the default families, as plain logic."""

from __future__ import annotations

import pytest
from ansible.inventory.group import to_safe_group_name
from ansible_collections.imds.azure.plugins.plugin_utils._group_names import (
    FAMILIES,
    GroupNamer,
    TagFilter,
    TagSpellings,
    ansible_safe_name,
    default_groups,
    lower_part,
    priority,
    reserved_host_reason,
    valid_prefix,
)

ODD_VALUES = ["westus", "Standard_D2s_v3", "Web Server", "a--b..c", "__x__", "", "!!!", "Zürich",
              "{{ lookup('pipe','id') }}", "Kubernetes:1.25.6", "0", "1abc", "-", "日本", "a\nb", "tab\there"]


@pytest.mark.parametrize("raw", ODD_VALUES)
def test_ansible_style_is_ansibles_own_rule(raw):
    """The same result as ansible-core's to_safe_group_name(force=True), which keyed_groups applies."""
    for name in (raw, "azure_tag_" + raw, "azure_tag_Role_" + raw):
        assert ansible_safe_name(name) == to_safe_group_name(name, force=True, silent=True)


@pytest.mark.parametrize("raw, expected", [
    ("westus", "westus"), ("Standard_D2s_v3", "standard_d2s_v3"), ("Web Server", "web_server"),
    ("a--b..c", "a_b_c"), ("__x__", "x"), ("", "empty"), ("!!!", "empty"), ("Zürich", "z_rich"),
    ("{{ lookup('pipe','id') }}", "lookup_pipe_id"), ("Kubernetes:1.25.6", "kubernetes_1_25_6"), ("0", "0"),
])
def test_lower_style_part(raw, expected):
    assert lower_part(raw) == expected


@pytest.mark.parametrize("prefix, ok", [("azure", True), ("", True), ("az_1", True), ("1az", False),
                                        ("a-b", False), ("a b", False), ("az\n", False)])
def test_valid_prefix(prefix, ok):
    assert valid_prefix(prefix) is ok


def test_unknown_style_is_refused():
    with pytest.raises(ValueError, match="ansible, lower"):
        GroupNamer("azure", "upper")


def test_ansible_style_keeps_case_and_joins_like_keyed_groups():
    namer = GroupNamer("azure")
    assert namer.name("tag", "Role", host="a") == "azure_tag_Role"
    assert namer.name("tag", "Role", "Web Server", host="a") == "azure_tag_Role_Web_Server"
    assert namer.name("tag", "Role", "", host="a") == "azure_tag_Role_"  # as keyed_groups with an empty value
    assert namer.name("location", "wéstus", host="a") == "azure_location_wéstus"  # a word character
    assert namer.name("vm_size", "Standard_D2s_v3", host="a") == "azure_vm_size_Standard_D2s_v3"
    assert GroupNamer("").name("zone", "1") == "zone_1"
    assert GroupNamer("", "lower").name("zone", "1") == "zone_1"


def test_distinct_values_are_not_a_collision():
    namer = GroupNamer("azure")
    names = {namer.name("tag", "Role", value, host=value) for value in ("web", "Web", "db", "web ")}
    assert names == {"azure_tag_Role_web", "azure_tag_Role_Web", "azure_tag_Role_db", "azure_tag_Role_web_"}
    assert namer.name("tag", "Role", "web", host="again") == "azure_tag_Role_web"  # the same value again
    assert namer.collisions == {} and namer.collision_messages() == []


def test_collisions_are_named_with_a_host_of_each():
    namer = GroupNamer("azure")
    assert namer.name("tag", "Role", "Web Server", host="a") == "azure_tag_Role_Web_Server"
    assert namer.name("tag", "Role", "Web-Server", host="b") == "azure_tag_Role_Web_Server"
    assert namer.name("tag", "Role_Web_Server", host="c") == "azure_tag_Role_Web_Server"  # a name-only tag group
    [message] = namer.collision_messages()
    assert message.startswith("Group azure_tag_Role_Web_Server holds hosts of different values: "
                              "tag 'Role'='Web Server' (host a); tag 'Role'='Web-Server' (host b); "
                              "tag 'Role_Web_Server' (host c).")
    assert "cannot be in a group name becomes _" in message


def test_lower_style_names_and_collisions():
    namer = GroupNamer("azure", "lower")
    assert namer.name("tag", "Role", "Web", host="a") == "azure_tag_role_web"
    assert namer.name("tag", "role", "web", host="c") == "azure_tag_role_web"
    assert namer.name("zone", "", host="z") == "azure_zone_empty"
    [message] = namer.collision_messages()
    assert "tag 'Role'='Web' (host a); tag 'role'='web' (host c)" in message
    assert "lower-cased" in message
    other = GroupNamer("azure", "lower")
    assert other.name("location", "westus", host="a") == other.name("location", "westus", host="b")
    assert other.collision_messages() == []


def test_describe_other_families():
    namer = GroupNamer("azure", "lower")
    namer.name("vm_size", "A-1", host="h1")
    namer.name("vm_size", "a 1", host="h2")
    assert "vm size 'A-1' (host h1); vm size 'a 1' (host h2)" in namer.collision_messages()[0]


def fact(tags: dict, **compute) -> dict:
    return {"compute": compute, "network": {}, "tags": tags}


def test_tag_spellings_choose_the_most_used_then_the_first_sorted():
    facts = [fact({"Role": "web"}), fact({"role": "db"}), fact({"role": "x"}), fact({"Env": "1"}), fact({"ENV": "2"})]
    spellings = TagSpellings(facts)
    assert spellings.canonical("Role") == "role" and spellings.canonical("ROLE") == "role"
    assert spellings.canonical("env") == "ENV"  # tie: "ENV" sorts before "Env"
    assert spellings.canonical("Other") == "Other"  # never seen: as it is
    assert TagSpellings(reversed(facts)).canonical("Role") == "role"  # order does not matter
    messages = spellings.messages()
    assert len(messages) == 2
    assert messages[1].startswith("The tag name is spelled differently on different VMs "
                                  "('Role' on 1 host, 'role' on 2 hosts)")
    assert "grouped as 'role'" in messages[1] and "'ENV' on 1 host, 'Env' on 1 host" in messages[0]


def test_one_spelling_is_no_conflict():
    spellings = TagSpellings([fact({"Role": "web"}), fact({"Role": "db"}), {"compute": {}, "tags": "odd"}])
    assert spellings.messages() == [] and spellings.canonical("role") == "Role"


def test_default_groups_use_the_chosen_spelling():
    facts = [fact({"Role": "web"}), fact({"role": "db"}), fact({"role": "db"})]
    spellings = TagSpellings(facts)
    namer = GroupNamer("azure")
    assert default_groups(facts[0], ["tag"], namer, "h", spellings) == ["azure_tag_role", "azure_tag_role_web"]
    assert default_groups(facts[0], ["tag"], GroupNamer("azure"), "h") == ["azure_tag_Role", "azure_tag_Role_web"]
    assert namer.collision_messages() == []


def test_default_groups_in_family_order():
    groups = default_groups(fact({"Role": "web", "Flag": ""}, zone="2", platformFaultDomain="1",
                                 platformUpdateDomain="3", location="westeurope", vmSize="Standard_B2s",
                                 vmScaleSetName="", osType="Linux", priority="Spot"),
                            FAMILIES, GroupNamer("azure"), "h")
    assert groups == ["azure_tag_Role", "azure_tag_Role_web", "azure_tag_Flag", "azure_tag_Flag_",
                      "azure_zone_2", "azure_fault_domain_1", "azure_update_domain_3", "azure_location_westeurope",
                      "azure_vm_size_Standard_B2s", "azure_os_type_Linux", "azure_priority_Spot"]


def test_default_groups_of_some_families():
    full = fact({"Role": "web"}, zone="", vmScaleSetName="pool", platformFaultDomain="0")
    assert default_groups(full, ["zone", "scale_set"], GroupNamer("az"), "h") == ["az_zone_none", "az_scale_set_pool"]
    assert default_groups(full, [], GroupNamer("az"), "h") == []


def test_missing_fields_give_only_what_is_known():
    assert default_groups({"network": {}}, FAMILIES, GroupNamer("azure"), "h") == [
        "azure_zone_none", "azure_priority_Regular"]
    weird = {"compute": {"zone": 3, "location": None}, "tags": "not a dict"}
    assert default_groups(weird, FAMILIES, GroupNamer("azure"), "h") == ["azure_zone_none", "azure_priority_Regular"]
    assert default_groups({"compute": "x", "tags": {"a": 5}}, ["tag", "zone"], GroupNamer("azure"), "h") == [
        "azure_tag_a", "azure_tag_a_", "azure_zone_none"]


def test_priority_spellings():
    assert priority({"priority": "Spot"}) == "Spot"
    assert priority({"Priority": "Low"}) == "Low"  # the docs' Linux sample
    assert priority({"priority": "", "Priority": "Low"}) == "Low"
    assert priority({"priority": ""}) == "Regular"
    assert priority({}) == "Regular"


@pytest.mark.parametrize("host, families, made, why", [
    ("all", FAMILIES, set(), "every inventory has"),
    ("ungrouped", [], set(), "every inventory has"),
    ("azure_zone_none", ["zone"], set(), "namespace"),
    ("azure_zone_7", ["zone"], set(), "namespace"),  # not made by any VM today, reserved all the same
    ("azure_tag_Role_web", ["tag"], set(), "namespace"),
    ("azure_location_x", FAMILIES, set(), "namespace"),
    ("dbs", FAMILIES, {"dbs"}, "name of a group"),
    ("azure_zone_1", ["tag"], {"azure_zone_1"}, "name of a group"),  # family off, but the group exists
])
def test_reserved_host_names(host, families, made, why):
    assert why in reserved_host_reason(host, GroupNamer("azure"), families, made)


@pytest.mark.parametrize("host, families", [("web1", FAMILIES), ("azure_zone_1", ["tag"]), ("azure", FAMILIES),
                                            ("azure_zone", FAMILIES), ("allx", FAMILIES), ("All", FAMILIES)])
def test_usable_host_names(host, families):
    assert reserved_host_reason(host, GroupNamer("azure"), families, {"dbs"}) is None


def test_namespace_without_prefix():
    namer = GroupNamer("")
    assert namer.in_namespace("zone_1", ["zone"]) and not namer.in_namespace("azure_zone_1", ["zone"])
    assert not namer.in_namespace("zone_1", ["tag"])


def test_tag_filter_names_without_case_values_with_case_and_patterns():
    allowed = TagFilter({"Environment": ["dev", "test"], "role": None, "team-*": ["blue", "gr?en"]})
    assert allowed.allows("Environment", "dev") and allowed.allows("ENVIRONMENT", "test")
    assert not allowed.allows("Environment", "production") and not allowed.allows("Environment", "Dev")
    assert allowed.allows("Role", "anything at all") and allowed.allows("ROLE", "")
    assert allowed.allows("team-a", "green") and not allowed.allows("team-a", "red")
    assert not allowed.allows("Owner", "me")
    assert TagFilter(None).allows("Owner", "me")
    assert not TagFilter({}).allows("Owner", "me")


@pytest.mark.parametrize("allowed, message", [
    (["Environment"], "must be a dictionary"),
    ({"Environment": "dev"}, "must be a list of values"),
    ({"Environment": [1]}, "must be a list of values"),
    ({"": None}, "keys must be tag names"),
])
def test_tag_filter_refuses_malformed_settings(allowed, message):
    with pytest.raises(ValueError, match=message):
        TagFilter(allowed)


def test_only_allowed_tags_form_groups_and_both_of_their_groups():
    fact = {"tags": {"Environment": "production", "Role": "web", "Owner": "x"}, "compute": {}}
    allowed = TagFilter({"environment": ["dev"], "Role": None})
    groups = default_groups(fact, ["tag"], GroupNamer("azure"), "vm1", tag_filter=allowed)
    assert groups == ["azure_tag_Role", "azure_tag_Role_web"]
    assert len(default_groups(fact, ["tag"], GroupNamer("azure"), "vm1")) == 6
