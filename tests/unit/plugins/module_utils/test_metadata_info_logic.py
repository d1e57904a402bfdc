"""metadata_info's choice of format for a path: text for an instance path that names one value, JSON otherwise."""

from __future__ import annotations

import pytest
from ansible_collections.imds.azure.plugins.module_utils._metadata_info_logic import format_for, may_be_leaf
from ansible_collections.imds.azure.plugins.module_utils._path_rules import rule_for


def leaf(segments: tuple) -> bool:
    return may_be_leaf(rule_for(segments), segments)


def test_leaves():
    assert not leaf(("instance",)) and not leaf(("instance", "compute"))
    assert leaf(("instance", "compute", "vmId"))
    assert not leaf(("scheduledevents", "x", "y"))


@pytest.mark.parametrize("path, fmt", [
    ("instance", "json"), ("instance/compute", "json"), ("instance/compute/vmId", "text"),
    ("instance/compute/tags", "text"), ("instance/compute/tagsList", "json"), ("instance/compute/tagsList/0", "json"),
    ("instance/compute/storageProfile/osDisk/managedDisk", "json"),
    ("instance/compute/storageProfile/osDisk/managedDisk/id", "text"),
    ("instance/network/interface/0/ipv4/ipAddress/0/publicIpAddress", "text"),
    ("instance/network/interface/0/ipv4/subnet", "json"), ("scheduledevents", "json"), ("versions", "json"),
    ("attested/document", "json"), ("loadbalancer", "json"),
])
def test_format_for_the_path(path, fmt):
    segments = tuple(path.split("/"))
    assert format_for(rule_for(segments), segments) == fmt
