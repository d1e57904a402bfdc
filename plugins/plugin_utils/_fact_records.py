# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Turn what the inventory plugin reads (fact-cache entries, JSON files) into checked ``azure_imds`` facts."""

from __future__ import annotations

import json
import re

from ansible_collections.imds.azure.plugins.module_utils._errors import excerpt
from ansible_collections.imds.azure.plugins.module_utils._facts import (
    FACT_NAME,
    InstanceDocumentError,
    build_fact,
)
from ansible_collections.imds.azure.plugins.module_utils._tags import tags_from_compute
from ansible_collections.imds.azure.plugins.plugin_utils._group_names import text_value

# Host names come from fact-cache keys and file names, never from IMDS values. fullmatch, not
# "^...$": "$" also matches before a trailing newline.
_HOST_NAME_RE = re.compile(r"[\w.:@\[\]-]+")
MAX_HOST_NAME = 255
# A saved run's message is quoted in a warning: enough to recognise it, never a screenful.
FAILED_MESSAGE_LIMIT = 300


class FactRecordError(ValueError):
    """An entry or file that should hold an IMDS fact but does not have its shape."""


def decoded_json(data: str | bytes, what: str, object_hook=None):
    """JSON decoded plainly (no Ansible decoder, no template trust), or FactRecordError naming ``what``.

    Bytes must be UTF-8: ``json.loads`` would also guess UTF-16 or UTF-32 from their first bytes,
    which neither ansible-core's caches nor ``imds.azure.save_facts`` ever write.
    """
    try:
        return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data, object_hook=object_hook)
    except UnicodeDecodeError as exc:
        raise FactRecordError("%s is not UTF-8 text (byte %d)" % (what, exc.start)) from exc
    except RecursionError as exc:
        raise FactRecordError("the JSON is nested too deeply") from exc
    except ValueError as exc:
        raise FactRecordError("%s is not valid JSON (%s)" % (what, exc)) from exc


def valid_host_name(name: str) -> bool:
    return bool(name) and len(name) <= MAX_HOST_NAME and not name.startswith("-") and bool(_HOST_NAME_RE.fullmatch(name))


def fact_from_cache_entry(entry) -> dict | None:
    """The checked ``azure_imds`` fact of one fact-cache entry; None when the host has none."""
    if not isinstance(entry, dict):
        raise FactRecordError("the entry is a JSON %s, not an object of facts" % type(entry).__name__)
    if FACT_NAME not in entry:
        return None
    return checked_fact(entry[FACT_NAME])


def _failed_run_message(data: dict) -> str:
    """The message of a saved failed run: untrusted text, shortened and without control characters."""
    return excerpt(str(data.get("msg", "no message")), FAILED_MESSAGE_LIMIT) or "no message"


def fact_from_file_data(data) -> dict:
    """The fact in a JSON file: ``--tree`` output, a raw ``/metadata/instance`` document, or the fact itself."""
    if not isinstance(data, dict):
        raise FactRecordError("the file holds a JSON %s, not an object" % type(data).__name__)
    if "ansible_facts" in data or "failed" in data or "unreachable" in data:
        if data.get("failed") or data.get("unreachable"):
            raise FactRecordError("it records a failed run: %s" % _failed_run_message(data))
        facts = data.get("ansible_facts")
        if not isinstance(facts, dict) or FACT_NAME not in facts:
            raise FactRecordError("it has no ansible_facts.%s" % FACT_NAME)
        return checked_fact(facts[FACT_NAME])
    if "compute" in data or "network" in data:
        if "api_version" in data and "tags" in data:
            return checked_fact(data)
        try:
            return build_fact(data, None, include_user_data=False)
        except InstanceDocumentError as exc:
            raise FactRecordError(str(exc)) from exc
    raise FactRecordError("it is neither an /metadata/instance document nor metadata_facts output")


def checked_fact(fact) -> dict:
    """Check the shape of an ``azure_imds`` fact; rebuild ``tags`` when it is missing or malformed."""
    if not isinstance(fact, dict):
        raise FactRecordError("%s is a JSON %s, not an object" % (FACT_NAME, type(fact).__name__))
    for key in ("compute", "network"):
        if key in fact and not isinstance(fact[key], dict):
            raise FactRecordError("%s.%s is a JSON %s, not an object" % (FACT_NAME, key, type(fact[key]).__name__))
    compute = fact.get("compute", {})
    if "compute" not in fact and "network" not in fact:
        raise FactRecordError("%s has neither compute nor network" % FACT_NAME)
    tags = fact.get("tags")
    if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        fact = dict(fact, tags=tags_from_compute(compute))
    return fact


