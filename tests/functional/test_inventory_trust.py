"""Issue 21 and 22 on the inventory plugin, end to end with real fact caches (jsonfile written through
ansible-core's own cache plugin, Redis from Debian's redis-server): a compromised VM cannot choose where
Ansible connects, cannot join groups the user did not allow, cannot break the other hosts with a huge
or deep record, cannot take another host's cache entry, cannot write to the terminal; and an empty or
partial inventory says why."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from helpers.ansible_runner import run_command, run_playbook
from helpers.fact_cache import cache_key, cached, entry_text, jsonfile_env, write_facts
from helpers.fleet import profile
from helpers.inventory import Said, inventory_list, members, plain, warnings_in, write_config
from helpers.redis_server import RedisServer

PRIVATE_IP = "10.144.133.132"  # the seed profile's first private address
PROXY_COMMAND = "-oProxyCommand=touch %s"


def vm(name: str, tags: dict | None = None, **compute) -> tuple:
    return name, cached(profile(name, "1", "0", "0", tags=tags or {"Role": "web"}, **compute))


@pytest.fixture
def trust_cache(tmp_path):
    """Three VMs: an honest one, one whose tag carries an ssh option, one claiming production."""
    env = jsonfile_env(tmp_path / "facts")
    marker = tmp_path / "proxy-command-ran"
    write_facts(tmp_path, env, [
        vm("vm-good"),
        vm("vm-evil", tags={"Role": "web", "Address": PROXY_COMMAND % marker, "Environment": "production"}),
        vm("vm-dev", tags={"Role": "db", "Environment": "dev"}),
    ])
    return env, marker


# -- connection variables -----------------------------------------------------------------

def test_connection_variables_are_not_composed_without_opt_in(tmp_path, trust_cache):
    env, _marker = trust_cache
    config = write_config(tmp_path / "inv", """plugin: imds.azure.imds
compose:
  ansible_host: azure_instance.network.interface[0].ipv4.ipAddress[0].privateIpAddress
  ansible_ssh_common_args: azure_tags.Address | default('')
  Ansible_User: "'root'"
  rack: "'fd' ~ azure_fault_domain"
""")
    listing, stderr = inventory_list(tmp_path, [config], env, extra=["--export"])
    hostvars = plain(listing["_meta"]["hostvars"])
    for host in ("vm-good", "vm-evil", "vm-dev"):
        assert not {"ansible_host", "ansible_ssh_common_args", "Ansible_User"} & set(hostvars[host]), hostvars[host]
        assert hostvars[host]["rack"] == "fd0"  # ordinary variables are still composed
    flat = Said(stderr)
    for name in ("ansible_host", "ansible_ssh_common_args", "Ansible_User"):
        assert flat.count("compose sets %s, a connection variable, from data the VMs report: it is not set" % name) == 1
    assert "allow_connection_variables: [ansible_host] and ansible_host_networks" in flat, stderr

    strict = write_config(tmp_path / "strict", config.read_text() + "strict: true\n")
    completed = run_command(tmp_path / "strict-run", ["ansible-inventory", "-i", str(strict), "--list"], env=env)
    assert completed.returncode != 0 and "compose sets ansible_host" in Said(completed.stderr)


def test_an_opted_in_ansible_host_must_be_an_address_in_the_networks(tmp_path, trust_cache):
    env, _marker = trust_cache
    config = write_config(tmp_path / "inv", """plugin: imds.azure.imds
compose:
  ansible_host: azure_tags.Address | default(azure_instance.network.interface[0].ipv4.ipAddress[0].privateIpAddress)
