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
  - "It is a two-step workflow. Step 1: run M(imds.azure.metadata_facts) against the VMs with a
    persistent fact cache enabled (C(fact_caching=jsonfile), C(community.general.redis), or any cache
    plugin). Step 2: point this plugin at that cache; every later run groups the hosts from it."
  - Hosts are read from the configured fact cache (O(use_fact_cache)) and from JSON files (O(paths)),
    which are raw C(/metadata/instance) documents or the per-host files of
    C(ansible HOSTS -m imds.azure.metadata_facts --tree DIR).
  - Hosts not yet in the inventory are added; hosts that earlier inventory sources already define are
    enriched with groups and variables, as P(ansible.builtin.constructed#inventory) does.
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
      - Entries older than C(fact_caching_timeout) are ignored, as Ansible ignores them.
      - Hosts whose cache entry has no C(azure_imds) fact are skipped silently.
    type: bool
    default: true
  paths:
    description:
      - JSON files, or directories of them, to read as well.
      - A file holds a raw C(/metadata/instance) document or the C(--tree) output of
        M(imds.azure.metadata_facts). In a directory every regular file whose name does not start with
        C(.) is read.
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
  default_groups:
    description:
      - The families of default groups to create. Remove a family to switch it off; V([]) creates none.
      - "V(tag): C(<prefix>_tag_<name>) and C(<prefix>_tag_<name>_<value>) for every tag.
        V(zone): C(<prefix>_zone_<zone>), and C(<prefix>_zone_none) for VMs without a zone.
        V(fault_domain): C(<prefix>_fault_domain_<n>). V(update_domain): C(<prefix>_update_domain_<n>).
        V(location): C(<prefix>_location_<region>). V(vm_size): C(<prefix>_vm_size_<size>).
        V(scale_set): C(<prefix>_scale_set_<name>), only for scale set members.
        V(priority): C(<prefix>_priority_spot), C(<prefix>_priority_regular) (an empty priority is Regular)
        or C(<prefix>_priority_low). V(os_type): C(<prefix>_os_type_linux) or C(<prefix>_os_type_windows)."
    type: list
    elements: str
    choices: [tag, zone, fault_domain, update_domain, location, vm_size, scale_set, priority, os_type]
    default: [tag, zone, fault_domain, update_domain, location, vm_size, scale_set, priority, os_type]
notes:
  - "Group names: every value is lower-cased, every run of characters other than a-z, 0-9 and C(_)
    becomes one C(_), and C(_) is stripped from both ends; an empty result becomes C(empty). So tag
    C(Role=Web Server) gives C(azure_tag_role_web_server). When two different values end up with the same
    group name (C(Role=Web) and C(role=web)), the plugin warns and names them."
  - "Host variables, all prefixed: C(azure_imds) (the whole fact: C(compute), C(network), C(tags),
    C(api_version)), and the flat conveniences C(azure_location), C(azure_zone), C(azure_fault_domain),
    C(azure_update_domain) and C(azure_tags) (a dictionary). They are kept few on purpose: each variable
    costs about 0.3 s per C(ansible-inventory --list) at 10,000 hosts; everything else is in C(azure_imds)."
  - Values from IMDS are untrusted text and are marked so; a tag value that looks like a Jinja2 template
    is never templated, by this plugin or by a play that uses the variable.
  - "An unreadable or malformed cache entry or file produces a warning naming the host and where it was
    read from, and the other hosts still load; with O(strict=true) it is an error instead. The plugin
    never changes or deletes cache entries or files."
  - O(compose), O(groups) and O(keyed_groups) apply to the hosts this plugin found IMDS facts for.
seealso:
  - module: imds.azure.metadata_facts
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
#   azure_zone_1, azure_fault_domain_0, azure_tag_role_web, azure_location_westeurope

---
# Roll out zone by zone, fault domain by fault domain: keep only those families,
# and add a composed group and a keyed group of your own.
plugin: imds.azure.imds
default_groups: [zone, fault_domain, tag]
group_prefix: az
compose:
  ansible_host: azure_imds.network.interface[0].ipv4.ipAddress[0].privateIpAddress
groups:
  spot_web: azure_imds.compute.priority | default('') == 'Spot' and azure_tags.Role | default('') == 'web'
keyed_groups:
  - key: azure_tags.Environment | default('none')
    prefix: env

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
# Files instead of a cache: the output of
#   ansible azure_vms -m imds.azure.metadata_facts --tree /srv/imds-facts
# and raw documents saved with curl -H Metadata:true "http://169.254.169.254/metadata/instance?api-version=2025-04-07"
plugin: imds.azure.imds
use_fact_cache: false
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

import json
import os

