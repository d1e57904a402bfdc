"""imds.azure.windows_first_run (playbooks/windows_first_run.yml), the read-only first run the Windows
guide asks for on a real Windows Server node, run here with ansible-playbook against the failover-cluster
node double (doubles/windows_route_double.py behind tests/doubles/windows_node/module_double.py as
ansible.windows.win_powershell and imds.azure.win_imds_attempt), on the oldest and newest ansible.windows
win_powershell the double models. It must change nothing and print what the guide shows."""

from __future__ import annotations

import re

import pytest
import yaml
from doubles import win_powershell, windows_double, windows_node
from helpers import paths
from helpers.ansible_runner import run_playbook
from doubles.windows_route_double import cluster_node

NODE_DOUBLE = windows_double.DOUBLES / "windows_node" / "module_double.py"
PLAY = "- name: First run\n  ansible.builtin.import_playbook: imds.azure.windows_first_run\n"
GUIDE = paths.ROOT / "docs" / "docsite" / "rst" / "guide_windows.rst"


def guide_expectation() -> dict:
    """The YAML block of the guide's "First run on a real Windows node" section."""
    section = GUIDE.read_text(encoding="utf-8").split("First run on a real Windows node\n", 1)[1]
    block = re.search(r"\.\. code-block:: yaml\n\n((?:   .*\n|\n)+)", section).group(1)
    return yaml.safe_load("\n".join(line[3:] for line in block.splitlines()))


def first_run(tmp_path, node, extra: list | None = None):
    state = tmp_path / "node.pickle"
    windows_node.save(node, state)
    root = tmp_path / "collections"
    windows_double.doubled_copy(paths.ROOT, root / "ansible_collections" / "imds" / "azure",
                                {"win_imds_attempt": NODE_DOUBLE})
    windows_double.doubled_copy(paths.COLLECTIONS_PATH / "ansible_collections" / "ansible" / "windows",
                                root / "ansible_collections" / "ansible" / "windows", {"win_powershell": NODE_DOUBLE})
    inventory = tmp_path / "hosts.ini"
    host_vars = " ".join("%s=%s" % kv for kv in windows_double.WINDOWS_HOST_VARS.items())
    inventory.write_text("[windows]\nnode1 %s\n" % host_vars)
    env = {"ANSIBLE_COLLECTIONS_PATH": "%s:%s" % (root, windows_double.DOUBLES), windows_node.STATE_ENV: str(state),
           windows_node.TESTS_DIR_ENV: str(paths.TESTS)}
    run = run_playbook(tmp_path / "play", PLAY, inventory=str(inventory), env=env, args=extra)
    assert run.rc == 0, run.output
    return run, windows_node.load(state)


@pytest.mark.parametrize("release", [win_powershell.OLDEST, win_powershell.NEWEST])
def test_first_run_on_the_docs_cluster_node_changes_nothing_and_shows_the_guides_values(tmp_path, release):
    node = cluster_node(release=release, cluster_node_state=None, failover_clustering_module=False)
    run, after = first_run(tmp_path, node, ["-e", "imds_max_retry_time=1.5"])
    assert after.routes == node.routes  # read-only
    shown = run.task("Show what to compare with the Windows guide")["result"]["msg"]
    assert shown["route_plan"]["needed"] is True and shown["route_plan"]["interface"] == "10.0.1.10"
    assert shown["route_commands"][0].startswith("New-NetRoute -DestinationPrefix 169.254.169.254/32 -InterfaceIndex 7")
    assert shown["cluster_membership"]["member"] is True
    assert "ClusSvc is running" in shown["cluster_membership"]["reason"]
    # The route is missing, so IMDS does not answer yet: reported, not fatal.
    assert shown["facts_gather"].startswith("failed: ")
    # The raw shapes at win_powershell's default depth: enums as their numbers, on both releases.
    assert shown["raw_shapes"]["cluster_service"] == [{"Name": "ClusSvc", "Status": 4}]
    assert shown["raw_shapes"]["failover_clusters_module"] is False
    assert {(a["IPAddress"], a["AddressState"], a["PrefixOrigin"], a["SkipAsSource"])
            for a in shown["raw_shapes"]["addresses"] if a["InterfaceIndex"] == 7} == {
        ("10.0.1.10", 4, 3, False), ("10.0.1.5", 4, 1, True), ("10.0.1.15", 4, 1, True)}
    # What the guide tells the operator to expect is what the play prints.
    expected = guide_expectation()
    assert expected["route_plan"].items() <= shown["route_plan"].items()
    assert expected["route_commands"] == shown["route_commands"]
    assert expected["cluster_membership"] == shown["cluster_membership"]
    assert expected["raw_shapes"]["cluster_service"] == shown["raw_shapes"]["cluster_service"]
    assert expected["raw_shapes"]["failover_clusters_module"] == shown["raw_shapes"]["failover_clusters_module"]
    for row in expected["raw_shapes"]["addresses"]:
        assert any(row.items() <= got.items() for got in shown["raw_shapes"]["addresses"]), row


def test_first_run_where_the_route_is_fixed_gathers_the_facts_even_in_check_mode(tmp_path):
    node = cluster_node(fixed="both")
    run, after = first_run(tmp_path, node, ["--check"])
    assert after.routes == node.routes
    shown = run.task("Show what to compare with the Windows guide")["result"]["msg"]
    assert shown["route_plan"]["needed"] is False and shown["route_commands"] == []
    assert shown["facts_gather"] == "gathered, vmId %s" % node.vm_id
    assert shown["cluster_membership"] == {"member": True, "reason": "Get-ClusterNode lists this node (state Up)"}
    assert shown["raw_shapes"]["failover_clusters_module"] is True