allow_connection_variables: [ansible_host]
ansible_host_networks: [10.0.0.0/8]
""")
    listing, stderr = inventory_list(tmp_path, [config], env, extra=["--export"])
    hostvars = plain(listing["_meta"]["hostvars"])
    assert hostvars["vm-good"]["ansible_host"] == PRIVATE_IP and hostvars["vm-dev"]["ansible_host"] == PRIVATE_IP
    assert "ansible_host" not in hostvars["vm-evil"]
    assert "ansible_host of host 'vm-evil' is not set: the value is not an IP address" in Said(stderr), stderr

    narrow = write_config(tmp_path / "narrow", config.read_text().replace("10.0.0.0/8", "192.168.0.0/16"))
    listing, stderr = inventory_list(tmp_path, [narrow], env, extra=["--export"])
    assert not [h for h, v in listing["_meta"]["hostvars"].items() if "ansible_host" in v]
    assert "the address %s is outside ansible_host_networks (192.168.0.0/16)" % PRIVATE_IP in Said(stderr)


def test_a_connection_variable_of_another_source_is_never_replaced(tmp_path):
    """Issue 21: a static ``vm1 ansible_host=10.9.9.9`` became the VM-reported address."""
    env = jsonfile_env(tmp_path / "facts")
    write_facts(tmp_path, env, [vm("vm1", tags={"Role": "web", "Address": "127.0.0.1"}), vm("vm2")])
    static = tmp_path / "static.ini"
    static.write_text("vm1 ansible_host=10.9.9.9\n[grouped]\nvm2\n[grouped:vars]\nansible_host=10.8.8.8\n")
    config = write_config(tmp_path / "inv", """plugin: imds.azure.imds
compose:
  ansible_host: azure_tags.Address | default('10.1.1.1')
allow_connection_variables: [ansible_host]
""")
    listing, stderr = inventory_list(tmp_path, [static, config], env)
    hostvars = plain(listing["_meta"]["hostvars"])
    assert hostvars["vm1"]["ansible_host"] == "10.9.9.9"
    assert hostvars["vm2"]["ansible_host"] == "10.8.8.8"  # its group's value, not a composed host variable
    assert "ansible_host is left as another inventory source set it on 2 hosts (vm1, vm2)" in Said(stderr), stderr


def fake_ssh(directory: Path) -> tuple:
    """A stand-in ssh executable (the ssh connection plugin's ssh_executable) that records its argument
    list and fails as ssh does when the host cannot be reached (exit 255): nothing is contacted."""
    directory.mkdir(parents=True, exist_ok=True)
    argv = directory / "argv"
    executable = directory / "ssh"
    executable.write_text("#!/bin/sh\nprintf '%%s\\n' \"$@\" >> %s\necho 'ssh: stand-in' >&2\nexit 255\n" % argv)
    executable.chmod(0o755)
    return executable, argv


def test_a_reported_proxy_command_never_reaches_ssh(tmp_path, trust_cache):
    """Issue 21: a reported ``-oProxyCommand=...`` became ansible_host and reached ssh's arguments."""
    env, marker = trust_cache
    executable, argv = fake_ssh(tmp_path / "ssh")
    for name, text in (("opted-in", "allow_connection_variables: [ansible_host]\n"), ("default", "")):
        config = write_config(tmp_path / name, "plugin: imds.azure.imds\ncompose:\n  ansible_host: azure_tags.Address\n"
                              "  ansible_ssh_extra_args: azure_tags.Address\n" + text)
        completed = run_command(tmp_path / (name + "-run"), [
            "ansible", "vm-evil", "-i", str(config), "-m", "ansible.builtin.ping", "-c", "ssh"],
            env=dict(env, ANSIBLE_SSH_EXECUTABLE=str(executable), ANSIBLE_SSH_RETRIES="0"))
        assert completed.returncode != 0 and "UNREACHABLE" in completed.stdout, completed.stdout + completed.stderr
        arguments = argv.read_text().splitlines()
        assert "vm-evil" in arguments, arguments  # ssh is asked for the host by its inventory name
        assert not [a for a in arguments if "ProxyCommand" in a or "touch" in a], arguments
        argv.unlink()
    assert not marker.exists()


# -- trust model: which tags form groups --------------------------------------------------

def test_tag_groups_allowed_keeps_a_vm_out_of_groups_and_their_group_vars(tmp_path, trust_cache):
    env, _marker = trust_cache
    inventory = tmp_path / "inv"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "group_vars" / "azure_tag_Environment_production.yml").write_text("deploy_secret: s3cr3t\n")
    open_config = write_config(inventory)
    listing, _stderr = inventory_list(tmp_path, [open_config], env)
    # By design without the option: any VM that claims the tag joins the group and gets its group_vars.
    assert members(listing, "azure_tag_Environment_production") == {"vm-evil"}
    assert plain(listing["_meta"]["hostvars"]["vm-evil"])["deploy_secret"] == "s3cr3t"

    open_config.write_text("plugin: imds.azure.imds\ntag_groups_allowed:\n  environment: [dev, test]\n  ROLE: null\n")
    listing, stderr = inventory_list(tmp_path, [open_config], env)
    assert not [g for g in listing if g.startswith("azure_tag_Environment_production")]
    assert members(listing, "azure_tag_Environment_dev") == {"vm-dev"}
    assert members(listing, "azure_tag_Environment") == {"vm-dev"}  # vm-evil's value is not allowed: no group
    assert members(listing, "azure_tag_Role_web") == {"vm-good", "vm-evil"}
    assert not [g for g in listing if g.startswith("azure_tag_Address")]
    assert "deploy_secret" not in listing["_meta"]["hostvars"]["vm-evil"]
    assert plain(listing["_meta"]["hostvars"]["vm-evil"]["azure_tags"])["Environment"] == "production"  # still data
    assert warnings_in(stderr) == [], stderr

    open_config.write_text("plugin: imds.azure.imds\ntag_groups_allowed:\n  Environment: dev\n")
    completed = run_command(tmp_path / "bad", ["ansible-inventory", "-i", str(open_config), "--list"], env=env)
    assert completed.returncode != 0 and "tag_groups_allowed['Environment'] must be a list" in Said(completed.stderr)


