# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: imds
short_description: Group Azure VMs by tags, zone and fault domain from gathered IMDS facts
version_added: 0.1.0
description:
  - Builds groups and host variables from the C(azure_imds) fact that M(imds.azure.metadata_facts)
    gathers on each VM, without Azure credentials and without any API call.
  - "Trust model, first: every value this plugin reads was reported by the VM itself (IMDS answers on the
    VM, and the VM's own facts are cached). A compromised VM can claim any tag, zone, size, name or address.
    It can therefore join any default tag group (claiming C(Environment=production) puts it in
    C(azure_tag_Environment_production)) and receive that group's C(group_vars), and any group that
    O(groups) or O(keyed_groups) make from its data. It can never choose where or how Ansible connects
    (connection variables are refused unless you opt in, see O(allow_connection_variables)), never have a
    value templated, never name a host other than its own cache entry or file, and never stop the other
    hosts from loading (see the per-host bounds O(max_tags) and friends)."
  - "Keep secrets (passwords, keys, tokens) out of the C(group_vars) of tag-derived groups, or restrict which
    tags may form groups with O(tag_groups_allowed). When group membership must be proof of what a VM is,
    prefer an inventory sourced from Azure Resource Manager (P(azure.azcollection.azure_rm#inventory)),
    whose tags a VM cannot forge, and use this plugin to enrich those hosts or where no Azure credentials
    are available."
  - "It is a two-step workflow. Step 1: run M(imds.azure.metadata_facts) against the VMs with a
    persistent fact cache enabled (C(fact_caching=jsonfile), C(community.general.redis), or any cache
    plugin). Step 2: point this plugin at that cache; every later run groups the hosts from it."
  - Hosts are read from the configured fact cache (O(use_fact_cache)) and from JSON files (O(paths)),
    which are raw C(/metadata/instance) documents or the per-host files that the playbook
    C(imds.azure.save_facts) writes (C(ansible-playbook -i INVENTORY imds.azure.save_facts -e
    imds_facts_dir=DIR)); it replaces C(ansible ... --tree DIR), which ansible-core 2.23 removes.
  - Hosts not yet in the inventory are added; hosts that earlier inventory sources already define are
    enriched with groups and variables, as P(ansible.builtin.constructed#inventory) does.
  - "When a source gives no hosts, or loses some (entries expired, refused, gone), the plugin says so in
    one warning per source: what it read, why hosts did not come out, and what to run. With
    O(strict=true) an inventory without any host is an error."
  - The configuration file name must end with C(imds.yml) or C(imds.yaml).
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin; this is how Ansible knows the file is for it.
    type: str
    required: true
    choices: [imds.azure.imds]
  use_fact_cache:
    description:
      - Read the C(azure_imds) fact of every host in the fact cache that Ansible is configured to use
        (C(fact_caching) and its C(fact_caching_connection), C(fact_caching_prefix), C(fact_caching_timeout)).
      - Entries older than C(fact_caching_timeout) are ignored, as Ansible ignores them (and counted in
        the warning that explains an empty or partial result).
      - Hosts whose cache entry has no C(azure_imds) fact are skipped without a warning of their own; they
        are counted when the cache gives no hosts at all or loses some.
    type: bool
    default: true
  fact_cache_plugin:
    description:
      - The fact cache to read, when it is not the one Ansible is configured to use (C(fact_caching)).
      - With this set, C(ansible-inventory) and AWX inventory updates can run with no fact cache configured at
        all; plain C(ansible-inventory --list) then does not print every host's cached facts, which at 10,000
        hosts costs more than this plugin.
      - O(fact_cache_connection), O(fact_cache_prefix) and O(fact_cache_timeout) apply to it; any of them left
        unset takes the value Ansible's fact cache settings give.
    type: str
    version_added: 0.2.0
  fact_cache_connection:
    description: The connection of O(fact_cache_plugin) (a directory for jsonfile, C(host:port:db) for Redis).
    type: str
    version_added: 0.2.0
  fact_cache_prefix:
    description: The key prefix of O(fact_cache_plugin) (C(fact_caching_prefix) of the runs that gathered).
    type: str
    version_added: 0.2.0
  fact_cache_timeout:
    description: Entries of O(fact_cache_plugin) older than this many seconds are ignored; V(0) never expires.
    type: int
    version_added: 0.2.0
  paths:
    description:
      - JSON files, or directories of them, to read as well.
      - A file holds a raw C(/metadata/instance) document, a file written by the playbook
        C(imds.azure.save_facts), or the C(--tree) output of M(imds.azure.metadata_facts) (the same
        layout; C(--tree) is deprecated in ansible-core 2.20). In a directory every regular file whose
        name does not start with C(.) is read.
      - The host name is the file name without a trailing C(.json). A host found in a file replaces the
        same host found in the fact cache.
    type: list
    elements: path
    default: []
  group_prefix:
    description:
      - The first part of every default group name. Letters, digits and C(_); it may be empty.
    type: str
    default: azure
  group_name_style:
    description:
      - How a default group name is made from C(<group_prefix>_<family>_<value>).
      - "V(ansible) is Ansible's own safe-group-name rule, the one O(keyed_groups) uses: every character
        that cannot be in a group name becomes C(_), case is kept. Tag C(Role=Web Server) gives
        C(azure_tag_Role) and C(azure_tag_Role_Web_Server), as
        C(keyed_groups: [{key: azure_tags, prefix: azure_tag}]) does."
      - "V(lower) gives the names of release 0.1.0: every value lower-cased, every run of characters other
        than a-z, 0-9 and C(_) turned into one C(_), C(_) stripped from both ends, an empty result
        C(empty); so C(azure_tag_role) and C(azure_tag_role_web_server)."
    type: str
    choices: [ansible, lower]
    default: ansible
    version_added: 0.2.0
  default_groups:
    description:
      - The families of default groups to create. Remove a family to switch it off; V([]) creates none.
      - "V(tag): C(<prefix>_tag_<name>) and C(<prefix>_tag_<name>_<value>) for every tag.
        V(zone): C(<prefix>_zone_<zone>), and C(<prefix>_zone_none) for VMs without a zone.
        V(fault_domain): C(<prefix>_fault_domain_<n>). V(update_domain): C(<prefix>_update_domain_<n>).
        V(location): C(<prefix>_location_<region>). V(vm_size): C(<prefix>_vm_size_<size>).
        V(scale_set): C(<prefix>_scale_set_<name>), only for scale set members.
        V(priority): C(<prefix>_priority_Spot), C(<prefix>_priority_Regular) (an empty priority is Regular)
        or C(<prefix>_priority_Low). V(os_type): C(<prefix>_os_type_Linux) or C(<prefix>_os_type_Windows)
        (lower-case with O(group_name_style=lower))."
    type: list
    elements: str
    choices: [tag, zone, fault_domain, update_domain, location, vm_size, scale_set, priority, os_type]
    default: [tag, zone, fault_domain, update_domain, location, vm_size, scale_set, priority, os_type]
  host_variables:
    description:
      - Which host variables to set. Each set costs time and memory in every C(ansible-inventory --list),
        in AWX inventory updates and in every play, so only what grouping-by-hand needs is on by default.
      - "Measured per 10,000 hosts in C(ansible-inventory --list --export) (ansible-core 2.19, three tags per VM),
        against O(host_variables=[]) (2.8 s of CPU):"
      - "V(flat): C(azure_location), C(azure_zone), C(azure_fault_domain) and C(azure_update_domain) (strings);
        +0.8 s of CPU, +29 MiB peak memory, +4.5 MB of output."
      - "V(tags): C(azure_tags), the VM's tags as a dictionary; +1.4 s of CPU, +29 MiB, +4 MB."
      - "V(instance): C(azure_instance), the whole C(azure_imds) fact (C(compute), C(network), C(tags),
        C(api_version)); +22 s of CPU (five times the 4.9 s of the default), +450 MiB, +75 MB, and the plugin then
        keeps whole facts in memory and in the inventory cache. Plays that run with the fact cache already
        see the same data as C(ansible_facts.azure_imds); choose V(instance) for O(paths) sources without a fact cache, or when a
        play must not depend on the fact cache."
      - O(compose), O(groups) and O(keyed_groups) can always read C(azure_instance), whether or not it is set
        as a host variable.
      - None of these names is a fact that M(imds.azure.metadata_facts) returns, so they neither shadow nor
        are shadowed by facts that Ansible injects from the fact cache (the C(azure_imds) host variable of
        release 0.1.0 was, and read in a play it fires the C(INJECT_FACTS_AS_VARS) deprecation of
        ansible-core 2.20).
    type: list
    elements: str
    choices: [flat, tags, instance]
    default: [flat, tags]
    version_added: 0.2.0
  allow_connection_variables:
    description:
      - The connection variables that O(compose) may set from what the VMs report. By default none.
      - "A connection variable is any variable whose name starts with C(ansible_), in any case: C(ansible_host),
        C(ansible_port), C(ansible_user), C(ansible_connection), C(ansible_password), C(ansible_become*),
        C(ansible_ssh_*), C(ansible_*_interpreter), C(ansible_winrm_*) and every other variable that
        ansible-core or a connection, become or shell plugin reads; and C(inventory_hostname). A prefix rather
        than a list of names, so the next plugin's variables are covered too."
      - A compromised VM could otherwise send the controller, with its keys and become passwords, to an address
        of its choice, or hand options to ssh (a reported C(-oProxyCommand=...)).
      - A connection variable in O(compose) that is not listed here is not set, with one warning (an error with
        O(strict=true)). This is a breaking change from release 0.1.0, whose own example composed C(ansible_host).
      - "A listed variable is checked on every host: C(ansible_host) must be one IP address (inside
        O(ansible_host_networks) when that is set), never a name or an option; C(ansible_port) a port number; any
        other a number, a boolean or at most 1,024 printable characters. A value that fails is not set, with a
        warning naming the host (an error with O(strict=true))."
      - A connection variable that an earlier inventory source set, on the host or on one of its groups (a static
        C(vm1 ansible_host=10.9.9.9)), is never replaced; one warning names the hosts where that happened.
    type: list
    elements: str
    default: []
    version_added: 0.2.0
  ansible_host_networks:
    description:
      - The networks an opted-in C(ansible_host) must lie in (CIDR, IPv4 or IPv6), for example the address
        ranges of your virtual networks, V([10.0.0.0/8]). Empty, any IP address.
      - Applies only when V(ansible_host) is in O(allow_connection_variables).
      - A compromised VM can still claim any address inside these networks, another VM's included; keep
        ssh host key checking on, so that a redirected connection fails.
    type: list
    elements: str
    default: []
    version_added: 0.2.0
  tag_groups_allowed:
    description:
      - Which tags may form the default tag groups. Unset, every tag does (the behaviour of earlier releases).
      - "A dictionary: each key is a tag name, or a shell-style pattern (C(*), C(?), C([...])) of names, matched
        without regard to case as Azure compares tag names; each value is the list of tag values (or patterns)
        that may form groups, matched with case, or V(null) for any value."
      - A tag forms its two groups (C(<prefix>_tag_<name>) and C(<prefix>_tag_<name>_<value>)) only when its name
        matches a key and its value that key's list; the first key that matches the name decides. Other tags
        form no group and stay in C(azure_tags).
      - "Example: V({Environment: [dev, test], Role: null, team-*: null}) - a VM claiming
        C(Environment=production) joins no environment group, so the C(group_vars) of a production group
        cannot reach it through a tag."
      - O(keyed_groups) and O(groups) are expressions of your own and are not restricted by this option.
    type: dict
    version_added: 0.2.0
  max_tags:
    description:
      - "Per-host bound: a host reporting more tags is skipped with a warning naming it (an error with
        O(strict=true)); the other hosts still load. Azure allows 50 tags per resource."
      - Grouping cost grows fast with the tags of one host (ansible-core's per-host group bookkeeping), so a
        forged tag list must not reach it.
    type: int
    default: 50
    version_added: 0.2.0
  max_depth:
    description:
      - "Per-host bound: a host whose kept record nests lists and objects deeper is skipped with a warning
        naming it. An IMDS fact nests 8 levels. Without the bound, one deeply nested fact made
        C(ansible-inventory --list --export) fail for every host."
      - "Each bound applies to what the plugin keeps of a host: the whole fact when O(host_variables)
        includes V(instance) or O(compose), O(groups) or O(keyed_groups) are set, else the grouping values
        and tags."
    type: int
    default: 20
    version_added: 0.2.0
  max_items:
    description:
      - "Per-host bound on the keys and list items of the kept record, all levels together; a host with more
        is skipped with a warning naming it."
    type: int
    default: 10000
    version_added: 0.2.0
  max_string_length:
    description:
      - "Per-host bound on the length of any one string (a name or a value) in the kept record, in characters;
        a host with a longer one is skipped with a warning naming it. The longest legitimate value, C(userData)
        kept with C(include_user_data), is at most 87,384 characters."
    type: int
    default: 131072
    version_added: 0.2.0
  max_record_size:
    description:
      - "Per-host bound on the size of the kept record: the characters of all its names and strings, plus one
        for each other value (about its size as JSON); a larger host is skipped with a warning naming it.
        IMDS answers are at most 1 MiB. Fact-cache entries and files over 16 MiB are not read at all."
    type: int
    default: 1048576
    version_added: 0.2.0
notes:
  - "Tag names: Azure treats them without regard to case. When VMs spell one tag name differently
    (C(Role) and C(role)), all of them join the groups of the spelling most VMs use (on a tie the one that
    sorts first), whatever order they are read in, and the plugin warns, naming every spelling.
    C(azure_tags) keeps each VM's own spelling."
  - "When two different values end up with the same group name (C(Web Server) and C(Web-Server)), the hosts
    share the group and the plugin warns, naming both values and a host of each."
  - "Reserved host names: a host and a group cannot share a name in Ansible, so a host is not added (one
    warning per host) when its name is C(all) or C(ungrouped), lies in the namespace of the default groups
    (starts with C(<group_prefix>_<family>_) for an enabled family, whether or not a VM makes that group),
    is a group that an earlier inventory source or this plugin made, or becomes a group through O(groups) or
    O(keyed_groups)."
  - "Trust - what the plugin guarantees: every value it sets (host variables, and C(azure_instance) for
    O(compose), O(groups) and O(keyed_groups)) is untrusted text that is never templated, on every
    supported ansible-core: on 2.19 and later it is decoded as plain JSON and carries no trust, on 2.16 to
    2.18 it is marked unsafe. A tag value C({{ 6 * 7 }}) stays that text. Host names come only from
    cache keys and file names, checked, never from IMDS values."
  - "Trust - what the user must protect: the fact cache itself. C(ansible_facts.azure_imds) (and C(azure_imds)
    when facts are injected as variables) reach a play from the fact cache through ansible-core, not through
    this plugin; on ansible-core 2.19 and later a forged cache entry can mark text as a trusted template
    there. Whoever can write the fact cache (the jsonfile directory, the Redis database) can run code on the
    controller: give it the controller's protection (file permissions, Redis ACLs and TLS, no public bind).
    In plays, prefer the variables this plugin sets (C(azure_tags), C(azure_zone), ...)."
  - "Fact caches written by any ansible-core are read: the plain layout of 2.18 and earlier (host names as
    keys) and the C(s1_) + C(__payload__) layout of 2.19 and later. An entry is taken only under the key its
    own layout gives it: a key C(s1_db1) is host C(db1)'s only when its content has the 2.19 layout, so a VM
    that names itself C(s1_db1) in a 2.18 cache cannot replace C(db1). When both layouts hold a host, the
    entry written last wins where the cache records the time (file caches), otherwise the 2.19 one.
    community.general.redis is read through its client, read-only (its plugin's own reads drop expired and
    missing keys). ansible-core 2.18 and earlier still do that themselves when C(ansible-inventory --list) or a
    play looks up each host's facts; C(--graph) and 2.19 and later do not."
  - "An unreadable or malformed cache entry or file (or one in a layout this plugin cannot read) produces a
    warning naming the host and where it was read from, and the other hosts still load; with O(strict=true)
    it is an error instead. Host names, paths and any text a record carries are shortened and stripped of
    control characters in warnings and errors (no terminal escape sequences). The plugin never changes or deletes cache entries or files. Records read back
    from the inventory cache are checked exactly like fact-cache records."
  - O(compose), O(groups) and O(keyed_groups) apply to the hosts this plugin found IMDS facts for.
  - "C(ansible-inventory --list) without C(--export) also prints every host's cached facts when a fact cache
    is configured; that is ansible-core's doing and costs far more than this plugin at scale. AWX inventory
    updates run C(--list --export), which does not read the fact cache."
