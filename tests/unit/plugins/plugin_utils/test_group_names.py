"""Group naming rules and the default families, as plain logic."""

from __future__ import annotations

import pytest
from ansible_collections.imds.azure.plugins.plugin_utils._group_names import (
    FAMILIES,
    GroupNamer,
    default_groups,
    priority,
    sanitize,
    valid_prefix,
)


@pytest.mark.parametrize("raw, expected", [
    ("westus", "westus"), ("Standard_D2s_v3", "standard_d2s_v3"), ("Web Server", "web_server"),
    ("a--b..c", "a_b_c"), ("__x__", "x"), ("", "empty"), ("!!!", "empty"), ("Zürich", "z_rich"),
    ("{{ lookup('pipe','id') }}", "lookup_pipe_id"), ("Kubernetes:1.25.6", "kubernetes_1_25_6"), ("0", "0"),
])
def test_sanitize(raw, expected):
    assert sanitize(raw) == expected


@pytest.mark.parametrize("prefix, ok", [("azure", True), ("", True), ("az_1", True), ("1az", False),
                                        ("a-b", False), ("a b", False)])
def test_valid_prefix(prefix, ok):
    assert valid_prefix(prefix) is ok


def test_names_and_collisions():
    namer = GroupNamer("azure")
    assert namer.name("tag", "Role", "Web", host="a") == "azure_tag_role_web"
    assert namer.name("tag", "Role", "Web", host="b") == "azure_tag_role_web"
    assert namer.collision_messages() == []
    assert namer.name("tag", "role", "web", host="c") == "azure_tag_role_web"
    assert namer.name("tag", "role_web", host="d") == "azure_tag_role_web"  # a name-only tag group
    assert namer.name("tag", "role", "web", host="e") == "azure_tag_role_web"
    [message] = namer.collision_messages()
    assert "tag 'Role'='Web' (host a); tag 'role'='web' (host c); tag 'role_web' (host d)" in message


def test_empty_prefix():
    assert GroupNamer("").name("zone", "1") == "zone_1"


def fact(**compute) -> dict:
    return {"compute": compute, "network": {}, "tags": {"Role": "web", "Flag": ""}}


def test_default_groups_in_family_order():
    groups = default_groups(fact(zone="2", platformFaultDomain="1", platformUpdateDomain="3", location="westeurope",
                                 vmSize="Standard_B2s", vmScaleSetName="", osType="Linux", priority="Spot"),
                            FAMILIES, GroupNamer("azure"), "h")
    assert groups == ["azure_tag_role", "azure_tag_role_web", "azure_tag_flag", "azure_tag_flag_empty",
                      "azure_zone_2", "azure_fault_domain_1", "azure_update_domain_3", "azure_location_westeurope",
                      "azure_vm_size_standard_b2s", "azure_os_type_linux", "azure_priority_spot"]


def test_missing_fields_give_only_what_is_known():
    assert default_groups({"network": {}}, FAMILIES, GroupNamer("azure"), "h") == [
        "azure_zone_none", "azure_priority_regular"]
    weird = {"compute": {"zone": 3, "location": None}, "tags": "not a dict"}
    assert default_groups(weird, FAMILIES, GroupNamer("azure"), "h") == ["azure_zone_none", "azure_priority_regular"]


def test_priority_spellings():
    assert priority({"priority": "Spot"}) == "Spot"
    assert priority({"Priority": "Low"}) == "Low"  # the docs' Linux sample
    assert priority({"priority": ""}) == "Regular"