from ansible import constants as C
from ansible.errors import AnsibleError, AnsibleParserError
from ansible.plugins.cache import BaseFileCacheModule
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.plugins.loader import cache_loader

from ansible_collections.imds.azure.plugins.plugin_utils._fact_records import (
    FactRecordError,
    fact_from_cache_entry,
    fact_from_file_data,
    flat_hostvars,
    valid_host_name,
)
from ansible_collections.imds.azure.plugins.plugin_utils._group_names import (
    GroupNamer,
    default_groups,
    valid_prefix,
)

CONFIG_SUFFIXES = ("imds.yml", "imds.yaml")
MAX_FILE_BYTES = 16 * 1024 * 1024


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

        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache")
        records = self._cached_records(cache_key) if use_cache and cache else None
        if records is None:
            records = self._collect_records()
            if use_cache:
                # Stored as one JSON string and decoded plainly on the way back, like the fact cache.
                self._cache[cache_key] = json.dumps(records)
        self._populate(records, GroupNamer(prefix))

    # -- reading -------------------------------------------------------------------------

    def _cached_records(self, cache_key: str) -> dict | None:
        try:
            records = json.loads(self._cache[cache_key])
        except KeyError:
            return None
        except (AnsibleError, TypeError, ValueError) as exc:
            self.display.warning("imds inventory: the inventory cache could not be read (%s); rebuilding it." % exc)
            return None
        if not isinstance(records, dict) or not all(isinstance(v, dict) for v in records.values()):
            self.display.warning("imds inventory: the inventory cache entry %s is malformed; rebuilding it." % cache_key)
            return None
        return records

    def _collect_records(self) -> dict:
        """``{host: azure_imds fact}`` from the fact cache, then from the files (which win)."""
        records = {}
        if self.get_option("use_fact_cache"):
            records.update(self._records_from_fact_cache())
        for path in self.get_option("paths"):
            records.update(self._records_from_path(path))
        return records

    def _problem(self, host: str, origin: str, reason: str) -> None:
        message = "imds inventory: skipped host %r from %s: %s" % (host, origin, reason)
        if self._strict:
            raise AnsibleParserError(message + " (strict is on, so this is an error)")
        self.display.warning(message + ". The other hosts still load.")

    def _records_from_fact_cache(self) -> dict:
        try:
            fact_cache = FactCacheReader(cache_loader.get(C.CACHE_PLUGIN))
        except Exception as exc:
            raise AnsibleParserError("imds inventory: cannot load the fact cache plugin %r: %s"
                                     % (C.CACHE_PLUGIN, exc)) from exc
        records = {}
        for host in fact_cache.hosts():
            if not valid_host_name(host):
                self._problem(host, fact_cache.origin(host), "not a usable host name")
                continue
            try:
                fact = fact_from_cache_entry(fact_cache.read(host))
            except FactRecordError as exc:
                self._problem(host, fact_cache.origin(host), str(exc))
                continue
            except KeyError:
                self._problem(host, fact_cache.origin(host),
                              "the entry is listed but missing (expired or deleted meanwhile)")
                continue
            except Exception as exc:  # pylint: disable=broad-exception-caught
                # Cache plugins raise anything from ValueError to their client library's errors.
                self._problem(host, fact_cache.origin(host),
                              "the entry cannot be read (%s: %s)" % (type(exc).__name__, exc))
                continue
            if fact is not None:
                records[host] = fact
        if not records and C.CACHE_PLUGIN in ("memory", "ansible.builtin.memory"):
            self.display.warning(
                "imds inventory: the fact cache is the 'memory' plugin, which keeps nothing between runs. Set "
                "fact_caching (jsonfile, community.general.redis, ...) both when gathering and here.")
        return records

    def _records_from_path(self, path: str) -> dict:
        records = {}
        if os.path.isdir(path):
            names = sorted(n for n in os.listdir(path) if not n.startswith("."))
            files = [os.path.join(path, n) for n in names if os.path.isfile(os.path.join(path, n))]
        elif os.path.isfile(path):
            files = [path]
        else:
            raise AnsibleParserError("imds inventory: paths entry %r is neither a file nor a directory." % path)
        for file_path in files:
            name = os.path.basename(file_path)
            host = name[:-len(".json")] if name.endswith(".json") else name
            if not valid_host_name(host):
                self._problem(host, file_path, "the file name is not a usable host name")
                continue
            try:
                records[host] = fact_from_file_data(_read_json_file(file_path))
            except (FactRecordError, ValueError, OSError) as exc:
                self._problem(host, file_path, str(exc))
        return records

    # -- building ------------------------------------------------------------------------

    def _populate(self, records: dict, namer: GroupNamer) -> None:
        families = self.get_option("default_groups")
        compose = self.get_option("compose")
        groups = self.get_option("groups")
        keyed_groups = self.get_option("keyed_groups")
        constructing = bool(compose or groups or keyed_groups)
        known_groups = set()
        for host, fact in records.items():
            self.inventory.add_host(host)
            # Every fact here was decoded by plain json.loads (files, the fact-cache payload, our
            # inventory-cache string), so no value carries template trust: IMDS text stays unsafe.
            # The values are set on the Host itself: inventory.set_variable() would deep-copy each
            # fact only to tag every string with its origin, which made --list 2x slower and
            # doubled the memory at 10,000 hosts, while adding nothing to trust.
            host_object = self.inventory.get_host(host)
            for name, value in flat_hostvars(fact).items():
                host_object.set_variable(name, value)
            for group in default_groups(fact, families, namer, host):
                if group not in known_groups:
                    self.inventory.add_group(group)
                    known_groups.add(group)
                self.inventory.add_child(group, host)
            if constructing:
                self._construct(host, compose, groups, keyed_groups)
        for message in namer.collision_messages():
            self.display.warning("imds inventory: " + message)

    def _construct(self, host: str, compose, groups, keyed_groups) -> None:
        strict = self._strict
        self._set_composite_vars(compose, self.inventory.get_host(host).get_vars(), host, strict=strict)
        variables = self.inventory.get_host(host).get_vars()
        self._add_host_to_composed_groups(groups, variables, host, strict=strict, fetch_hostvars=False)
        self._add_host_to_keyed_groups(keyed_groups, variables, host, strict=strict, fetch_hostvars=False)


