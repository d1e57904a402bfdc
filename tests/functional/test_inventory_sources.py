"""The inventory plugin on files and synthetic fact caches: --tree output, raw documents, corrupt
and partial entries, hostile values, every group family on and off, constructed features, caching."""

from __future__ import annotations

import copy
import json

import pytest
from ansible_collections.imds.azure.plugins.module_utils._facts import build_fact
from helpers import paths
from helpers.ansible_runner import run_command, run_playbook
from helpers.fact_cache import write_facts
from helpers.fleet import profile
from helpers.inventory import inventory_list, members, plain, write_config
from helpers.redis_server import RedisServer

FAMILIES = ["tag", "zone", "fault_domain", "update_domain", "location", "vm_size", "scale_set", "priority", "os_type"]


def jsonfile_env(directory) -> dict:
    return {"ANSIBLE_CACHE_PLUGIN": "ansible.builtin.jsonfile", "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(directory)}


def cached(document: dict) -> dict:
    """What metadata_facts leaves in the fact cache for one VM."""
    return {"azure_imds": build_fact(document, "2025-04-07"), "discovered_interpreter_python": "/usr/bin/python3"}


@pytest.fixture
def small_cache(tmp_path):
    env = jsonfile_env(tmp_path / "facts")
    write_facts(tmp_path, env, [
        ("vm-a", cached(profile("vm-a", "1", "0", "0", tags={"Role": "web"}))),
        ("vm-b", cached(profile("vm-b", "3", "2", "4", tags={"Role": "db", "Owner": "Team Blue"},
                                vmScaleSetName="", priority="Spot", osType="Linux"))),
    ])
    return env


def test_tree_output(tmp_path, make_emulator):
    emulators = {"web1.example.com": make_emulator(profile=profile("web1", "1", "0", "0", tags={"Role": "web"})),
                 "db-2": make_emulator(profile=profile("db2", "2", "1", "1", tags={"Role": "db"}))}
    hosts = tmp_path / "hosts.ini"
    hosts.write_text("".join("%s ansible_connection=local imds_endpoint=%s\n" % (h, e.url)
                             for h, e in emulators.items()))
    tree = tmp_path / "tree"
    completed = run_command(tmp_path / "adhoc", ["ansible", "all", "-i", str(hosts), "-m",
                                                 "imds.azure.metadata_facts", "-a", "endpoint={{ imds_endpoint }}",
                                                 "--tree", str(tree)])
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert sorted(p.name for p in tree.iterdir()) == ["db-2", "web1.example.com"]
    config = write_config(tmp_path / "inv", "plugin: imds.azure.imds\nuse_fact_cache: false\npaths: [%s]\n" % tree)
    listing, stderr = inventory_list(tmp_path, [config], {})
    assert "WARNING" not in stderr, stderr
    assert members(listing, "azure_zone_1") == {"web1.example.com"}
    assert members(listing, "azure_tag_role_db") == {"db-2"}
    assert plain(listing["_meta"]["hostvars"]["db-2"]["azure_imds"])["compute"]["name"] == "db2"


def test_raw_documents_of_every_sample(tmp_path):
    documents = tmp_path / "docs"
    documents.mkdir()
    expected = {}
    for folder in (paths.SAMPLES, paths.FIELD_SAMPLES):
        for path in folder.glob("*.json"):
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and ("compute" in data or "network" in data) and path.stem != "docs-network-ipv6":
                (documents / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
                expected[path.stem] = data
    beats = json.loads((paths.FIELD_SAMPLES / "beats-aks-vmss-compute.json").read_text())
    (documents / "aks-node.json").write_text(json.dumps({"compute": beats}))
    config = write_config(tmp_path / "inv", "plugin: imds.azure.imds\nuse_fact_cache: false\npaths: [%s]\n" % documents)
    listing, stderr = inventory_list(tmp_path, [config], {})
    hostvars = plain(listing["_meta"]["hostvars"])
    assert set(hostvars) == set(expected) | {"aks-node"}, stderr
    # Old api-versions, missing keys, storageProfile {}, tagsList [] beside tags: no crash, right groups.
    assert hostvars["wala-valid"]["azure_tags"] == {} and hostvars["wala-valid"]["azure_zone"] == ""
    assert "wala-valid" in members(listing, "azure_zone_none")
    assert hostvars["aks-node"]["azure_tags"]["aks-managed-orchestrator"] == "Kubernetes:1.25.6"
    assert "aks-node" in members(listing, "azure_tag_aks_managed_orchestrator_kubernetes_1_25_6")
    assert "aks-node" in members(listing, "azure_scale_set_aks_agentpool_12628255_vmss")
    assert hostvars["wala-unicode"]["azure_location"] == "wéstus"
    assert "wala-unicode" in members(listing, "azure_location_w_stus")
    assert "userData" not in hostvars["subman-instance-rhel"]["azure_imds"]["compute"]
    assert len(hostvars["cloudinit-derived-three-nics"]["azure_imds"]["network"]["interface"]) == 3


def test_corrupt_and_partial_entries_warn_and_lose_nothing(tmp_path, small_cache):
    facts_dir = tmp_path / "facts"
    good = json.loads((facts_dir / "s1_vm-a").read_text())
    (facts_dir / "s1_broken").write_text('{"__payload__": "{\\"azure_imds\\": {\\"compute\\": ')
    (facts_dir / "s1_truncated").write_text((facts_dir / "s1_vm-a").read_text()[:50])
    partial = copy.deepcopy(good)
    partial["__payload__"] = json.dumps({"azure_imds": {"compute": "not an object", "network": {}}})
    (facts_dir / "s1_partial").write_text(json.dumps(partial))
    (facts_dir / "s1_listy").write_text(json.dumps({"__payload__": "[1, 2]"}))
    (facts_dir / "s1_setup-only").write_text(json.dumps({"__payload__": json.dumps({"ansible_os_family": "Debian"})}))
    before = {p.name: p.read_bytes() for p in facts_dir.iterdir()}
    config = write_config(tmp_path / "inv")
    listing, stderr = inventory_list(tmp_path, [config], small_cache)
    assert set(listing["_meta"]["hostvars"]) == {"vm-a", "vm-b"}
    flat = " ".join(stderr.split())
    for host in ("broken", "truncated", "partial", "listy"):
        assert "skipped host '%s' from fact cache file %s" % (host, facts_dir / ("s1_" + host)) in flat, stderr
    assert "compute is a JSON str, not an object" in flat
    assert "setup-only" not in stderr  # no azure_imds fact: not an IMDS host, no warning
    assert {p.name: p.read_bytes() for p in facts_dir.iterdir()} == before

    strict = write_config(tmp_path / "strict", "plugin: imds.azure.imds\nstrict: true\n")
    completed = run_command(tmp_path / "strict-run", ["ansible-inventory", "-i", str(strict), "--list"],
                            env=small_cache)
    assert completed.returncode != 0
    flat = " ".join(completed.stderr.split())
    assert "strict is on" in flat and "skipped host 'broken' from fact cache file" in flat, completed.stderr


def test_corrupt_redis_entry(tmp_path):
    server = RedisServer(tmp_path / "redis")
    try:
        env = {"ANSIBLE_CACHE_PLUGIN": "community.general.redis", "ANSIBLE_CACHE_PLUGIN_CONNECTION": server.connection}
        write_facts(tmp_path, env, [("vm-a", cached(profile("vm-a", "1", "0", "0")))])
        client = server.client()
        client.set("ansible_factss1_vm-bad", b"{not json")
        client.zadd("ansible_cache_keys", {"s1_vm-bad": 9e12})
        listing, stderr = inventory_list(tmp_path, [write_config(tmp_path / "inv")], env)
        assert set(listing["_meta"]["hostvars"]) == {"vm-a"}
        assert "skipped host 'vm-bad' from" in stderr and "'ansible_factss1_vm-bad'" in stderr
        assert client.get("ansible_factss1_vm-bad") == b"{not json"
    finally:
        server.stop()


def test_bad_files_and_hostile_file_names(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    good = profile("ok", "1", "0", "0")
    (docs / "ok.json").write_text(json.dumps(good))
    (docs / "html.json").write_text("<html>proxy</html>")
    (docs / "failed").write_text(json.dumps({"failed": True, "msg": "IMDS timed out"}))
    (docs / "latin1.json").write_bytes(b'{"compute": {"name": "\xe9"}}')
    (docs / "deep.json").write_text("[" * 100000 + "]" * 100000)
    (docs / "--force.json").write_text(json.dumps(good))
    (docs / "a b;rm -rf x.json").write_text(json.dumps(good))
    (docs / ".hidden.json").write_text("junk")
    config = write_config(tmp_path / "inv", "plugin: imds.azure.imds\nuse_fact_cache: false\npaths: [%s]\n" % docs)
    listing, stderr = inventory_list(tmp_path, [config], {})
    assert set(listing["_meta"]["hostvars"]) == {"ok"}
    flat = " ".join(stderr.split())
    for fragment in ("'html' from %s: the file is not valid JSON" % (docs / "html.json"),
                     "'failed' from %s: it records a failed run: IMDS timed out" % (docs / "failed"),
                     "'latin1' from %s: the file is not UTF-8" % (docs / "latin1.json"),
                     "'deep' from", "'--force' from", "not a usable host name"):
        assert fragment in flat, stderr
    assert ".hidden" not in stderr


def test_hostile_tag_names_and_values_in_group_names(tmp_path):
    env = jsonfile_env(tmp_path / "facts")
    hostile = {"{{ lookup('pipe', 'touch /tmp/x') }}": "{% raw %}x", "Role": "../../etc; $(reboot)"}
    write_facts(tmp_path, env, [("vm-h", cached(profile("vm-h", "1", "0", "0", tags=hostile)))])
    listing, _stderr = inventory_list(tmp_path, [write_config(tmp_path / "inv")], env)
    assert members(listing, "azure_tag_lookup_pipe_touch_tmp_x") == {"vm-h"}
    assert members(listing, "azure_tag_lookup_pipe_touch_tmp_x_raw_x") == {"vm-h"}
    assert members(listing, "azure_tag_role_etc_reboot") == {"vm-h"}
    assert plain(listing["_meta"]["hostvars"]["vm-h"]["azure_tags"]) == hostile


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_switches_off_and_on(tmp_path, small_cache, family):
    prefix_of = {"tag": "azure_tag_", "zone": "azure_zone_", "fault_domain": "azure_fault_domain_",
                 "update_domain": "azure_update_domain_", "location": "azure_location_", "vm_size": "azure_vm_size_",
                 "scale_set": "azure_scale_set_", "priority": "azure_priority_", "os_type": "azure_os_type_"}
    others = [f for f in FAMILIES if f != family]
    without = write_config(tmp_path / "without", "plugin: imds.azure.imds\ndefault_groups: %s\n" % json.dumps(others))
    listing, _stderr = inventory_list(tmp_path, [without], small_cache)
    assert not [g for g in listing if g.startswith(prefix_of[family])]
    for other in others:
        assert [g for g in listing if g.startswith(prefix_of[other])], other
    alone = write_config(tmp_path / "alone", "plugin: imds.azure.imds\ndefault_groups: [%s]\n" % family)
    listing, _stderr = inventory_list(tmp_path, [alone], small_cache)
    made = [g for g in listing if g.startswith("azure_")]
    assert made and all(g.startswith(prefix_of[family]) for g in made)


def test_no_default_groups_and_a_custom_prefix(tmp_path, small_cache):
    none = write_config(tmp_path / "none", "plugin: imds.azure.imds\ndefault_groups: []\n")
    listing, _stderr = inventory_list(tmp_path, [none], small_cache)
    assert set(listing) == {"_meta", "all", "ungrouped"}
    assert set(listing["ungrouped"]["hosts"]) == {"vm-a", "vm-b"}
    custom = write_config(tmp_path / "custom", "plugin: imds.azure.imds\ngroup_prefix: az\n")
    listing, _stderr = inventory_list(tmp_path, [custom], small_cache)
    assert members(listing, "az_zone_3") == {"vm-b"} and members(listing, "az_scale_set_crpteste9vflji9") == {"vm-a"}
    assert members(listing, "az_tag_owner_team_blue") == {"vm-b"}
    bad = write_config(tmp_path / "bad", "plugin: imds.azure.imds\ngroup_prefix: 'a-b'\n")
    completed = run_command(tmp_path / "bad-run", ["ansible-inventory", "-i", str(bad), "--list"], env=small_cache)
    assert completed.returncode != 0 and "group_prefix" in completed.stderr


def test_constructed_features(tmp_path, small_cache):
    config = write_config(tmp_path / "inv", """plugin: imds.azure.imds
default_groups: [zone]
compose:
  ansible_host: azure_imds.network.interface[0].ipv4.ipAddress[0].privateIpAddress
  rack: "'fd' ~ azure_fault_domain"
groups:
  spot_db: azure_imds.compute.priority == 'Spot' and azure_tags.Role == 'db'
keyed_groups:
  - key: azure_tags.Role
    prefix: role
  - key: azure_location
    leading_separator: false
""")
    listing, _stderr = inventory_list(tmp_path, [config], small_cache)
    hostvars = plain(listing["_meta"]["hostvars"])
    assert hostvars["vm-b"]["rack"] == "fd2" and hostvars["vm-a"]["ansible_host"] == "10.144.133.132"
    assert members(listing, "spot_db") == {"vm-b"}
    assert members(listing, "role_web") == {"vm-a"} and members(listing, "role_db") == {"vm-b"}
    assert members(listing, "_westus") == {"vm-a", "vm-b"}
    strict = write_config(tmp_path / "strict", "plugin: imds.azure.imds\nstrict: true\ncompose:\n  x: azure_nothing.y\n")
    completed = run_command(tmp_path / "strict-run", ["ansible-inventory", "-i", str(strict), "--list"],
                            env=small_cache)
    assert completed.returncode != 0 and "azure_nothing" in completed.stderr
    lenient = write_config(tmp_path / "lenient", "plugin: imds.azure.imds\ncompose:\n  x: azure_nothing.y\n")
    listing, _stderr = inventory_list(tmp_path, [lenient], small_cache)
    assert "x" not in listing["_meta"]["hostvars"]["vm-a"]


def test_collisions_are_named(tmp_path):
    env = jsonfile_env(tmp_path / "facts")
    write_facts(tmp_path, env, [("vm-1", cached(profile("vm-1", "1", "0", "0", tags={"Role": "Web"}))),
                                ("vm-2", cached(profile("vm-2", "1", "0", "0", tags={"role": "web"})))])
    listing, stderr = inventory_list(tmp_path, [write_config(tmp_path / "inv")], env)
    assert members(listing, "azure_tag_role_web") == {"vm-1", "vm-2"}
    flat = " ".join(stderr.split())
    assert "Group azure_tag_role_web holds hosts of different values: tag 'Role'='Web' (host vm-1); " \
           "tag 'role'='web' (host vm-2)" in flat, stderr


def test_inventory_cache(tmp_path, small_cache):
    inventory_cache = tmp_path / "inventory-cache"
    config = write_config(tmp_path / "inv", """plugin: imds.azure.imds
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: %s
""" % inventory_cache)
    first, _stderr = inventory_list(tmp_path, [config], small_cache)
    assert set(first["_meta"]["hostvars"]) == {"vm-a", "vm-b"}
    assert list(inventory_cache.iterdir())
    for entry in (tmp_path / "facts").iterdir():
        entry.unlink()
    second, _stderr = inventory_list(tmp_path, [config], small_cache)

    # Served from the inventory cache: same groups, same azure_* variables (ansible-inventory also
    # shows cached facts such as discovered_interpreter_python, and those are gone now).
    def imds_only(listing):
        hostvars = {h: {k: v for k, v in hv.items() if k.startswith("azure_")}
                    for h, hv in listing["_meta"]["hostvars"].items()}
        return {k: v for k, v in listing.items() if k != "_meta"}, hostvars

    assert imds_only(second) == imds_only(first)
    flushed, _stderr = inventory_list(tmp_path, [config], small_cache, extra=["--flush-cache"])
    assert set(flushed["_meta"]["hostvars"]) == set()


def test_memory_fact_cache_is_explained(tmp_path):
    listing, stderr = inventory_list(tmp_path, [write_config(tmp_path / "inv")], {"ANSIBLE_CACHE_PLUGIN": "memory"})
    assert set(listing["_meta"]["hostvars"]) == set()
    assert "keeps nothing between runs" in " ".join(stderr.split())


def test_only_imds_yml_files_are_taken(tmp_path, small_cache):
    other = write_config(tmp_path / "inv", "plugin: imds.azure.imds\n", name="azure.yml")
    completed = run_command(tmp_path / "run", ["ansible-inventory", "-i", str(other), "--list"], env=small_cache)
    assert completed.returncode != 0
    assert "imds.azure.imds" not in completed.stdout


def test_a_tampered_cache_cannot_smuggle_template_trust(tmp_path):
    """ansible-core 2.19 caches can carry data tags; an entry forged to mark IMDS text as a trusted
    template must not become a trusted hostvar of this plugin.

    (ansible-playbook also loads the same entry as facts, and ansible-core itself honours the
    forged trust there: that is why the play below uses the plugin's own flat variables. The
    guide tells users to protect a shared cache.)"""
    # pylint: disable=import-outside-toplevel
    from ansible._internal._datatag._tags import TrustedAsTemplate
    from ansible._internal._json._profiles import _cache_persistence

    marker = tmp_path / "templated"
    evil = TrustedAsTemplate().tag("{{ lookup('pipe', 'touch %s') }}" % marker)
    facts = cached(profile("vm-t", "1", "0", "0", tags={"Role": "web"}))
    facts["azure_imds"]["compute"]["name"] = evil
    facts["azure_imds"]["compute"]["location"] = evil
    facts["azure_imds"]["tags"]["Role"] = evil
    facts_dir = tmp_path / "facts"
    facts_dir.mkdir()
    entry = {"__payload__": json.dumps(facts, cls=_cache_persistence.Encoder)}
    assert "TrustedAsTemplate" in entry["__payload__"]
    (facts_dir / "s1_vm-t").write_text(json.dumps(entry))
    env = jsonfile_env(facts_dir)
    config = write_config(tmp_path / "inv")
    playbook = """
- hosts: all
  gather_facts: false
  tasks:
    - name: use
      ansible.builtin.debug:
        msg: "{{ azure_zone }} {{ azure_location }} {{ azure_tags }}"
"""
    run = run_playbook(tmp_path / "play", playbook, inventory=str(config), env=env)
    assert run.rc == 0, run.output
    assert not marker.exists()
    assert run.task("use", "vm-t")["status"] == "ok"
    listing, _stderr = inventory_list(tmp_path, [config], env)
    hostvars = listing["_meta"]["hostvars"]["vm-t"]
    # The forged tag structure is plain (untrusted) data in our variables, not a trusted string.
    assert plain(hostvars["azure_zone"]) == "1"
    assert plain(hostvars["azure_location"]) == ""
    assert plain(hostvars["azure_tags"]) == {"Role": "web"}  # the forged tags dict was rebuilt from compute.tags
