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
which an inventory must never do (as community.general.redis's ``keys()`` drops expired keys and
its ``get()`` a key whose value is gone: Redis is read through its client, read-only, too).

A record is accepted only under the key its own layout gives it: an entry keyed ``s1_db1`` is
host ``db1``'s only when it has the payload layout as ansible-core 2.19 writes it (one
``__payload__`` string, no unsafe marker). In a cache of ansible-core 2.18, host ``s1_db1``'s
facts are wrapped as unsafe by ansible-core, so a VM that names itself ``s1_db1`` and reports a
``__payload__`` fact stays host ``s1_db1`` and cannot replace ``db1``.
"""

from __future__ import annotations

import os
import re
import time

from ansible_collections.imds.azure.plugins.plugin_utils._fact_records import FactRecordError, decoded_json
from ansible_collections.imds.azure.plugins.plugin_utils._json_files import MAX_FILE_BYTES, read_capped

PAYLOAD_KEY = "__payload__"
SUPPORTED_SCHEMA = "1"
_SCHEMA_KEY = re.compile(r"^s(\d+)_(.+)\Z", re.DOTALL)
_UNSAFE_KEY = "__ansible_unsafe"


class CacheEntry:
    """One entry of the cache: the key in the backend, the host it names, and its layout."""

    __slots__ = ("key", "host", "layout", "schema")  # layout: what the key claims until the entry is read

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


def plain_values(value: object) -> object:
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


def _is_payload(raw) -> bool:
    """The payload layout exactly as ansible-core 2.19 writes it: one key, its value plain JSON text."""
    return isinstance(raw, dict) and len(raw) == 1 and type(raw.get(PAYLOAD_KEY)) is str  # pylint: disable=unidiomatic-typecheck


def _as_plain_entry(entry: CacheEntry) -> None:
    """The entry is not in the payload layout its key looks like: it is host ``key``'s plain entry."""
    entry.host, entry.layout, entry.schema = entry.key, "plain", ""


def facts_of(entry: CacheEntry, raw):
    """The facts of one entry whose values were decoded (unsafe markers removed) by its cache plugin.

    Only ansible-core 2.16 to 2.18 decode that way, and they turn a marked string into a str
    subclass: the exact ``str`` test tells a real payload from a plain entry that holds one.
    """
    if entry.layout == "payload":
        if _is_payload(raw):
            return _payload_facts(entry, raw)
        _as_plain_entry(entry)
    return plain_values(raw)


def facts_of_text(entry: CacheEntry, text: bytes):
    """The facts of one entry read as text (jsonfile, Redis): the layout decided on the raw JSON."""
    if entry.layout == "payload":
        raw = decoded_json(text, "the entry")
        if _is_payload(raw):
            return _payload_facts(entry, raw)
        _as_plain_entry(entry)
    return decode_plain(text)


def _payload_facts(entry: CacheEntry, raw: dict):
    if entry.schema != SUPPORTED_SCHEMA:
        raise FactRecordError("the entry was written with fact-cache schema %s, which this plugin cannot read "
                              "(it reads schema %s and the plain layout)" % (entry.schema, SUPPORTED_SCHEMA))
    return decoded_json(raw[PAYLOAD_KEY], "the entry")