# -- per-host bounds ------------------------------------------------------------------------

def deep_list(depth: int):
    value = []
    for _level in range(depth - 1):
        value = [value]
    return value


def test_one_deeply_nested_host_does_not_break_the_others(tmp_path):
    """Issue 21: a 600-deep array in one cached fact made --list --export fail for every host."""
    env = jsonfile_env(tmp_path / "facts")
    deep = cached(profile("vm-deep", "1", "0", "0"))
    deep["azure_imds"]["compute"]["extensions"] = deep_list(600)
    write_facts(tmp_path, env, [vm("vm-a"), vm("vm-b")])
    # Written directly: ansible-core 2.19's own cache writer fails on it with RecursionError.
    (tmp_path / "facts" / cache_key("vm-deep")).write_text(entry_text(deep))
    config = write_config(tmp_path / "inv", "plugin: imds.azure.imds\nhost_variables: [instance]\n")
    listing, stderr = inventory_list(tmp_path, [config], env, extra=["--export"])
    assert set(listing["_meta"]["hostvars"]) == {"vm-a", "vm-b"}
    assert members(listing, "azure_tag_Role_web") == {"vm-a", "vm-b"}
    flat = Said(stderr)
    assert "skipped host 'vm-deep' from fact cache file %s: it is nested more than max_depth (20) levels deep" % (
        tmp_path / "facts" / cache_key("vm-deep")) in flat, stderr
    # Grouping keeps only the grouping values: the deep part is never kept, the host is not refused.
    listing, stderr = inventory_list(tmp_path, [write_config(tmp_path / "grouping")], env, extra=["--export"])
    assert set(listing["_meta"]["hostvars"]) == {"vm-a", "vm-b", "vm-deep"}


def test_200000_tags_are_bounded_and_the_others_load(tmp_path):
    """Issue 21: 200,000 tags kept ansible-core's per-host group bookkeeping busy for over 11 minutes.

    Both cache layouts, on every line (the plugin reads both): ansible-core 2.19's payload entry fits
    the read bound and is refused for its tags; the older layout writes each string as an unsafe
    marker with indent 4, so the same facts pass 16 MiB there and are refused unread for size.
    """
    facts_dir = tmp_path / "facts"
    env = jsonfile_env(facts_dir)
    write_facts(tmp_path, env, [vm("vm-a")])
    # compute.tags as IMDS sends it (tagsList empty): the fact's azure_imds.tags has all 200,000.
    tags_string = ";".join("t%d:v%d" % (i, i) for i in range(200000))
    many = cached(profile("vm-many", "1", "0", "0", tags_string=tags_string))
    assert len(many["azure_imds"]["tags"]) == 200000
    (facts_dir / cache_key("vm-many", "payload")).write_text(entry_text(many, "payload"))
    older = entry_text(cached(profile("vm-many-old", "1", "0", "0", tags_string=tags_string)), "plain")
    assert len(older.encode()) > 16 * 1024 * 1024
    (facts_dir / cache_key("vm-many-old", "plain")).write_text(older)
    started = time.monotonic()
    listing, stderr = inventory_list(tmp_path, [write_config(tmp_path / "inv")], env, extra=["--export"])
    print("200,000 tags, both layouts: %.1f s" % (time.monotonic() - started))  # reported, not asserted
    assert set(listing["_meta"]["hostvars"]) == {"vm-a"}
    said = Said(stderr)
    assert "skipped host 'vm-many'" in said and "200000 tags, more than max_tags (50;" in said
    assert "skipped host 'vm-many-old'" in said and "more than 16777216 bytes" in said
    lowered = write_config(tmp_path / "low", "plugin: imds.azure.imds\nmax_tags: 0\n")
    completed = run_command(tmp_path / "low-run", ["ansible-inventory", "-i", str(lowered), "--list"], env=env)
    assert completed.returncode != 0 and "max_tags must be at least 1" in Said(completed.stderr)


