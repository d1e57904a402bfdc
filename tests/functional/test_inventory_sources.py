"""The inventory plugin on files and synthetic fact caches: --tree output, raw documents, corrupt
and partial entries, hostile values, every group family on and off, constructed features, caching."""

from __future__ import annotations

import json
import os
import re

import pytest
from helpers import paths
from helpers.ansible_runner import run_command, run_playbook
from helpers.fact_cache import PAYLOAD_LAYOUT, cache_key, cached, entry_text, jsonfile_env, write_facts
from helpers.fleet import profile
from helpers.inventory import Said, inventory_list, members, plain, warnings_in, write_config
from helpers.redis_server import RedisServer

FAMILIES = ["tag", "zone", "fault_domain", "update_domain", "location", "vm_size", "scale_set", "priority", "os_type"]


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
    assert warnings_in(stderr) == [], stderr
    assert members(listing, "azure_zone_1") == {"web1.example.com"}
    assert members(listing, "azure_tag_Role_db") == {"db-2"}
    assert plain(listing["_meta"]["hostvars"]["db-2"]["azure_tags"]) == {"Role": "db"}


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
    config = write_config(tmp_path / "inv", "plugin: imds.azure.imds\nuse_fact_cache: false\npaths: [%s]\n"
                                            "host_variables: [flat, tags, instance]\n" % documents)
    listing, stderr = inventory_list(tmp_path, [config], {})
    hostvars = plain(listing["_meta"]["hostvars"])
    assert set(hostvars) == set(expected) | {"aks-node"}, stderr
    # Old api-versions, missing keys, storageProfile {}, tagsList [] beside tags: no crash, right groups.
    assert hostvars["wala-valid"]["azure_tags"] == {} and hostvars["wala-valid"]["azure_zone"] == ""
    assert "wala-valid" in members(listing, "azure_zone_none")
    assert hostvars["aks-node"]["azure_tags"]["aks-managed-orchestrator"] == "Kubernetes:1.25.6"
    assert "aks-node" in members(listing, "azure_tag_aks_managed_orchestrator_Kubernetes_1_25_6")
    assert "aks-node" in members(listing, "azure_scale_set_aks_agentpool_12628255_vmss")
    assert hostvars["wala-unicode"]["azure_location"] == "wéstus"
    assert "wala-unicode" in members(listing, "azure_location_wéstus")  # a word character: Ansible keeps it
    assert "userData" not in hostvars["subman-instance-rhel"]["azure_instance"]["compute"]
    assert len(hostvars["cloudinit-derived-three-nics"]["azure_instance"]["network"]["interface"]) == 3


def test_corrupt_and_partial_entries_warn_and_lose_nothing(tmp_path, small_cache):
    facts_dir = tmp_path / "facts"
    good = (facts_dir / cache_key("vm-a")).read_text()
    if PAYLOAD_LAYOUT:
        (facts_dir / "s1_broken").write_text('{"__payload__": "{\\"azure_imds\\": {\\"compute\\": ')
    else:
        (facts_dir / "broken").write_text('{"azure_imds": {"compute": ')
    (facts_dir / cache_key("truncated")).write_text(good[:50])
    (facts_dir / cache_key("partial")).write_text(entry_text({"azure_imds": {"compute": "not an object", "network": {}}}))
    (facts_dir / cache_key("listy")).write_text(entry_text([1, 2]))
    (facts_dir / cache_key("setup-only")).write_text(entry_text({"ansible_os_family": "Debian"}))
    before = {p.name: p.read_bytes() for p in facts_dir.iterdir()}
    config = write_config(tmp_path / "inv")
    listing, stderr = inventory_list(tmp_path, [config], small_cache)
    assert set(listing["_meta"]["hostvars"]) == {"vm-a", "vm-b"}
    flat = Said(stderr)
    for host in ("broken", "truncated", "partial", "listy"):
        assert "skipped host '%s' from fact cache file %s" % (host, facts_dir / cache_key(host)) in flat, stderr
    assert "compute is a JSON str, not an object" in flat
    assert "setup-only" not in stderr  # no azure_imds fact: not an IMDS host, no warning
    assert {p.name: p.read_bytes() for p in facts_dir.iterdir()} == before

    strict = write_config(tmp_path / "strict", "plugin: imds.azure.imds\nstrict: true\n")
    completed = run_command(tmp_path / "strict-run", ["ansible-inventory", "-i", str(strict), "--list"],
                            env=small_cache)
    assert completed.returncode != 0
    flat = Said(completed.stderr)
    assert "strict is on" in flat and "skipped host 'broken' from fact cache file" in flat, completed.stderr