seealso:
  - module: imds.azure.metadata_facts
  - plugin: azure.azcollection.azure_rm
    plugin_type: inventory
    description: Inventory from Azure Resource Manager, whose tags a VM cannot forge.
  - plugin: ansible.builtin.constructed
    plugin_type: inventory
author:
  - imds.azure contributors (@imds-azure)
"""

EXAMPLES = r"""
# Step 1 - gather the facts into a persistent fact cache. ansible.cfg:
#
#   [defaults]
#   fact_caching = ansible.builtin.jsonfile
#   fact_caching_connection = /var/cache/ansible/facts
#   fact_caching_timeout = 86400
#
# and run:  ansible-playbook -i azure_hosts.ini gather.yml   with gather.yml:
#
#   - hosts: all
#     gather_facts: false
#     tasks:
#       - imds.azure.metadata_facts:
#
# Step 2 - this file, named for example inventory/azure.imds.yml, next to azure_hosts.ini:
plugin: imds.azure.imds

# ansible-inventory -i inventory/ --graph   then shows groups such as
#   azure_zone_1, azure_fault_domain_0, azure_tag_Role_web, azure_location_westeurope
# and a play reads azure_zone, azure_fault_domain, azure_tags.Role of each host.

---
# Roll out zone by zone, fault domain by fault domain: keep only those families,
# and add a composed group and a keyed group of your own.
plugin: imds.azure.imds
default_groups: [zone, fault_domain, tag]
group_prefix: az
groups:
  spot_web: azure_instance.compute.priority | default('') == 'Spot' and azure_tags.Role | default('') == 'web'