def test_long_strings_and_many_items_are_bounded_per_host(tmp_path):
    env = jsonfile_env(tmp_path / "facts")
    long_name = cached(profile("vm-long", "1", "0", "0", tags={"Role": "x" * 300}))
    write_facts(tmp_path, env, [vm("vm-a"), ("vm-long", long_name)])
    config = write_config(tmp_path / "inv", "plugin: imds.azure.imds\nmax_string_length: 256\nstrict: false\n")
    listing, stderr = inventory_list(tmp_path, [config], env)
    assert set(listing["_meta"]["hostvars"]) == {"vm-a"}
    assert "skipped host 'vm-long'" in Said(stderr) and "more than max_string_length (256)" in Said(stderr)
    config.write_text("plugin: imds.azure.imds\nhost_variables: [instance]\nmax_items: 40\n")
    listing, stderr = inventory_list(tmp_path, [config], env)
    assert set(listing["_meta"]["hostvars"]) == set()
    assert Said(stderr).count("more than max_items (40)") == 2, stderr


# -- cache layouts ------------------------------------------------------------------------

def test_an_entry_keyed_like_another_hosts_payload_cannot_replace_it(tmp_path):
    """Issue 21: in ansible-core 2.18's jsonfile layout, host s1_db1's facts {"__payload__": ...} were read
    as host db1's newer-layout entry and replaced db1's real record."""
    facts_dir = tmp_path / "facts"
    facts_dir.mkdir()
    real = cached(profile("db1", "1", "0", "0", tags={"Role": "db"}))
    (facts_dir / "db1").write_text(entry_text(real, "plain"))
    os.utime(facts_dir / "db1", (time.time() - 60,) * 2)
    forged = cached(profile("db1", "3", "0", "0", tags={"Role": "web", "Environment": "production"}))
    # What 2.18 caches for a VM named s1_db1 whose module reports the fact __payload__ (marked unsafe).
    (facts_dir / "s1_db1").write_text(entry_text({"__payload__": json.dumps(forged)}, "plain"))
    listing, stderr = inventory_list(tmp_path, [write_config(tmp_path / "inv")], jsonfile_env(facts_dir),
                                     extra=["--export"])
    assert set(listing["_meta"]["hostvars"]) == {"db1"}
    assert members(listing, "azure_zone_1") == {"db1"} and members(listing, "azure_tag_Role_db") == {"db1"}
    assert "azure_zone_3" not in listing and "azure_tag_Environment_production" not in listing
    assert "s1_db1" not in stderr, stderr  # a host without azure_imds, like any setup-only entry


# -- terminal escapes -----------------------------------------------------------------------