def test_corrupt_redis_entry(tmp_path):
    server = RedisServer(tmp_path / "redis")
    try:
        env = {"ANSIBLE_CACHE_PLUGIN": "community.general.redis", "ANSIBLE_CACHE_PLUGIN_CONNECTION": server.connection}
        write_facts(tmp_path, env, [("vm-a", cached(profile("vm-a", "1", "0", "0")))])
        client = server.client()
        key = cache_key("vm-bad")
        client.set("ansible_facts" + key, b"{not json")
        client.zadd("ansible_cache_keys", {key: 9e12})
        listing, stderr = inventory_list(tmp_path, [write_config(tmp_path / "inv")], env)
        assert set(listing["_meta"]["hostvars"]) == {"vm-a"}
        assert "skipped host 'vm-bad' from" in stderr and "'ansible_facts%s'" % key in stderr
        assert client.get("ansible_facts" + key) == b"{not json"
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
    flat = Said(stderr)
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
    name = "azure_tag____lookup__pipe____touch__tmp_x_____"
    assert members(listing, name) == {"vm-h"}
    assert members(listing, name + "____raw___x") == {"vm-h"}
    assert members(listing, "azure_tag_Role_______etc____reboot_") == {"vm-h"}
    assert plain(listing["_meta"]["hostvars"]["vm-h"]["azure_tags"]) == hostile
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", group) for group in listing)


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
    assert members(listing, "az_tag_Owner_Team_Blue") == {"vm-b"}
    bad = write_config(tmp_path / "bad", "plugin: imds.azure.imds\ngroup_prefix: 'a-b'\n")
    completed = run_command(tmp_path / "bad-run", ["ansible-inventory", "-i", str(bad), "--list"], env=small_cache)
    assert completed.returncode != 0 and "group_prefix" in completed.stderr


