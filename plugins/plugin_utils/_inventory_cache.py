# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""What the inventory plugin keeps in the inventory cache (``cache: true``), and reading it back.

The entry is one JSON string, so it is decoded with plain ``json.loads`` whatever cache plugin
holds it (no template trust can travel in it). It says how much of each fact it holds (``detail``:
``grouping`` or ``full``), and every record read back is checked exactly as a fact-cache record
is: a crafted cache can hold neither an unusable host name, nor a fact of the wrong shape, nor one
beyond the per-host bounds.
"""

from __future__ import annotations

import json

from ansible_collections.imds.azure.plugins.plugin_utils._fact_records import (
    DEFAULT_LIMITS,
    FactRecordError,
    RecordLimits,
    check_bounds,
    checked_record,
)

FORMAT = 2
DETAILS = ("grouping", "full")


class InventoryCacheError(ValueError):
    """The cache entry as a whole is unusable: the plugin rebuilds it from the sources."""


def encode(records: dict, detail: str) -> str:
    return json.dumps({"format": FORMAT, "detail": detail, "records": records})


def decode(text, needed_detail: str, limits: RecordLimits = DEFAULT_LIMITS) -> tuple:
    """``(records, problems)`` from a cache entry; ``problems``: (host, reason) of the records dropped.

    Raises InventoryCacheError when the entry is not ours, is from another format, or holds
    less detail than ``needed_detail`` (then it must be rebuilt, not used).
    """
    if not isinstance(text, str):
        raise InventoryCacheError("the entry is a %s, not the JSON text this plugin writes" % type(text).__name__)
    try:
        entry = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InventoryCacheError("the entry is not valid JSON (%s)" % exc) from exc
    if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("detail") not in DETAILS:
        raise InventoryCacheError("the entry was not written by this version of the plugin")
    if needed_detail == "full" and entry["detail"] != "full":
        raise InventoryCacheError("the entry holds only what grouping needs, and the options now need whole facts")
    if not isinstance(entry.get("records"), dict):
        raise InventoryCacheError("the entry has no records object")
    records, problems = {}, []
    for host, fact in entry["records"].items():
        try:
            record = checked_record(host, fact)
            check_bounds(record, limits)
            records[host] = record
        except FactRecordError as exc:
            problems.append((host, str(exc)))
    return records, problems