keyed_groups:
  - key: azure_tags.Environment | default('none')
    prefix: env

---
# Only some tags form groups: a VM cannot claim its way into a production group
# (and its group_vars). Environment only with these values, Role with any value,
# every tag whose name starts with team- with any value; other tags form no group.
plugin: imds.azure.imds
tag_groups_allowed:
  Environment: [dev, test]
  Role: null
  team-*: null

---
# Connect by private address. Safest: let the inventory that lists the VMs
# (azure.azcollection.azure_rm, a static file) set ansible_host; this plugin then only
# adds groups and never replaces it. Where the VM's own report must serve, opt in for
# ansible_host alone: every value must be an IP address inside your networks, or the
# host keeps connecting by its name (with a warning). Keep ssh host key checking on.
plugin: imds.azure.imds
compose:
  ansible_host: azure_instance.network.interface[0].ipv4.ipAddress[0].privateIpAddress
allow_connection_variables: [ansible_host]
ansible_host_networks: [10.0.0.0/8, 172.16.0.0/12]

---
# A fact cache in Redis, shared by many controllers. ansible.cfg (or the matching
# ANSIBLE_CACHE_PLUGIN* environment variables):
#
#   [defaults]
#   fact_caching = community.general.redis
#   fact_caching_connection = redis.example.com:6379:0
#   fact_caching_prefix = ansible_facts_
#
plugin: imds.azure.imds
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: /var/cache/ansible/imds-inventory
cache_timeout: 600