@pytest.mark.quick
def test_constructed_features(tmp_path, small_cache):
    config = write_config(tmp_path / "inv", """plugin: imds.azure.imds
default_groups: [zone]
allow_connection_variables: [ansible_host]
compose:
  ansible_host: azure_instance.network.interface[0].ipv4.ipAddress[0].privateIpAddress
  rack: "'fd' ~ azure_fault_domain"
groups:
  spot_db: azure_instance.compute.priority == 'Spot' and azure_tags.Role == 'db'
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


def test_default_names_keep_case_as_keyed_groups_do(tmp_path, small_cache):
    """The default tag groups are exactly what keyed_groups makes from azure_tags with the same prefix."""
    config = write_config(tmp_path / "inv", """plugin: imds.azure.imds
keyed_groups:
  - key: azure_tags
    prefix: kg_tag
  - key: azure_location
    prefix: kg_location
""")
    listing, stderr = inventory_list(tmp_path, [config], small_cache)
    assert members(listing, "azure_tag_Role_web") == {"vm-a"} and members(listing, "azure_tag_Owner") == {"vm-b"}
    assert members(listing, "azure_tag_Owner_Team_Blue") == {"vm-b"}
    assert members(listing, "azure_priority_Spot") == {"vm-b"} and members(listing, "azure_os_type_Linux") == {"vm-b"}
    ours = {g[len("azure_tag_"):]: members(listing, g) for g in listing if g.startswith("azure_tag_") and "_" in g[10:]}
    theirs = {g[len("kg_tag_"):]: members(listing, g) for g in listing if g.startswith("kg_tag_")}
    assert ours == theirs and ours
    assert members(listing, "azure_location_westus") == members(listing, "kg_location_westus") == {"vm-a", "vm-b"}
    assert warnings_in(stderr) == [], stderr


def test_lower_case_names_as_an_option(tmp_path, small_cache):
    config = write_config(tmp_path / "inv", "plugin: imds.azure.imds\ngroup_name_style: lower\n")
    listing, _stderr = inventory_list(tmp_path, [config], small_cache)
    assert members(listing, "azure_tag_role_web") == {"vm-a"} and members(listing, "azure_tag_owner_team_blue") == {"vm-b"}
    assert members(listing, "azure_priority_spot") == {"vm-b"}
    assert not [g for g in listing if g != g.lower()]
    bad = write_config(tmp_path / "bad", "plugin: imds.azure.imds\ngroup_name_style: upper\n")
    completed = run_command(tmp_path / "bad-run", ["ansible-inventory", "-i", str(bad), "--list"], env=small_cache)
    assert completed.returncode != 0 and "group_name_style" in completed.stderr


def test_tag_name_spellings_join_one_group_and_are_named(tmp_path):
    env = jsonfile_env(tmp_path / "facts")
    write_facts(tmp_path, env, [("vm-1", cached(profile("vm-1", "1", "0", "0", tags={"Role": "web"}))),
                                ("vm-2", cached(profile("vm-2", "1", "0", "0", tags={"role": "web"}))),
                                ("vm-3", cached(profile("vm-3", "1", "0", "0", tags={"ROLE": "db"}))),
                                ("vm-4", cached(profile("vm-4", "1", "0", "0", tags={"role": "db"})))])
    listing, stderr = inventory_list(tmp_path, [write_config(tmp_path / "inv")], env)
    # 'role' is on two VMs, the others on one each: 'role' is the group for all four.
    assert members(listing, "azure_tag_role") == {"vm-1", "vm-2", "vm-3", "vm-4"}
    assert members(listing, "azure_tag_role_web") == {"vm-1", "vm-2"}
    assert members(listing, "azure_tag_role_db") == {"vm-3", "vm-4"}
    assert not [g for g in listing if g.startswith(("azure_tag_Role", "azure_tag_ROLE"))]
    assert plain(listing["_meta"]["hostvars"]["vm-1"]["azure_tags"]) == {"Role": "web"}  # each VM's own spelling
    flat = Said(stderr)
    assert "spelled differently on different VMs ('ROLE' on 1 host, 'Role' on 1 host, 'role' on 2 hosts)" in flat
    assert "grouped as 'role'" in flat and flat.count("spelled differently") == 1, stderr


def test_values_that_share_a_group_name_are_named(tmp_path):
    env = jsonfile_env(tmp_path / "facts")
    write_facts(tmp_path, env, [("vm-1", cached(profile("vm-1", "1", "0", "0", tags={"Role": "Web Server"}))),
                                ("vm-2", cached(profile("vm-2", "1", "0", "0", tags={"Role": "Web-Server"}))),
                                ("vm-3", cached(profile("vm-3", "1", "0", "0", tags={"Role": "web server"})))])
    listing, stderr = inventory_list(tmp_path, [write_config(tmp_path / "inv")], env)
    assert members(listing, "azure_tag_Role_Web_Server") == {"vm-1", "vm-2"}
    assert members(listing, "azure_tag_Role_web_server") == {"vm-3"}  # another value, another group
    flat = Said(stderr)
    assert "Group azure_tag_Role_Web_Server holds hosts of different values: tag 'Role'='Web Server' (host vm-1); " \
           "tag 'Role'='Web-Server' (host vm-2)" in flat, stderr
    assert "web server" not in flat


RESERVED = {"all": "a group every inventory has", "ungrouped": "a group every inventory has",
            "azure_zone_none": "in the namespace of this plugin's default groups",
            "azure_zone_9": "in the namespace of this plugin's default groups",
            "azure_tag_Role_web": "in the namespace of this plugin's default groups",
            "dbs": "the name of a group that groups or keyed_groups made",
            "spot": "the name of a group that groups or keyed_groups made",
            "vms": "the name of a group in this inventory"}


def test_reserved_host_names_are_refused_once_each(tmp_path):
    env = jsonfile_env(tmp_path / "facts")
    entries = [("vm-ok", cached(profile("vm-ok", "", "0", "0", tags={"Role": "web"})))]
    entries += [(name, cached(profile(name, "1", "0", "0", tags={"Role": "dbs"}))) for name in RESERVED]
    write_facts(tmp_path, env, entries)
    static = tmp_path / "static.ini"
    static.write_text("[vms]\nother\n")
    config = write_config(tmp_path / "inv", """plugin: imds.azure.imds
keyed_groups:
  - key: azure_tags.Role
    prefix: ''
    separator: ''
groups:
  spot: azure_zone == '1'
""")
    listing, stderr = inventory_list(tmp_path, [static, config], env)
    assert set(listing["_meta"]["hostvars"]) == {"vm-ok"}  # "other" has no variables
    assert members(listing, "azure_zone_none") == {"vm-ok"} and members(listing, "vms") == {"other"}
    assert members(listing, "web") == {"vm-ok"} and members(listing, "dbs") == set() and members(listing, "spot") == set()
    flat = Said(stderr)
    for host, why in RESERVED.items():
        assert flat.count("host %r is not added" % host) == 1, (host, stderr)
        assert "host %r is not added: %r is %s" % (host, host, why) in flat, (host, stderr)
    assert "Found both group and host" not in flat


def test_each_host_variable_option(tmp_path, small_cache):
    def variables(option: str) -> dict:
        config = write_config(tmp_path / option, "plugin: imds.azure.imds\n" + option)
        listing, _stderr = inventory_list(tmp_path, [config], small_cache, extra=["--export"])
        assert "vm-b" in members(listing, "azure_zone_3")
        return {k: v for k, v in plain(listing["_meta"]["hostvars"].get("vm-b", {})).items() if k.startswith("azure_")}

    flat = {"azure_location": "westus", "azure_zone": "3", "azure_fault_domain": "2", "azure_update_domain": "4"}
    tags = {"azure_tags": {"Role": "db", "Owner": "Team Blue"}}
    assert variables("") == dict(flat, **tags)
    assert variables("host_variables: [flat]\n") == flat
    assert variables("host_variables: [tags]\n") == tags
    assert variables("host_variables: []\n") == {}
    everything = variables("host_variables: [flat, tags, instance]\n")
    assert everything["azure_instance"]["compute"]["name"] == "vm-b"
    assert everything["azure_instance"]["network"]["interface"][0]["ipv4"]["ipAddress"][0]["privateIpAddress"]
    assert "azure_imds" not in everything  # the name of the injected fact is never set by the plugin


def test_fact_caches_of_both_layouts_are_read(tmp_path):
    """ansible-core <= 2.18 (plain keys, unsafe markers) and 2.19+ (s1_ + __payload__) entries, in one cache."""
    facts_dir = tmp_path / "facts"
    facts_dir.mkdir()
    (facts_dir / cache_key("old-vm", "plain")).write_text(entry_text(cached(profile("old-vm", "1", "0", "0")), "plain"))
    (facts_dir / cache_key("new-vm", "payload")).write_text(
        entry_text(cached(profile("new-vm", "2", "0", "0")), "payload"))
    both = cached(profile("both-vm", "3", "0", "0"))
    (facts_dir / cache_key("both-vm", "plain")).write_text(entry_text(both, "plain"))
    os.utime(facts_dir / cache_key("both-vm", "plain"), (1000, 1000))
    (facts_dir / cache_key("both-vm", "payload")).write_text(entry_text(dict(both, azure_imds=dict(
        both["azure_imds"], compute=dict(both["azure_imds"]["compute"], zone="4"))), "payload"))
    (facts_dir / "s7_future-vm").write_text(json.dumps({"__payload__": "{}"}))
    listing, stderr = inventory_list(tmp_path, [write_config(tmp_path / "inv")], jsonfile_env(facts_dir),
                                     extra=["--export"])
    assert members(listing, "azure_zone_1") == {"old-vm"} and members(listing, "azure_zone_2") == {"new-vm"}
    assert members(listing, "azure_zone_4") == {"both-vm"} and "azure_zone_3" not in listing  # the newer entry
    assert plain(listing["_meta"]["hostvars"]["old-vm"]["azure_location"]) == "westus"
    flat = Said(stderr)
    assert "skipped host 'future-vm' from fact cache file %s: the entry was written with fact-cache schema 7" % (
        facts_dir / "s7_future-vm") in flat, stderr


def inventory_cache_config(tmp_path, name: str, extra: str = "") -> tuple:
    inventory_cache = tmp_path / (name + "-cache")
    config = write_config(tmp_path / name, """plugin: imds.azure.imds
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: %s
""" % inventory_cache + extra)
    return config, inventory_cache


def test_inventory_cache(tmp_path, small_cache):
    config, inventory_cache = inventory_cache_config(tmp_path, "inv")
    first, _stderr = inventory_list(tmp_path, [config], small_cache, extra=["--export"])
    assert set(first["_meta"]["hostvars"]) == {"vm-a", "vm-b"}
    assert list(inventory_cache.iterdir())
    for entry in (tmp_path / "facts").iterdir():
        entry.unlink()
    second, stderr = inventory_list(tmp_path, [config], small_cache, extra=["--export"])
    assert second == first and warnings_in(stderr) == []  # served from the inventory cache
    # Whole facts are needed now (compose): the grouping-only entry is not used, the sources are read again.
    wider = write_config(tmp_path / "inv", config.read_text() + "compose:\n  rack: azure_instance.compute.name\n")
    rebuilt, stderr = inventory_list(tmp_path, [wider], small_cache, extra=["--export"])
    assert set(rebuilt["_meta"]["hostvars"]) == set()
    assert "only what grouping needs" in Said(stderr)
    usage = run_command(tmp_path / "help", ["ansible-inventory", "--help"]).stdout
    if "--flush-cache" in usage:  # ansible-inventory has it from ansible-core 2.17 on
        flushed, _stderr = inventory_list(tmp_path, [config], small_cache, extra=["--flush-cache"])
        assert set(flushed["_meta"]["hostvars"]) == set()


def rewrite_inventory_cache(inventory_cache, change) -> None:
    """Apply ``change`` to the plugin's records inside the (only) inventory cache file, in this line's layout."""
    [cache_file] = list(inventory_cache.iterdir())
    stored = json.loads(cache_file.read_text())
    text = json.loads(stored["__payload__"]) if PAYLOAD_LAYOUT else stored
    entry = json.loads(text)
    change(entry["records"])
    text = json.dumps(entry)
    cache_file.write_text(json.dumps({"__payload__": json.dumps(text)}) if PAYLOAD_LAYOUT else json.dumps(text))


def test_a_crafted_inventory_cache_is_checked_like_the_fact_cache(tmp_path, small_cache):
    config, inventory_cache = inventory_cache_config(tmp_path, "inv")
    inventory_list(tmp_path, [config], small_cache)

    def craft(records):
        records["-G"] = records["vm-a"]
        records["vm-list"] = dict(records["vm-a"], compute=["not", "an", "object"])
        records["all"] = records["vm-a"]

    rewrite_inventory_cache(inventory_cache, craft)
    listing, stderr = inventory_list(tmp_path, [config], small_cache, extra=["--export"])
    assert set(listing["_meta"]["hostvars"]) == {"vm-a", "vm-b"}
    flat = Said(stderr)
    assert "skipped host '-G' from inventory cache entry" in flat and "not a usable host name" in flat, stderr
    assert "skipped host 'vm-list' from inventory cache entry" in flat and "compute is a JSON list" in flat
    assert "host 'all' is not added" in flat


def test_a_fact_cache_named_in_the_source(tmp_path, small_cache):
    """fact_cache_*: the plugin reads that cache while ansible-inventory itself has none configured, so
    plain --list no longer prints every host's cached facts."""
    config = write_config(tmp_path / "inv", """plugin: imds.azure.imds
fact_cache_plugin: ansible.builtin.jsonfile
fact_cache_connection: %s
fact_cache_timeout: 0
""" % small_cache["ANSIBLE_CACHE_PLUGIN_CONNECTION"])
    listing, stderr = inventory_list(tmp_path, [config], {"ANSIBLE_CACHE_PLUGIN": "memory"})
    assert members(listing, "azure_zone_3") == {"vm-b"} and members(listing, "azure_tag_Role_web") == {"vm-a"}
    assert "discovered_interpreter_python" not in listing["_meta"]["hostvars"]["vm-a"]  # no cached facts printed
    assert "azure_imds" not in listing["_meta"]["hostvars"]["vm-a"]
    assert warnings_in(stderr) == [], stderr
    with_cache, _stderr = inventory_list(tmp_path, [write_config(tmp_path / "ambient")], small_cache)
    assert "discovered_interpreter_python" in with_cache["_meta"]["hostvars"]["vm-a"]  # what the option spares
    wrong = write_config(tmp_path / "wrong", "plugin: imds.azure.imds\nfact_cache_plugin: no.such.cache\n")
    completed = run_command(tmp_path / "wrong-run", ["ansible-inventory", "-i", str(wrong), "--list"],
                            env={"ANSIBLE_CACHE_PLUGIN": "memory"})
    assert completed.returncode != 0 and "cannot load the fact cache plugin 'no.such.cache'" in Said(completed.stderr)


def test_memory_fact_cache_is_explained(tmp_path):
    listing, stderr = inventory_list(tmp_path, [write_config(tmp_path / "inv")], {"ANSIBLE_CACHE_PLUGIN": "memory"})
    assert set(listing["_meta"]["hostvars"]) == set()
    assert "keeps nothing between runs" in Said(stderr)


def test_only_imds_yml_files_are_taken(tmp_path, small_cache):
    other = write_config(tmp_path / "inv", "plugin: imds.azure.imds\n", name="azure.yml")
    completed = run_command(tmp_path / "run", ["ansible-inventory", "-i", str(other), "--list"], env=small_cache)
    assert completed.returncode != 0
    assert "imds.azure.imds" not in completed.stdout


@pytest.mark.skipif(not PAYLOAD_LAYOUT, reason="data tags exist from ansible-core 2.19 on")
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
