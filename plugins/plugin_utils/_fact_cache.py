# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Read a fact cache of either layout, whichever ansible-core runs the reader, without changing it.

Layouts:

* ``plain`` (ansible-core up to 2.18): the key is the host name and the entry is the facts
  dictionary; strings that were marked unsafe are written as ``{"__ansible_unsafe": text}``.
* ``payload`` (ansible-core 2.19 on): the key is ``s<schema>_<host>`` and the entry is
  ``{"__payload__": "<the facts as JSON text>"}``. Only schema 1 exists today.

Everything is decoded with plain ``json.loads`` (no Ansible decoder), so no value read here can
carry template trust, whatever a shared cache holds. The reader talks to the cache plugin itself,
behind ansible-core 2.19's interposer: that interposer cannot compare redis's bytes keys, hides
entries of the other layout, and the file caches' ``get()`` deletes an entry it cannot parse,
which an inventory must never do.
"""

from __future__ import annotations

import os
import re

from ansible_collections.imds.azure.plugins.plugin_utils._fact_records import FactRecordError, decoded_json

PAYLOAD_KEY = "__payload__"
SUPPORTED_SCHEMA = "1"
_SCHEMA_KEY = re.compile(r"^s(\d+)_(.+)\Z", re.DOTALL)
_UNSAFE_KEY = "__ansible_unsafe"


class CacheEntry:
    """One entry of the cache: the key in the backend, the host it names, and its layout."""

    __slots__ = ("key", "host", "layout", "schema")

    def __init__(self, key: str, host: str, layout: str, schema: str = "") -> None:
        self.key = key
        self.host = host
        self.layout = layout
        self.schema = schema


def classify_key(key: str) -> CacheEntry:
    """Which host and layout a backend key stands for (the entry decides in the end: see ``decode``)."""
    match = _SCHEMA_KEY.match(key)
    if match:
        return CacheEntry(key, match.group(2), "payload", match.group(1))
    return CacheEntry(key, key, "plain")


def _without_unsafe_markers(pairs: dict):
    """ansible-core before 2.19 writes unsafe strings as ``{"__ansible_unsafe": text}``: keep the text."""
    if len(pairs) == 1 and _UNSAFE_KEY in pairs:
        return pairs[_UNSAFE_KEY]
    return pairs


def decode_plain(text: str | bytes):
    """A plain-layout entry as written by ansible-core's jsonfile/redis caches, markers removed."""
    return decoded_json(text, "the entry", _without_unsafe_markers)


def plain_values(value):
    """Values a cache plugin decoded itself (redis before 2.19 gives AnsibleUnsafeText): as plain data."""
    if isinstance(value, dict):
        if len(value) == 1 and _UNSAFE_KEY in value:
            return plain_values(value[_UNSAFE_KEY])
        return {plain_values(k): plain_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_values(v) for v in value]
    if isinstance(value, str):
        return str.__str__(value)  # an exact str, also for AnsibleUnsafeText
    return value


def facts_of(entry: CacheEntry, raw):
    """The facts dictionary of one decoded entry, for either layout."""
    if entry.layout == "payload":
        if isinstance(raw, dict) and set(raw) == {PAYLOAD_KEY} and isinstance(raw[PAYLOAD_KEY], str):
            if entry.schema != SUPPORTED_SCHEMA:
                raise FactRecordError("the entry was written with fact-cache schema %s, which this plugin cannot read "
                                      "(it reads schema %s and the plain layout)" % (entry.schema, SUPPORTED_SCHEMA))
            return decoded_json(raw[PAYLOAD_KEY], "the entry")
        # A host whose name merely looks like a schema key, cached in the plain layout.
        entry.host, entry.layout, entry.schema = entry.key, "plain", ""
    return raw


class FactCacheReader:
    """Lists and reads the entries of the configured fact cache, both layouts, read-only."""

    def __init__(self, fact_cache, file_cache_class) -> None:
        self.backend = getattr(fact_cache, "__wrapped__", fact_cache)
        self.file_based = isinstance(self.backend, file_cache_class)
        if self.file_based and self.backend.get_option("_prefix") is None:
            # ansible-core's file caches fail in keys() when fact_caching_prefix is unset.
            self.backend.set_option("_prefix", "")
        # The JSON file cache is read here with plain json (fast, and no Ansible decoder); other
        # file caches (yaml, pickle) through their own loader.
        self.plain_json_files = self.file_based and type(self.backend).__module__.endswith("cache.jsonfile")

    def entries(self) -> list:
        """Every entry, the one of the other layout dropped when a host has both (see ``_newest``)."""
        by_host = {}
        for key in self.backend.keys():
            entry = classify_key(key.decode("utf-8", errors="replace") if isinstance(key, bytes) else str(key))
            by_host.setdefault(entry.host, []).append(entry)
        chosen = []
        for host in sorted(by_host):
            chosen.append(self._newest(by_host[host]))
        return chosen

    def _newest(self, entries: list) -> CacheEntry:
        """Of one host's entries (a plain and a payload one, when two ansible-core lines share a cache),
        the most recently written when the cache can tell (file caches), else the payload (2.19+) one."""
        if len(entries) == 1:
            return entries[0]
        if self.file_based:
            return max(entries, key=lambda e: (os.path.getmtime(self.path(e)), e.layout == "payload"))
        return max(entries, key=lambda e: e.layout == "payload")

    def path(self, entry: CacheEntry) -> str:
        return self.backend._get_cache_file_name(entry.key)  # pylint: disable=protected-access

    def origin(self, entry: CacheEntry) -> str:
        if self.file_based:
            return "fact cache file %s" % self.path(entry)
        prefix = getattr(self.backend, "_prefix", "") or ""
        return "%s fact cache entry %r" % (getattr(self.backend, "ansible_name", "fact"), prefix + entry.key)

    def read(self, entry: CacheEntry):
        """The facts dictionary (or whatever the entry holds instead) of ``entry``, as plain data."""
        if self.plain_json_files:
            with open(self.path(entry), "rb") as handle:
                raw = decode_plain(handle.read())
        elif self.file_based:
            raw = plain_values(self.backend._load(self.path(entry)))  # pylint: disable=protected-access
        else:
            raw = plain_values(self.backend.get(entry.key))
        return facts_of(entry, raw)
