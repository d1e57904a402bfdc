# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Turn the two IMDS tag encodings into one ``{name: value}`` dict."""


def parse_tags_string(tags: str) -> dict:
    """Parse ``compute.tags`` (``name:value;name:value``).

    Entries are split on ``;`` and each entry on its FIRST ``:``, so values keep
    their colons (``aks-managed-orchestrator:Kubernetes:1.25.6``). A name with no
    ``:`` gets the value ``""``. Values that themselves contain ``;`` cannot be
    recovered from this form; that is why ``tagsList`` exists.
    """
    result = {}
    for entry in tags.split(";"):
        if not entry:
            continue
        name, _sep, value = entry.partition(":")
        if name:
            result[name] = value
    return result


def parse_tags_list(tags_list: list) -> dict:
    """Parse ``compute.tagsList`` (``[{"name": ..., "value": ...}]``), skipping malformed items."""
    result = {}
    for item in tags_list:
        if not isinstance(item, dict):
            continue
        name = item.get("name")
        value = item.get("value")
        if not isinstance(name, str) or not name:
            continue
        result[name] = value if isinstance(value, str) else ("" if value is None else str(value))
    return result


def tags_from_compute(compute: dict) -> dict:
    """Prefer ``tagsList`` when it is a non-empty list, else parse ``tags``.

    ``tagsList`` has been seen empty while ``tags`` was not (AKS scale sets), so
    an empty list does not mean "no tags".
    """
    tags_list = compute.get("tagsList")
    if isinstance(tags_list, list) and tags_list:
        parsed = parse_tags_list(tags_list)
        if parsed:
            return parsed
    tags = compute.get("tags")
    return parse_tags_string(tags) if isinstance(tags, str) else {}
