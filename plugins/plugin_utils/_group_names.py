# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Predictable group names from IMDS values, and the default group families of the inventory plugin.

Rule: lower-case the value, turn every run of characters other than a-z, 0-9 and ``_``
into one ``_``, strip ``_`` from both ends; an empty result is ``empty``. IMDS values are
untrusted text, so nothing else of them ever reaches a group name.
"""

from __future__ import annotations

import re

_INVALID_RUN = re.compile(r"[^a-z0-9_]+")
_UNDERSCORES = re.compile(r"_{2,}")
_PREFIX_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

FAMILIES = ("tag", "zone", "fault_domain", "update_domain", "location", "vm_size", "scale_set", "priority", "os_type")

NO_ZONE = "none"


def sanitize(value: str) -> str:
    """Turn any text into a group-name part by the documented rule."""
    text = _INVALID_RUN.sub("_", str(value).lower())
    return _UNDERSCORES.sub("_", text).strip("_") or "empty"


def valid_prefix(prefix: str) -> bool:
    return prefix == "" or bool(_PREFIX_RE.match(prefix))


class GroupNamer:
    """Builds group names and notices when two different raw values collapse into one name."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._origins = {}  # type: dict[str, tuple]
        self._names = {}  # type: dict[tuple, str]
        self.collisions = {}  # type: dict[str, list]

    def name(self, family: str, *raw_parts: str, host: str = "") -> str:
        """``<prefix>_<family>_<sanitized parts>``; records which raw value made the name."""
        origin = (family,) + tuple(raw_parts)
        known = self._names.get(origin)
        if known is not None:
            # Fleets repeat a few values many times: name each (family, value) once.
            return known
        name = self._new_name(origin, host)
        self._names[origin] = name
        return name

    def _new_name(self, origin: tuple, host: str) -> str:
        family, raw_parts = origin[0], origin[1:]
        parts = [sanitize(part) for part in raw_parts]
        name = "_".join(p for p in [self.prefix, family] + parts if p)
        first = self._origins.setdefault(name, origin + (host,))
        if first[:-1] != origin:
            self.collisions.setdefault(name, [first]).append(origin + (host,))
        return name

    def collision_messages(self) -> list:
        messages = []
        for name, origins in sorted(self.collisions.items()):
            described = "; ".join("%s (host %s)" % (_describe(o[:-1]), o[-1]) for o in origins)
            messages.append(
                "Group %s holds hosts of different values: %s. Group names are lower-cased and every character "
                "other than a-z, 0-9 and _ becomes _; use keyed_groups with your own key to keep them apart."
                % (name, described))
        return messages


def _describe(origin: tuple) -> str:
    family = origin[0]
    if family == "tag":
        return "tag %r" % origin[1] if len(origin) == 2 else "tag %r=%r" % (origin[1], origin[2])
    return "%s %r" % (family.replace("_", " "), origin[1])


def text_value(value) -> str:
    """IMDS sends strings; anything else (missing, null, a number in a hand-made file) counts as empty."""
    return value if isinstance(value, str) else ""


def default_groups(fact: dict, families, namer: GroupNamer, host: str) -> list:
    """The default groups of one host, in family order."""
    compute = fact.get("compute") if isinstance(fact.get("compute"), dict) else {}
    wanted = set(families)
    groups = []
    if "tag" in wanted:
        tags = fact.get("tags") if isinstance(fact.get("tags"), dict) else {}
        for tag_name, tag_value in tags.items():
            groups.append(namer.name("tag", tag_name, host=host))
            groups.append(namer.name("tag", tag_name, text_value(tag_value), host=host))
    simple = (
        ("zone", "zone", NO_ZONE),
        ("fault_domain", "platformFaultDomain", None),
        ("update_domain", "platformUpdateDomain", None),
        ("location", "location", None),
        ("vm_size", "vmSize", None),
        ("scale_set", "vmScaleSetName", None),
        ("os_type", "osType", None),
    )
    for family, key, when_empty in simple:
        if family not in wanted:
            continue
        value = text_value(compute.get(key)) or when_empty
        if value:
            groups.append(namer.name(family, value, host=host))
    if "priority" in wanted:
        groups.append(namer.name("priority", priority(compute), host=host))
    return groups


def priority(compute: dict) -> str:
    """Spot, Low or Regular. IMDS leaves it empty for regular VMs; one doc sample spells the key Priority."""
    value = text_value(compute.get("priority")) or text_value(compute.get("Priority"))
    return value or "Regular"