def checked_record(host, fact) -> dict:
    """A (host, fact) pair from anywhere (fact cache, file, inventory cache), checked by one rule.

    Raises FactRecordError when the host name is unusable or the fact has the wrong shape.
    """
    check_host_name(host)
    return checked_fact(fact)


def check_host_name(host) -> None:
    """FactRecordError unless ``host`` (a cache key, a file name) is usable as a host name."""
    if not isinstance(host, str) or not valid_host_name(host):
        raise FactRecordError("%r is not a usable host name" % (host,))


class RecordLimits:
    """Per-host bounds on what the inventory plugin keeps of one record (options max_tags, max_depth, ...).

    A VM writes its own facts, so one host must never be able to exhaust the controller or break the
    inventory of the others (a 600-deep list made ``ansible-inventory --list --export`` fail with
    RecursionError; 200,000 tags made ansible-core's per-host group bookkeeping run for hours).
    """

    __slots__ = ("tags", "depth", "items", "string_length", "size")

    def __init__(self, tags: int = 50, depth: int = 20, items: int = 10000, string_length: int = 131072,
                 size: int = 1048576) -> None:
        # Azure allows 50 tags per resource; an IMDS fact nests 8 deep and holds a few hundred items;
        # userData (include_user_data) is at most 64 KiB, 87,384 characters as base64; IMDS answers
        # are capped at 1 MiB.
        self.tags = tags
        self.depth = depth
        self.items = items
        self.string_length = string_length
        self.size = size


DEFAULT_LIMITS = RecordLimits()


def check_bounds(record: dict, limits: RecordLimits = DEFAULT_LIMITS) -> None:
    """Raise FactRecordError naming the first bound ``record`` crosses (and the option that sets it).

    One iterative walk, level by level (no recursion), stopped at the first bound crossed: a
    hostile record costs no more than the bounds allow. It runs for every host of every
    inventory run, hence the plain loops.
    """
    tags = record.get("tags")
    if isinstance(tags, dict) and len(tags) > limits.tags:
        raise FactRecordError("it has %d tags, more than max_tags (%d; Azure allows 50 per resource)"
                              % (len(tags), limits.tags))
    items = size = 0
    level, depth = [record], 1
    while level:
        if depth > limits.depth:
            raise FactRecordError("it is nested more than max_depth (%d) levels deep" % limits.depth)
        deeper = []
        for container in level:
            items += len(container)
            if items > limits.items:
                raise FactRecordError("it holds more than max_items (%d) keys and list items" % limits.items)
            if isinstance(container, dict):
                size += sum(len(key) if isinstance(key, str) else 1 for key in container)
                container = container.values()
            for value in container:
                if isinstance(value, str):
                    if len(value) > limits.string_length:
                        raise FactRecordError("it holds a string of %d characters, more than max_string_length "
                                              "(%d)" % (len(value), limits.string_length))
                    size += len(value)
                elif isinstance(value, (dict, list)):
                    deeper.append(value)
                else:
                    size += 1
        if size > limits.size:
            raise FactRecordError("it is larger than max_record_size (%d characters of names and values)"
                                  % limits.size)
        level, depth = deeper, depth + 1


# What the default groups and the flat variables read from compute; the rest of a fact is only
# kept when a variable or a constructed expression may need it.
GROUPING_KEYS = ("location", "zone", "platformFaultDomain", "platformUpdateDomain", "vmSize", "vmScaleSetName",
                 "priority", "Priority", "osType")


def grouping_view(fact: dict) -> dict:
    """The part of a checked fact that grouping and the flat variables use (about a tenth of it)."""
    compute = fact.get("compute", {})
    return {"compute": {key: compute[key] for key in GROUPING_KEYS if key in compute},
            "tags": fact.get("tags", {})}


# host_variables option -> the variables it sets. Each costs time and memory in every
# ansible-inventory --list (figures in the plugin documentation).
VARIABLE_SETS = ("flat", "tags", "instance")
INSTANCE_VARIABLE = "azure_instance"


def host_variables(fact: dict, wanted) -> dict:
    """The host variables of one host for the chosen ``host_variables`` sets.

    None of the names is a fact that imds.azure.metadata_facts returns, so no variable set
    here is shadowed by, or shadows, a fact injected from the fact cache (``azure_imds``).
    """
    variables = {}
    if "flat" in wanted:
        compute = fact.get("compute", {})
        variables.update(azure_location=text_value(compute.get("location")),
                         azure_zone=text_value(compute.get("zone")),
                         azure_fault_domain=text_value(compute.get("platformFaultDomain")),
                         azure_update_domain=text_value(compute.get("platformUpdateDomain")))
    if "tags" in wanted:
        variables["azure_tags"] = fact.get("tags", {})
    if "instance" in wanted:
        variables[INSTANCE_VARIABLE] = fact
    return variables
