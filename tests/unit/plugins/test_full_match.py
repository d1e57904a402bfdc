"""Every name and path check in plugins/ matches the WHOLE value (issue 12): with "$", a trailing
newline slipped through ("instance/compute\\n" was read as instance/compute, "eth0\\n" was a device)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ansible_collections.imds.azure.plugins.module_utils import _client, _errors
from ansible_collections.imds.azure.plugins.module_utils._attestation_info_logic import attested_document
from ansible_collections.imds.azure.plugins.plugin_utils import (
    _fact_records,
    _group_names,
    _route_backend,
    _route_networkmanager,
    _route_parse,
    _route_table,
)

PLUGINS = Path(_client.__file__).resolve().parents[1]


@pytest.mark.parametrize("check, value", [
    (_fact_records.valid_host_name, "vm01"), (_group_names.valid_prefix, "azure"),
])
def test_names_are_whole_values(check, value):
    assert check(value)
    assert not check(value + "\n")


def test_device_names_are_whole_values():
    assert _route_backend.checked_device("eth0") == "eth0"
    with pytest.raises(_route_backend.RouteCommandError, match="not a Linux interface name"):
        _route_backend.checked_device("eth0\n")


def test_networkmanager_uuids_are_whole_values():
    uuid = "0f5e8c31-4f7a-4a55-9d46-0c2f1a3b4d5e"
    assert _route_networkmanager.active_devices("%s:eth0\n" % uuid) == {uuid: "eth0"}
    assert _route_networkmanager._UUID_RE.match(uuid + "\n") is None  # pylint: disable=protected-access


def test_route_metrics_are_whole_values():
    assert _route_parse._count("25", "RouteMetric") == 25  # pylint: disable=protected-access
    with pytest.raises(_route_table.RouteTableError, match="RouteMetric must be a whole number"):
        _route_parse._count("25\n", "RouteMetric")  # pylint: disable=protected-access


@pytest.mark.parametrize("call", [lambda: _client.metadata_path("instance/compute\n"),
                                  lambda: _client.metadata_path(["instance", "compute\n"]),
                                  lambda: attested_document(_client.ImdsClient(endpoint="http://127.0.0.1:9"), "abc\n")])
def test_client_paths_and_nonces_are_whole_values(call):
    with pytest.raises(_errors.ImdsRequestError):
        call()


def test_no_name_check_in_plugins_ends_with_a_bare_dollar():
    """A guard for new code: a pattern anchored with ^ and closed by "$" is a whole-value check that
    lets a trailing newline through. Line parsers that first split lines may use "\\s*$"."""
    offenders = []
    for source in PLUGINS.rglob("*.py"):
        for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
            for pattern in re.findall(r're\.compile\(r"(\^[^"]*)"', line):
                if pattern.endswith("$") and not pattern.endswith(r"\s*$"):
                    offenders.append("%s:%d: %s" % (source.relative_to(PLUGINS), number, pattern))
    assert not offenders, "use \\Z or fullmatch:\n" + "\n".join(offenders)