---
# Files instead of a cache, one per host, written by the collection's playbook
#   ansible-playbook -i hosts.ini imds.azure.save_facts -e imds_facts_dir=/srv/imds-facts
# and raw documents saved with curl -H Metadata:true "http://169.254.169.254/metadata/instance?api-version=2025-04-07"
plugin: imds.azure.imds
use_fact_cache: false
host_variables: [flat, tags, instance]   # no fact cache: plays read the whole fact as azure_instance
paths:
  - /srv/imds-facts
  - /srv/imds-documents/vm7.json

# As an AWX / Automation Controller inventory source: put this file in the project
# (for example inventories/azure.imds.yml), create a "Sourced from a Project" inventory source
# that uses it, and set the fact cache in the source's environment variables:
#   ANSIBLE_CACHE_PLUGIN: community.general.redis
#   ANSIBLE_CACHE_PLUGIN_CONNECTION: redis.example.com:6379:0
# The job templates that run imds.azure.metadata_facts must use the same Redis cache
# (AWX's own fact cache is per job and is not read here).
"""

from ansible import constants as C
from ansible.errors import AnsibleError, AnsibleParserError
from ansible.plugins.cache import BaseFileCacheModule
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.plugins.loader import cache_loader

from ansible_collections.imds.azure.plugins.module_utils._errors import excerpt
from ansible_collections.imds.azure.plugins.plugin_utils import _inventory_cache
from ansible_collections.imds.azure.plugins.plugin_utils._connection_variables import (
    ConnectionValueError,
    checked_value,
    is_connection_variable,
    networks_of,
)
from ansible_collections.imds.azure.plugins.plugin_utils._fact_cache import CacheEntry, FactCacheReader, Listing
from ansible_collections.imds.azure.plugins.plugin_utils._fact_records import (
    INSTANCE_VARIABLE,
    FactRecordError,
    RecordLimits,
    check_bounds,
    check_host_name,
    fact_from_cache_entry,
    fact_from_file_data,
    grouping_view,
    host_variables,
)
from ansible_collections.imds.azure.plugins.plugin_utils._group_names import (
    GroupNamer,
    TagFilter,
    TagSpellings,
    default_groups,
    reserved_host_reason,
    valid_prefix,
)
from ansible_collections.imds.azure.plugins.plugin_utils._json_files import (
    PathError,
    files_of,
    host_of_file,
    read_json_file,
)
from ansible_collections.imds.azure.plugins.plugin_utils._unsafe import mark_unsafe

CONFIG_SUFFIXES = ("imds.yml", "imds.yaml")
WARNING_PREFIX = "imds inventory: "
# Untrusted text in a warning (host names from cache keys and file names, paths, messages a
# record carries) is shortened and stripped of control characters by excerpt(); these are its lengths.
HOST_TEXT = 120
PATH_TEXT = 400
REASON_TEXT = 600
LIMIT_OPTIONS = (("tags", "max_tags"), ("depth", "max_depth"), ("items", "max_items"),
                 ("string_length", "max_string_length"), ("size", "max_record_size"))
GATHER_HINT = ("To add hosts, run imds.azure.metadata_facts against the VMs with this same fact cache configured "
               "(fact_caching, fact_caching_connection, fact_caching_prefix), then this inventory again.")


class SourceTally:
    """What one source (the fact cache, one paths entry) gave, to explain an empty or partial result."""

    def __init__(self, description: str) -> None:
        self.description = description
        self.read = self.hosts = self.refused = self.without_fact = self.missing = 0
        self.listing = Listing()  # the fact cache's own counts (expired, other names); empty for paths
        self.hint = ""

    def needs_explaining(self) -> bool:
        """Empty, or entries lost for reasons the user can act on (not: other hosts' setup-only facts)."""
        return not self.hosts or bool(self.refused or self.missing or self.listing.expired)

    def explanation(self) -> str:
        listing = self.listing
        parts = ["%d read" % self.read]
        if listing.expired:
            parts.append("%d older than the cache timeout and left out, as Ansible leaves them out" % listing.expired)
        if self.without_fact:
            parts.append("%d without an azure_imds fact (facts of setup or other modules only)" % self.without_fact)
        if self.refused:
            parts.append("%d refused (see the warnings above)" % self.refused)
        if self.missing:
            parts.append("%d listed but gone (expired, deleted, or read with another key prefix)" % self.missing)
        text = "%s gave %d host%s: %s." % (self.description, self.hosts, "" if self.hosts == 1 else "s",
                                           "; ".join(parts))
        if listing.other_names:
            text += (" %d file%s there do%s not start with the key prefix (for example %r): is the prefix right?"
                     % (listing.other_names, "" if listing.other_names == 1 else "s",
                        "es" if listing.other_names == 1 else "", excerpt(listing.other_example, HOST_TEXT)))
        return text + (" " + self.hint if self.hint else "")


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """Groups and variables from the azure_imds facts of a fact cache and of JSON files."""

    NAME = "imds.azure.imds"

    def verify_file(self, path: str) -> bool:
        return super().verify_file(path) and path.endswith(CONFIG_SUFFIXES)

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        self._read_config_data(path)
        self._strict = self.get_option("strict")
        prefix = self.get_option("group_prefix")
        if not valid_prefix(prefix):
            raise AnsibleParserError("group_prefix %r must be letters, digits and _ (not starting with a digit)."
                                     % prefix)
        self._detail = "full" if self._needs_whole_facts() else "grouping"
        self._limits = self._record_limits()
        self._read_connection_options()
        try:
            tag_filter = TagFilter(self.get_option("tag_groups_allowed"))
        except ValueError as exc:
            raise AnsibleParserError(WARNING_PREFIX + str(exc) + ".") from exc

        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache")
        records = self._cached_records(cache_key) if use_cache and cache else None
        if records is None:
            records = self._collect_records()
            if use_cache:
                self._cache[cache_key] = _inventory_cache.encode(records, self._detail)
        self._populate(records, GroupNamer(prefix, self.get_option("group_name_style")), tag_filter)

    def _needs_whole_facts(self) -> bool:
        """Whole facts are kept only when a variable or an expression may read any part of them."""
        return ("instance" in self.get_option("host_variables")
                or bool(self.get_option("compose") or self.get_option("groups") or self.get_option("keyed_groups")))

    def _record_limits(self) -> RecordLimits:
        values = {}
        for field, option in LIMIT_OPTIONS:
            value = self.get_option(option)
            if value < 1:
                raise AnsibleParserError("%s%s must be at least 1, not %d." % (WARNING_PREFIX, option, value))
            values[field] = value
        return RecordLimits(**values)

    def _warn(self, message: str) -> None:
        self.display.warning(WARNING_PREFIX + message)

    # -- reading -------------------------------------------------------------------------

    def _cached_records(self, cache_key: str) -> dict | None:
        try:
            text = self._cache[cache_key]
        except KeyError:
            return None
        try:
            records, problems = _inventory_cache.decode(text, self._detail, self._limits)
        except _inventory_cache.InventoryCacheError as exc:
            self._warn("the inventory cache entry %s is not used (%s); rebuilding it." % (cache_key, exc))
            return None
        for host, reason in problems:
            self._problem(host, "inventory cache entry %s" % cache_key, reason)
        return records

    def _collect_records(self) -> dict:
        """``{host: checked fact}`` from the fact cache, then from the files (which win)."""
        records, tallies = {}, []
        if self.get_option("use_fact_cache"):
            tally = SourceTally("the fact cache")
            records.update(self._records_from_fact_cache(tally))
            tallies.append(tally)
        for path in self.get_option("paths"):
            tally = SourceTally("paths entry %s" % excerpt(path, PATH_TEXT))
            records.update(self._records_from_path(path, tally))
            tallies.append(tally)
        self._explain(tallies, records)
        return records

    def _explain(self, tallies: list, records: dict) -> None:
        """One warning per source that lost hosts; with strict, an error when no source gave any."""
        explanations = [t.explanation() for t in tallies if t.needs_explaining()]
        if self._strict and not records:
            raise AnsibleParserError(WARNING_PREFIX + "no hosts (strict is on, so this is an error). "
                                     + " ".join(explanations or ["No source is configured (use_fact_cache, paths)."]))
        for explanation in explanations:
            self._warn(explanation)

    def _accept(self, host, fact) -> dict:
        """The record the plugin keeps of ``fact`` (checked by fact_from_*): cut to what the options need,
        within the bounds, under a usable host name."""
        check_host_name(host)
        kept = self._keep(fact)
        check_bounds(kept, self._limits)
        return kept

    def _keep(self, fact: dict) -> dict:
        return fact if self._detail == "full" else grouping_view(fact)

    def _problem(self, host: str, origin: str, reason: str) -> None:
        shown = (excerpt(str(host), HOST_TEXT), excerpt(origin, PATH_TEXT), excerpt(reason, REASON_TEXT))
        self._warn_or_fail("skipped host %r from %s: %s" % shown, ". The other hosts still load.")

    def _warn_or_fail(self, message: str, warning_tail: str = "") -> None:
        """``message`` as a warning (with ``warning_tail``), or as the error that strict makes of it."""
        if self._strict:
            raise AnsibleParserError(WARNING_PREFIX + message + " (strict is on, so this is an error)")
        self._warn(message + warning_tail)

    def _fact_cache_plugin(self, name: str):
        """The fact cache plugin ``name``: set up by fact_cache_connection and friends when fact_cache_plugin
        named it, else as Ansible sets up its own."""
        if not self.get_option("fact_cache_plugin"):
            return cache_loader.get(name)
        settings = (("_uri", "fact_cache_connection"), ("_prefix", "fact_cache_prefix"), ("_timeout", "fact_cache_timeout"))
        direct = {key: self.get_option(option) for key, option in settings if self.get_option(option) is not None}
        return cache_loader.get(name, **direct)

    def _records_from_fact_cache(self, tally: SourceTally) -> dict:
        name = self.get_option("fact_cache_plugin") or C.CACHE_PLUGIN
        try:
            plugin = self._fact_cache_plugin(name)
            if plugin is None:
                raise AnsibleParserError("no cache plugin of that name")
            reader = FactCacheReader(plugin, BaseFileCacheModule)
        except Exception as exc:
            raise AnsibleParserError("imds inventory: cannot load the fact cache plugin %r: %s" % (name, exc)) from exc
        tally.description = "the fact cache (%s)" % _cache_description(name, reader.backend)
        entries = reader.entries()
        tally.read, tally.listing = len(entries), reader.listing
        records = {}
        for entry, kept in reader.read_all(entries, self._kept_of_entry):
            fact = self._fact_of_entry(reader, entry, kept, tally)
            if fact is not None:
                records[entry.host] = fact
        tally.hosts = len(records)
        if name in ("memory", "ansible.builtin.memory"):
            tally.hint = ("The 'memory' fact cache keeps nothing between runs. Set fact_caching (jsonfile, "
                          "community.general.redis, ...) both when gathering and here.")
        else:
            tally.hint = GATHER_HINT
        return records

    def _kept_of_entry(self, entry: CacheEntry, outcome: object) -> object:
        """What the plugin keeps of one entry read: its record, None (no azure_imds fact), or the exception."""
        if isinstance(outcome, Exception):
            return outcome
        try:
            fact = fact_from_cache_entry(outcome)
            return None if fact is None else self._accept(entry.host, fact)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # Reported by _fact_of_entry, once the host's newest entry is known.
            return exc

    def _fact_of_entry(self, reader: FactCacheReader, entry, kept, tally: SourceTally):
        """The kept fact of one cache entry; None (after a warning when it is broken) when there is none."""
        if kept is None:
            tally.without_fact += 1
            return None
        if not isinstance(kept, Exception):
            return kept
        if isinstance(kept, KeyError):
            tally.missing += 1
            self._problem(entry.host, reader.origin(entry), "the entry is listed but missing (expired or deleted)")
            return None
        if isinstance(kept, FactRecordError):
            reason = str(kept)
        elif isinstance(kept, RecursionError):
            reason = "the JSON is nested too deeply"
        else:
            # Cache plugins raise anything from ValueError to their client library's errors.
            reason = "the entry cannot be read (%s: %s)" % (type(kept).__name__, kept)
        tally.refused += 1
        self._problem(entry.host, reader.origin(entry), reason)
        return None

    def _records_from_path(self, path: str, tally: SourceTally) -> dict:
        try:
            files = files_of(path)
        except PathError as exc:
            # from None: ansible-core appends a chained cause's text, which would say it all a second time.
            raise AnsibleParserError(WARNING_PREFIX + str(exc) + ".") from None
        records = {}
        for file_path in files:
            host = host_of_file(file_path)
            tally.read += 1
            try:
                records[host] = self._accept(host, fact_from_file_data(read_json_file(file_path)))
            except (FactRecordError, OSError) as exc:
                tally.refused += 1
                self._problem(host, file_path, str(exc))
        tally.hosts = len(records)
        tally.hint = ("Write the files with: ansible-playbook -i INVENTORY imds.azure.save_facts -e "
                      "imds_facts_dir=DIR.")
        return records

    # -- building ------------------------------------------------------------------------

    def _populate(self, records: dict, namer: GroupNamer, tag_filter: TagFilter) -> None:
        families = self.get_option("default_groups")
        spellings = TagSpellings(records.values()) if "tag" in families else None
        groups_of = {host: default_groups(fact, families, namer, host, spellings, tag_filter)
                     for host, fact in records.items()}
        # ansible-core 2.19 hands plugins the inventory behind a proxy: look things up once, not per host.
        inventory = self.inventory
        hosts, group_objects = inventory.hosts, inventory.groups
        taken = set(group_objects)
        for groups in groups_of.values():
            taken.update(groups)
        wanted_variables = self.get_option("host_variables")
        added = []
        for host, fact in records.items():
            reason = reserved_host_reason(host, namer, families, taken)
            if reason is not None:
                self._refuse(host, reason)
                continue
            self._add_host(inventory, hosts, host, host_variables(fact, wanted_variables))
            added.append(host)
            host_object = hosts[host]
            for group in groups_of[host]:
                group_object = group_objects.get(group)
                if group_object is None:
                    inventory.add_group(group)
                    group_object = group_objects[group]
                # Group.add_host directly: InventoryData.add_child would look both names up again
                # for each of the ~8 memberships per host (reconcile_inventory resets its caches).
                group_object.add_host(host_object)
        if self._needs_constructing():
            self._construct_all(added, records)
        for message in namer.collision_messages() + (spellings.messages() if spellings else []):
            self._warn(message)

    @staticmethod
    def _add_host(inventory, hosts: dict, host: str, variables: dict) -> None:
        """Add (or enrich) ``host`` with ``variables``, each marked never to be templated."""
        variables = {name: mark_unsafe(value) for name, value in variables.items()}
        if host in hosts:
            # A host of an earlier source: merge as set_variable does (dictionaries are combined).
            host_object = hosts[host]
            for name, value in variables.items():
                host_object.set_variable(name, value)
            return
        inventory.add_host(host)
        # New host: nothing to merge with, so one update. (inventory.set_variable() would deep-copy
        # each value only to tag its origin, which doubled the time and memory of --list at 10k hosts.)
        hosts[host].vars.update(variables)

    def _refuse(self, host: str, reason: str) -> None:
        self._warn("host %r is not added: %s, and a host of the same name as a group would take the group over. "
                   "Rename the VM's cache entry or file, or change group_prefix." % (host, reason))

    def _needs_constructing(self) -> bool:
        return bool(self.get_option("compose") or self.get_option("groups") or self.get_option("keyed_groups"))

    # -- connection variables ------------------------------------------------------------

    def _read_connection_options(self) -> None:
        """Split compose into ordinary variables and the connection variables the user opted in to.

        A connection variable composed without consent is dropped with one warning (an error with
        strict): an expression may read anything the VM reported, and such a value would choose
        where the controller connects, with its keys and become passwords.
        """
        allowed = list(self.get_option("allow_connection_variables"))
        not_connection = [name for name in allowed if not is_connection_variable(name)]
        if not_connection:
            raise AnsibleParserError("%sallow_connection_variables lists %s, which %s not connection variables "
                                     "(ansible_* or inventory_hostname); compose sets other variables freely."
                                     % (WARNING_PREFIX, ", ".join(not_connection),
                                        "is" if len(not_connection) == 1 else "are"))
        try:
            self._host_networks = networks_of(self.get_option("ansible_host_networks"))
        except ValueError as exc:
            raise AnsibleParserError(WARNING_PREFIX + str(exc) + ".") from exc
        self._plain_compose, self._connection_compose = {}, {}
        self._kept_elsewhere: dict[str, list] = {}
        for name, expression in (self.get_option("compose") or {}).items():
            if not is_connection_variable(name):
                self._plain_compose[name] = expression
            elif name in allowed:
                self._connection_compose[name] = expression
            else:
                self._connection_refused(name)

    def _connection_refused(self, name: str) -> None:
        message = ("compose sets %s, a connection variable, from data the VMs report: it is not set. A compromised "
                   "VM could choose where and how the controller connects. Let the inventory source that lists the "
                   "VMs set it, or opt in with allow_connection_variables: [%s]%s." % (
                       name, name, " and ansible_host_networks" if name == "ansible_host" else ""))
        self._warn_or_fail(message)

    def _compose_connection_variables(self, host_object, variables: dict) -> None:
        host = host_object.name
        for name, expression in self._connection_compose.items():
            if _set_elsewhere(host_object, name):
                self._kept_elsewhere.setdefault(name, []).append(host)
                continue
            try:
                value = checked_value(name, self._compose(expression, variables), self._host_networks)
            except ConnectionValueError as exc:
                self._warn_or_fail("%s of host %r is not set: %s." % (name, host, exc))
                continue
            except Exception as exc:  # pylint: disable=broad-exception-caught
                # As Constructable._set_composite_vars: an expression that fails sets nothing.
                if self._strict:
                    raise AnsibleError("Could not set %s for host %s: %s" % (name, host, excerpt(str(exc), REASON_TEXT))) \
                        from exc
                continue
            self.inventory.set_variable(host, name, mark_unsafe(value))

    def _kept_messages(self) -> list:
        messages = []
        for name, hosts in sorted(self._kept_elsewhere.items()):
            shown = ", ".join(hosts[:5]) + (", ..." if len(hosts) > 5 else "")
            messages.append("%s is left as another inventory source set it on %d host%s (%s): a value composed "
                            "from VM data never replaces one." % (name, len(hosts), "" if len(hosts) == 1 else "s",
                                                                  shown))
        return messages

    # -- constructed features ------------------------------------------------------------

    def _construct_all(self, hosts: list, records: dict) -> None:
        for host in hosts:
            try:
                self._construct(host, records[host])
            except Exception:  # pylint: disable=broad-exception-caught
                # A host whose expressions make a group of its own name cannot join it: ansible-core
                # raises a bare Exception ("can't add group to itself"). The host is refused below
                # like any other such host; any other failure goes on up.
                if host not in self.inventory.groups:
                    raise
        # groups and keyed_groups name groups from values: a host may now share its name with one.
        for host in hosts:
            if host in self.inventory.groups:
                self.inventory.remove_host(self.inventory.get_host(host))
                self._refuse(host, "%r is the name of a group that groups or keyed_groups made" % host)
        for message in self._kept_messages():
            self._warn(message)

    def _construct(self, host: str, fact: dict) -> None:
        groups, keyed_groups = self.get_option("groups"), self.get_option("keyed_groups")
        strict = self._strict
        host_object = self.inventory.get_host(host)
        variables = dict(host_object.get_vars())
        # Expressions may read the whole fact even when it is not set as a host variable.
        variables.setdefault(INSTANCE_VARIABLE, mark_unsafe(fact))
        # Connection variables first: they see what earlier sources set, not what compose adds.
        self._compose_connection_variables(host_object, variables)
        self._set_composite_vars(self._plain_compose, variables, host, strict=strict)
        variables.update(host_object.get_vars())
        self._add_host_to_composed_groups(groups, variables, host, strict=strict, fetch_hostvars=False)
        self._add_host_to_keyed_groups(keyed_groups, variables, host, strict=strict, fetch_hostvars=False)


def _set_elsewhere(host_object, name: str) -> bool:
    """Whether an earlier inventory source set ``name`` on the host or on one of its groups."""
    return name in host_object.vars or any(name in group.vars for group in host_object.get_groups())


def _cache_description(name: str, backend) -> str:
    """The cache plugin and its settings, as the explanation of an empty result names them."""
    details = [name]
    for option, label in (("_uri", "connection"), ("_prefix", "key prefix"), ("_timeout", "timeout")):
        try:
            value = backend.get_option(option)
        except Exception:  # pylint: disable=broad-exception-caught
            # Not every cache plugin has every setting (memory has none).
            continue
        if value not in (None, ""):
            details.append("%s %s" % (label, excerpt(str(value), PATH_TEXT)))
    return ", ".join(details)