class FactCacheReader:
    """Reads the configured fact cache without changing it, and without trusting it.

    ansible-core 2.19 wraps every cache plugin in an interposer that prefixes keys with a
    schema id (``s1_``) and stores each host's facts as one JSON string under ``__payload__``.
    This reader talks to the plugin behind the interposer and decodes the payload with plain
    ``json.loads``: whatever a shared cache holds, nothing read from it can carry template
    trust (2.19 data tags), so IMDS values stay untrusted text. It also avoids three things
    that break or destroy when going through the interposer: redis returns keys as bytes,
    which the interposer cannot compare; ansible-core's file caches fail in keys() when
    fact_caching_prefix is unset (an empty prefix is set on this private instance); and their
    get() deletes an entry it cannot parse, which an inventory must never do (files are read
    through the plugin's own loader instead).
    """

    PAYLOAD = "__payload__"

    def __init__(self, fact_cache) -> None:
        self.cache = fact_cache
        self.backend = getattr(fact_cache, "__wrapped__", fact_cache)
        self.file_based = isinstance(self.backend, BaseFileCacheModule)
        if self.file_based and self.backend.get_option("_prefix") is None:
            self.backend.set_option("_prefix", "")

    def hosts(self) -> list:
        keys = [k.decode("utf-8", errors="replace") if isinstance(k, bytes) else str(k) for k in self.backend.keys()]
        from_backend = getattr(self.cache, "_restore_key", None)
        if from_backend is not None:
            keys = [host for host in (from_backend(k) for k in keys) if host]
        return sorted(keys)

    def _backend_key(self, host: str) -> str:
        to_backend = getattr(self.cache, "_get_key", None)
        return to_backend(host) if to_backend else host

    def origin(self, host: str) -> str:
        key = self._backend_key(host)
        if self.file_based:
            return "fact cache file %s" % self.backend._get_cache_file_name(key)  # pylint: disable=protected-access
        prefix = getattr(self.backend, "_prefix", "") or ""
        return "%s fact cache entry %r" % (getattr(self.backend, "ansible_name", C.CACHE_PLUGIN), prefix + key)

    def read(self, host: str):
        key = self._backend_key(host)
        if self.file_based:
            raw = self.backend._load(self.backend._get_cache_file_name(key))  # pylint: disable=protected-access
        else:
            raw = self.backend.get(key)
        if key == host:  # no interposer: the entry is the facts themselves
            return raw
        if not isinstance(raw, dict) or not isinstance(raw.get(self.PAYLOAD), str):
            raise FactRecordError("the entry is not an ansible-core 2.19 fact cache entry (no %s)" % self.PAYLOAD)
        return json.loads(raw[self.PAYLOAD])


def _read_json_file(path: str):
    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
        raise FactRecordError("the file is %d bytes, more than the %d an IMDS document can be" % (size, MAX_FILE_BYTES))
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FactRecordError("the file is not UTF-8 text (byte %d)" % exc.start) from exc
    except ValueError as exc:
        raise FactRecordError("the file is not valid JSON (%s)" % exc) from exc
    except RecursionError as exc:
        raise FactRecordError("the JSON is nested too deeply") from exc