class Listing:
    """What the cache holds beside the entries: counts for the plugin's explanation of its result."""

    __slots__ = ("expired", "other_names", "other_example")

    def __init__(self) -> None:
        self.expired = 0  # entries older than the timeout, left out as ansible-core leaves them out
        self.other_names = 0  # file caches: files whose names lack the prefix (a wrong prefix?)
        self.other_example = ""


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
        # community.general.redis: its client, read-only (keys() and get() of the plugin write).
        self.redis = (type(self.backend).__module__.endswith("cache.redis")
                      and all(hasattr(self.backend, a) for a in ("_db", "_keys_set", "_make_key", "_timeout")))
        self.listing = Listing()

    def entries(self) -> list:
        """Every entry of the cache (not expired), classified by its key; ``listing`` counts the rest."""
        self.listing = Listing()
        return [classify_key(key.decode("utf-8", errors="replace") if isinstance(key, bytes) else str(key))
                for key in self._keys()]

    def _keys(self) -> list:
        if self.file_based:
            return self._file_keys()
        if self.redis:
            return self._redis_keys()
        return list(self.backend.keys())

    def _file_keys(self) -> list:
        """Keys as the file caches' keys() gives them, counting what it leaves out (nothing is changed)."""
        prefix = self.backend.get_option("_prefix") or ""
        directory = self.backend._cache_dir  # pylint: disable=protected-access
        keys = []
        for name in sorted(os.listdir(directory)) if os.path.isdir(directory) else []:
            if name.startswith("."):
                continue
            if not name.startswith(prefix):
                self.listing.other_names += 1
                self.listing.other_example = self.listing.other_example or name
            elif self.backend.has_expired(name[len(prefix):]):
                self.listing.expired += 1
            else:
                keys.append(name[len(prefix):])
        return keys

    def _redis_keys(self) -> list:
        """The keys of the key set, those older than the timeout counted and left out (never removed)."""
        scored = self.backend._db.zrange(self.backend._keys_set, 0, -1, withscores=True)  # pylint: disable=protected-access
        timeout = float(self.backend._timeout)  # pylint: disable=protected-access
        oldest = time.time() - timeout if timeout > 0 else None
        keys = [key for key, score in scored if oldest is None or score > oldest]
        self.listing.expired = len(scored) - len(keys)
        return keys

    def read_all(self, entries: list, keep=None) -> list:
        """``[(entry, facts or the exception reading it raised)]``, one per host.

        Every entry is read, so its content decides its layout (and so its host) before a host's
        entries are compared; of one host's entries the newest wins (see ``_newest``). ``keep``
        (entry, outcome) -> what to hold instead of the whole outcome until then: holding every
        host's whole facts at once made reading 10,000 hosts 40 % slower (garbage collection).
        """
        by_host = {}
        for entry in entries:
            try:
                outcome = self.read(entry)
            except Exception as exc:  # pylint: disable=broad-exception-caught
                # Cache plugins raise anything from ValueError to their client library's errors;
                # the caller reports it as this entry's problem.
                outcome = exc
            by_host.setdefault(entry.host, []).append((entry, keep(entry, outcome) if keep else outcome))
        return [self._newest(by_host[host]) for host in sorted(by_host)]

    def _newest(self, candidates: list) -> tuple:
        """Of one host's entries (a plain and a payload one, when two ansible-core lines share a cache),
        the most recently written when the cache can tell (file caches), else the payload (2.19+) one."""
        if len(candidates) == 1:
            return candidates[0]
        if self.file_based:
            return max(candidates, key=lambda c: (os.path.getmtime(self.path(c[0])), c[0].layout == "payload"))
        return max(candidates, key=lambda c: c[0].layout == "payload")

    def path(self, entry: CacheEntry) -> str:
        return self.backend._get_cache_file_name(entry.key)  # pylint: disable=protected-access

    def origin(self, entry: CacheEntry) -> str:
        if self.file_based:
            return "fact cache file %s" % self.path(entry)
        prefix = getattr(self.backend, "_prefix", "") or ""
        return "%s fact cache entry %r" % (getattr(self.backend, "ansible_name", "fact"), prefix + entry.key)

    def read(self, entry: CacheEntry):
        """The facts dictionary (or whatever the entry holds instead) of ``entry``, as plain data.

        Raises KeyError when the entry is gone, FactRecordError when it cannot be decoded.
        """
        if self.plain_json_files:
            return facts_of_text(entry, self._file_text(entry))
        if self.redis:
            text = self.backend._db.get(self.backend._make_key(entry.key))  # pylint: disable=protected-access
            if text is None:
                raise KeyError(entry.key)
            return facts_of_text(entry, text)
        if self.file_based:
            return facts_of(entry, self.backend._load(self.path(entry)))  # pylint: disable=protected-access
        return facts_of(entry, self.backend.get(entry.key))

    def _file_text(self, entry: CacheEntry) -> bytes:
        return read_capped(self.path(entry), "the entry is more than %(limit)d bytes, far more than any host's facts",
                           MAX_FILE_BYTES)