def test_saved_records_and_paths_reach_the_terminal_shortened_and_control_free(tmp_path):
    """Issue 21: a saved --tree-style record whose msg holds ESC/BEL/CR was printed raw in a warning."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "vm-ok.json").write_text(json.dumps(profile("vm-ok", "1", "0", "0")))
    hostile = "\x1b]0;owned\x07\x1b[2J\rfake prompt $ " + "A" * 5000
    (docs / "vm-failed.json").write_text(json.dumps({"failed": True, "msg": hostile}))
    (docs / "vm-\x1b[31mred.json").write_text(json.dumps(profile("x", "1", "0", "0")))
    facts_dir = tmp_path / "facts"
    write_facts(tmp_path, jsonfile_env(facts_dir), [vm("vm-c")])
    (facts_dir / cache_key("bad\x1b]2;title\x07host")).write_text("{broken")
    config = write_config(tmp_path / "inv", "plugin: imds.azure.imds\npaths: [%s]\n" % docs)
    listing, stderr = inventory_list(tmp_path, [config], jsonfile_env(facts_dir))
    assert set(listing["_meta"]["hostvars"]) == {"vm-ok", "vm-c"}
    for control in ("\x1b", "\x07", "\r"):
        assert control not in stderr, repr(stderr)
    flat = Said(stderr)
    assert "skipped host 'vm-failed' from %s: it records a failed run:  ]0;owned  [2J fake prompt $ AAA" % (
        docs / "vm-failed.json") in flat, stderr
    assert "A" * 600 not in stderr and "AAA..." in flat
    assert "skipped host 'vm- [31mred' from %s" % (docs / "vm- [31mred.json") in flat, stderr
    assert "skipped host 'bad ]2;title host' from fact cache file %s" % (facts_dir / cache_key("bad ]2;title host")) \
        in flat, stderr


# -- explaining an empty or partial inventory (issue 22) ------------------------------------

def graph_run(tmp_path, name: str, config, env: dict):
    return run_command(tmp_path / name, ["ansible-inventory", "-i", str(config), "--graph"], env=env)


def test_expired_entries_are_explained_and_strict_makes_it_an_error(tmp_path):
    facts_dir = tmp_path / "facts"
    env = dict(jsonfile_env(facts_dir), ANSIBLE_CACHE_PLUGIN_TIMEOUT="3600")
    write_facts(tmp_path, env, [vm("vm-a"), vm("vm-b")])
    for entry in facts_dir.iterdir():
        os.utime(entry, (time.time() - 7200,) * 2)
    completed = graph_run(tmp_path, "graph", write_config(tmp_path / "inv"), env)
    assert completed.returncode == 0 and "vm-a" not in completed.stdout, completed.stdout
    flat = Said(completed.stderr)
    assert ("the fact cache (ansible.builtin.jsonfile, connection %s, timeout 3600" % facts_dir) in flat, completed.stderr
    assert "gave 0 hosts: 0 read; 2 older than the cache timeout and left out, as Ansible leaves them out" in flat
    assert "run imds.azure.metadata_facts against the VMs with this same fact cache configured" in flat
    assert flat.count("gave 0 hosts") == 1

    strict = write_config(tmp_path / "strict", "plugin: imds.azure.imds\nstrict: true\n")
    completed = graph_run(tmp_path, "strict-run", strict, env)
    assert completed.returncode != 0
    assert "no hosts (strict is on, so this is an error)" in Said(completed.stderr), completed.stderr
    assert "2 older than the cache timeout" in Said(completed.stderr)

    # Partial: one fresh entry comes out, the expired one is still explained.
    os.utime(facts_dir / cache_key("vm-a"), None)
    listing, stderr = inventory_list(tmp_path, [write_config(tmp_path / "inv")], env)
    assert set(listing["_meta"]["hostvars"]) == {"vm-a"}
    assert "gave 1 host: 1 read; 1 older than the cache timeout" in Said(stderr), stderr


def test_a_wrong_folder_or_key_prefix_is_explained(tmp_path):
    facts_dir = tmp_path / "facts"
    write_facts(tmp_path, dict(jsonfile_env(facts_dir), ANSIBLE_CACHE_PLUGIN_PREFIX="gathered_"), [vm("vm-a")])
    wrong_folder = dict(jsonfile_env(tmp_path / "elsewhere"))
    completed = graph_run(tmp_path, "folder", write_config(tmp_path / "inv"), wrong_folder)
    assert completed.returncode == 0
    flat = Said(completed.stderr)
    assert "connection %s" % (tmp_path / "elsewhere") in flat and "gave 0 hosts: 0 read." in flat, completed.stderr

    wrong_prefix = dict(jsonfile_env(facts_dir), ANSIBLE_CACHE_PLUGIN_PREFIX="facts_")
    completed = graph_run(tmp_path, "prefix", write_config(tmp_path / "inv"), wrong_prefix)
    flat = Said(completed.stderr)
    assert "key prefix facts_" in flat and "gave 0 hosts: 0 read." in flat, completed.stderr
    assert "1 file there does not start with the key prefix (for example 'gathered_%s'): is the prefix right?" % (
        cache_key("vm-a")) in flat


def test_a_cache_of_setup_facts_only_is_explained(tmp_path):
    """Issue 22: a play with gather_facts: true and no metadata_facts fills the cache with setup facts only."""
    facts_dir = tmp_path / "facts"
    env = jsonfile_env(facts_dir)
    hosts = tmp_path / "hosts.ini"
    hosts.write_text("vm1 ansible_connection=local\n")
    run = run_playbook(tmp_path / "setup", "- hosts: all\n  gather_facts: true\n  gather_subset: [min]\n  tasks: []\n",
                       inventory=str(hosts), env=env)
    assert run.rc == 0, run.output
    assert [p.name for p in facts_dir.iterdir()] == [cache_key("vm1")]
    completed = graph_run(tmp_path, "graph", write_config(tmp_path / "inv"), env)
    flat = Said(completed.stderr)
    assert "gave 0 hosts: 1 read; 1 without an azure_imds fact (facts of setup or other modules only)" in flat, \
        completed.stderr
    assert "run imds.azure.metadata_facts" in flat


def test_redis_with_a_wrong_prefix_and_expired_keys_is_explained_and_left_unchanged(tmp_path):
    server = RedisServer(tmp_path / "redis")
    try:
        env = {"ANSIBLE_CACHE_PLUGIN": "community.general.redis", "ANSIBLE_CACHE_PLUGIN_CONNECTION": server.connection,
               "ANSIBLE_CACHE_PLUGIN_PREFIX": "gathered_"}
        write_facts(tmp_path, env, [vm("vm-a"), vm("vm-b")])
        client = server.client()
        client.zadd("ansible_cache_keys", {cache_key("vm-b"): time.time() - 7200})  # gathered two hours ago
        before = {key: client.get(key) for key in client.keys("*") if key != b"ansible_cache_keys"}
        scores = client.zrange("ansible_cache_keys", 0, -1, withscores=True)

        # --graph, not --list: ansible-inventory 2.16-2.18 looks up each listed host's facts through the
        # cache plugin's contains(), which drops expired keys itself (ansible/vars/fact_cache.py); what
        # is tested here is that this inventory plugin leaves the cache as it found it.
        timed = dict(env, ANSIBLE_CACHE_PLUGIN_TIMEOUT="3600")
        completed = graph_run(tmp_path, "timed", write_config(tmp_path / "inv"), timed)
        assert completed.returncode == 0 and "vm-a" in completed.stdout and "vm-b" not in completed.stdout, \
            completed.stdout
        assert "gave 1 host: 1 read; 1 older than the cache timeout" in Said(completed.stderr), completed.stderr

        wrong = dict(env, ANSIBLE_CACHE_PLUGIN_PREFIX="facts_")
        completed = graph_run(tmp_path, "wrong", write_config(tmp_path / "inv"), wrong)
        flat = Said(completed.stderr)
        assert "gave 0 hosts: 2 read; 2 listed but gone (expired, deleted, or read with another key prefix)" in flat, \
            completed.stderr
        assert "key prefix facts_" in flat
        # Nothing was removed: neither the expired key (the redis plugin's keys() would) nor the
        # ones whose value is missing under the wrong prefix (its get() would).
        assert client.zrange("ansible_cache_keys", 0, -1, withscores=True) == scores
        assert {key: client.get(key) for key in client.keys("*") if key != b"ansible_cache_keys"} == before
    finally:
        server.stop()


def test_an_empty_paths_directory_is_explained(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    config = write_config(tmp_path / "inv", "plugin: imds.azure.imds\nuse_fact_cache: false\npaths: [%s]\n" % empty)
    completed = graph_run(tmp_path, "graph", config, {})
    flat = Said(completed.stderr)
    assert "paths entry %s gave 0 hosts: 0 read. Write the files with: ansible-playbook -i INVENTORY " \
           "imds.azure.save_facts" % empty in flat, completed.stderr
