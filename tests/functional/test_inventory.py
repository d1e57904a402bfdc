"""The imds.azure.imds inventory plugin, end to end: facts gathered with metadata_facts from
"VMs" (network namespaces, each with its own IMDS emulator) into a real fact cache (Redis from
Debian's redis-server, and jsonfile), then grouped by ansible-inventory and used by ansible-playbook."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers.ansible_runner import module_play, run_command, run_playbook
from helpers.fleet import ARITHMETIC_TAG, HOSTILE_TAG, TEMPLATED_MARKER, Fleet, three_vms
from helpers.inventory import inventory_list, members, plain, write_config
from helpers.redis_server import RedisServer

HOSTILE = HOSTILE_TAG


@pytest.fixture(autouse=True)
def no_marker():
    """The hostile tag touches this file if it is ever templated."""
    marker = Path(TEMPLATED_MARKER)
    marker.unlink(missing_ok=True)
    yield
    assert not marker.exists(), "a hostile IMDS tag value was templated"


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path / "redis")
    yield server
    server.stop()


def check_three_vm_groups(listing: dict) -> None:
    assert members(listing, "azure_zone_1") == {"web1"}
    assert members(listing, "azure_zone_2") == {"web2"}
    assert members(listing, "azure_zone_none") == {"db1"}
    assert members(listing, "azure_fault_domain_0") == {"web1"}
    assert members(listing, "azure_fault_domain_1") == {"web2", "db1"}
    assert members(listing, "azure_update_domain_2") == {"db1"}
    assert members(listing, "azure_tag_Role") == {"web1", "web2", "db1"}
    assert members(listing, "azure_tag_Role_web") == {"web1", "web2"}
    assert members(listing, "azure_tag_Role_db") == {"db1"}
    assert members(listing, "azure_tag_Environment_prod") == {"web1"}
    assert members(listing, "azure_tag_orchestrator_Kubernetes_1_25_6") == {"db1"}
    assert members(listing, "azure_priority_Spot") == {"web2"}
    assert members(listing, "azure_priority_Regular") == {"web1", "db1"}
    assert members(listing, "azure_os_type_Linux") == {"db1"}
    assert members(listing, "azure_location_westus") == {"web1", "web2", "db1"}
    raw_hostvars = listing["_meta"]["hostvars"]
    # Every value from IMDS is marked unsafe (2.19+: untrusted); --list shows the marking.
    assert raw_hostvars["db1"]["azure_tags"]["Note"] == {"__ansible_unsafe": HOSTILE}
    assert raw_hostvars["web1"]["azure_instance"]["compute"]["location"] == {"__ansible_unsafe": "westus"}
    hostvars = plain(raw_hostvars)
    assert hostvars["web1"]["azure_zone"] == "1" and hostvars["web1"]["azure_fault_domain"] == "0"
    assert hostvars["web1"]["azure_tags"]["Answer"] == ARITHMETIC_TAG
    assert hostvars["db1"]["azure_tags"] == {"Role": "db", "orchestrator": "Kubernetes:1.25.6", "Note": HOSTILE}
    assert hostvars["db1"]["azure_instance"]["compute"]["name"] == "db1"
    assert hostvars["web2"]["azure_instance"]["network"]["interface"][0]["macAddress"] == "0011AAFFBB22"
    assert "userData" not in hostvars["web1"]["azure_instance"]["compute"]
    # The hostile tags reached no group name unsanitized.
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", name) for name in listing)


ALL_VARIABLES = "plugin: imds.azure.imds\nhost_variables: [flat, tags, instance]\n"


def gather_fleet(tmp_path, make_netns, cache_env: dict) -> Fleet:
    fleet = Fleet(make_netns, tmp_path / "fleet", three_vms())
    run = run_playbook(tmp_path / "gather", module_play("imds.azure.metadata_facts"), inventory=str(fleet.inventory),
                       env=cache_env)
    assert run.rc == 0, run.output
    assert {r["host"] for r in run.results if r["status"] == "ok"} == {"web1", "web2", "db1"}
    return fleet


def use_hostile_hostvars(tmp_path, config, env: dict) -> None:
    """A play and compose that use the hostile tags must print them, not run them (every ansible-core line)."""
    marker = tmp_path / "templated"
    playbook = """
- hosts: azure_tag_Role_db:azure_tag_Role_web
  gather_facts: false
  tasks:
    - name: use
      ansible.builtin.debug:
        msg: "{{ azure_tags.Note | default('') }} | {{ azure_instance.tags.Note | default('') }} | \\
          {{ azure_tags.Answer | default('') }} | {{ answer | default('') }}"
    - name: compose
      ansible.builtin.copy:
        content: "{{ azure_tags.Note }}"
        dest: %s
      delegate_to: localhost
      when: inventory_hostname == 'db1'
""" % marker
    composing = write_config(config.parent.parent / "composing", config.read_text()
                             + "compose:\n  answer: azure_tags.Answer | default('none')\n")
    run = run_playbook(tmp_path / "use", playbook, inventory=str(composing), env=env)
    assert run.rc == 0, run.output
    assert run.task("use", "db1")["result"]["msg"] == "%s | %s |  | none" % (HOSTILE, HOSTILE)
    assert run.task("use", "web1")["result"]["msg"] == " |  | %s | %s" % (ARITHMETIC_TAG, ARITHMETIC_TAG)
    assert marker.read_text() == HOSTILE


def test_redis_fact_cache(tmp_path, make_netns, redis_server):
    env = {"ANSIBLE_CACHE_PLUGIN": "community.general.redis",
           "ANSIBLE_CACHE_PLUGIN_CONNECTION": redis_server.connection,
           "ANSIBLE_CACHE_PLUGIN_PREFIX": "imds_test_"}
    gather_fleet(tmp_path, make_netns, env)
    assert len(redis_server.client().keys("imds_test_*")) == 3
    config = write_config(tmp_path / "inventory", ALL_VARIABLES)
    listing, _stderr = inventory_list(tmp_path, [config], env)
    check_three_vm_groups(listing)
    graph = run_command(tmp_path / "graph", ["ansible-inventory", "-i", str(config), "--graph"], env=env)
    assert "@azure_zone_1:\n  |  |--web1" in graph.stdout.replace("|--@", "@"), graph.stdout
    use_hostile_hostvars(tmp_path, config, env)


def test_jsonfile_fact_cache_enriching_an_existing_inventory(tmp_path, make_netns):
    facts_dir = tmp_path / "facts"
    env = {"ANSIBLE_CACHE_PLUGIN": "ansible.builtin.jsonfile", "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(facts_dir)}
    fleet = gather_fleet(tmp_path, make_netns, env)
    before = {p.name: p.read_bytes() for p in facts_dir.iterdir()}
    config = write_config(tmp_path / "inventory", ALL_VARIABLES)
    # Sources in order: the static INI first (its vars stay), then the plugin enriches the same hosts.
    listing, _stderr = inventory_list(tmp_path, [fleet.inventory, config], env)
    check_three_vm_groups(listing)
    assert members(listing, "vms") == {"web1", "web2", "db1"}
    assert listing["_meta"]["hostvars"]["web1"]["ansible_connection"] == "local"
    use_hostile_hostvars(tmp_path, config, env)
    assert {p.name: p.read_bytes() for p in facts_dir.iterdir()} == before  # read, never written
