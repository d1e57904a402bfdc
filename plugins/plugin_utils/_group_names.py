# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Predictable group names from IMDS values, the default group families, and reserved host names.

Two styles:

``ansible`` (the default) is Ansible's own safe-group-name rule, the one ``keyed_groups`` applies:
the parts are joined with ``_`` and every character that is not a word character (or a leading
digit) becomes ``_``; case is kept. ``azure_tag_Role_web`` is what
``keyed_groups: [{key: azure_tags, prefix: azure_tag}]`` makes for the same tag.

``lower`` is the rule of release 0.1.0: each value is lower-cased, every run of characters other
than a-z, 0-9 and ``_`` becomes one ``_``, ``_`` is stripped from both ends, and an empty result
becomes ``empty``.

IMDS values are untrusted text, so nothing else of them ever reaches a group name.
"""

from __future__ import annotations

import fnmatch
import re

# ansible.constants.INVALID_VARIABLE_NAMES, which to_safe_group_name(force=True) applies.
_ANSIBLE_INVALID = re.compile(r"^[\d\W]|[^\w]")
_LOWER_INVALID_RUN = re.compile(r"[^a-z0-9_]+")
_UNDERSCORES = re.compile(r"_{2,}")
_PREFIX_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # fullmatch: "$" would accept a trailing newline

FAMILIES = ("tag", "zone", "fault_domain", "update_domain", "location", "vm_size", "scale_set", "priority", "os_type")
STYLES = ("ansible", "lower")

NO_ZONE = "none"
# Groups every inventory has; a host of that name would take them over.
BUILTIN_GROUPS = frozenset(("all", "ungrouped"))


def ansible_safe_name(name: str) -> str:
    """Ansible's safe group name (``to_safe_group_name(force=True)``): invalid characters become ``_``."""
    return _ANSIBLE_INVALID.sub("_", name)


def lower_part(value: str) -> str:
    """One name part by the 0.1.0 rule (style ``lower``)."""
    text = _LOWER_INVALID_RUN.sub("_", str(value).lower())
    return _UNDERSCORES.sub("_", text).strip("_") or "empty"


def valid_prefix(prefix: str) -> bool:
    return prefix == "" or bool(_PREFIX_RE.fullmatch(prefix))


class GroupNamer:
    """Builds group names and notices when two different raw values end up with one name."""

    def __init__(self, prefix: str, style: str = "ansible") -> None:
        if style not in STYLES:
            raise ValueError("group name style must be one of %s, not %r" % (", ".join(STYLES), style))
        self.prefix = prefix
        self.style = style
        self._origins: dict[str, tuple] = {}
        self._names: dict[tuple, str] = {}
        self.collisions: dict[str, list] = {}

    def name(self, family: str, *raw_parts: str, host: str = "") -> str:
        """``<prefix>_<family>_<parts>`` by the style's rule; records which raw value made the name."""
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
        if self.style == "lower":
            name = "_".join(p for p in [self.prefix, family] + [lower_part(p) for p in raw_parts] if p)
        else:
            name = ansible_safe_name("_".join([p for p in (self.prefix, family) if p] + list(raw_parts)))
        first = self._origins.setdefault(name, origin + (host,))
        if first[:-1] != origin:
            self.collisions.setdefault(name, [first]).append(origin + (host,))
        return name

    def in_namespace(self, name: str, families) -> bool:
        """Whether ``name`` could be a default group of one of ``families`` (``<prefix>_<family>_...``)."""
        head = self.prefix + "_" if self.prefix else ""
        return any(name.startswith(head + family + "_") for family in families)

    def collision_messages(self) -> list:
        rule = ("group names are lower-cased and every character other than a-z, 0-9 and _ becomes _"
                if self.style == "lower" else "every character that cannot be in a group name becomes _")
        messages = []
        for name, origins in sorted(self.collisions.items()):
            described = "; ".join("%s (host %s)" % (_describe(o[:-1]), o[-1]) for o in origins)
            messages.append("Group %s holds hosts of different values: %s. In group names %s; use keyed_groups "
                            "with your own key to keep them apart." % (name, described, rule))
        return messages


def _describe(origin: tuple) -> str:
    family = origin[0]
    if family == "tag":
        return "tag %r" % origin[1] if len(origin) == 2 else "tag %r=%r" % (origin[1], origin[2])
    return "%s %r" % (family.replace("_", " "), origin[1])


def text_value(value) -> str:
    """IMDS sends strings; anything else (missing, null, a number in a hand-made file) counts as empty."""
    return value if isinstance(value, str) else ""


class TagSpellings:
    """One spelling per tag name, as Azure compares tag names without regard to case.

    ``Role`` on one VM and ``role`` on another are the same Azure tag; their hosts share the
    group of the spelling most hosts use (ties: the one that sorts first), whatever order the
    hosts are read in, and the other spellings are reported.
    """

    def __init__(self, facts) -> None:
        counts: dict[str, dict[str, int]] = {}
        for fact in facts:
            for tag_name in tags_of(fact):
                by_spelling = counts.setdefault(tag_name.casefold(), {})
                by_spelling[tag_name] = by_spelling.get(tag_name, 0) + 1
        self._chosen: dict[str, str] = {}
        self.conflicts: list[tuple[str, dict]] = []
        for key, by_spelling in counts.items():
            chosen = min(by_spelling, key=lambda spelling: (-by_spelling[spelling], spelling))
            self._chosen[key] = chosen
            if len(by_spelling) > 1:
                self.conflicts.append((chosen, by_spelling))

    def canonical(self, tag_name: str) -> str:
        return self._chosen.get(tag_name.casefold(), tag_name)

    def messages(self) -> list:
        messages = []
        for chosen, by_spelling in sorted(self.conflicts):
            spelled = ", ".join("%r on %d host%s" % (s, n, "" if n == 1 else "s") for s, n in sorted(by_spelling.items()))
            messages.append("The tag name is spelled differently on different VMs (%s). Azure treats tag names "
                            "without regard to case, so all of them are grouped as %r (the spelling most VMs use; "
                            "on a tie the one that sorts first). azure_tags keeps each VM's own spelling."
                            % (spelled, chosen))
        return messages


class TagFilter:
    """Which tags may form default groups (option ``tag_groups_allowed``).

    ``allowed`` maps tag-name patterns to lists of tag-value patterns (``*``, ``?``, ``[...]`` as
    in shell globs; null: any value). Names match without regard to case, as Azure compares tag
    names; values match with case, as Azure keeps them apart. A tag forms its two groups (name and
    name+value) only when its name matches a key and its value one of that key's patterns.
    ``None``: every tag may form groups.
    """

    def __init__(self, allowed) -> None:
        self.rules = None if allowed is None else _tag_rules(allowed)

    def allows(self, name: str, value: str) -> bool:
        if self.rules is None:
            return True
        folded = name.casefold()
        for name_pattern, value_patterns in self.rules:
            if fnmatch.fnmatchcase(folded, name_pattern):
                return value_patterns is None or any(fnmatch.fnmatchcase(value, p) for p in value_patterns)
        return False


def _tag_rules(allowed) -> list:
    """``tag_groups_allowed`` as [(folded name pattern, value patterns or None)]; ValueError when malformed."""
    if not isinstance(allowed, dict):
        raise ValueError("tag_groups_allowed must be a dictionary of tag names to lists of values, not a %s"
                         % type(allowed).__name__)
    rules = []
    for name, values in allowed.items():
        if not isinstance(name, str) or not name:
            raise ValueError("tag_groups_allowed keys must be tag names or patterns, not %r" % (name,))
        if values is not None and (not isinstance(values, list) or not all(isinstance(v, str) for v in values)):
            raise ValueError("tag_groups_allowed[%r] must be a list of values or patterns, or null for any value"
                             % name)
        rules.append((name.casefold(), None if values is None else list(values)))
    return rules


def tags_of(fact: dict) -> dict:
    tags = fact.get("tags")
    return tags if isinstance(tags, dict) else {}


def default_groups(fact: dict, families, namer: GroupNamer, host: str, spellings: TagSpellings | None = None,
                   tag_filter: TagFilter | None = None) -> list:
    """The default groups of one host, in family order; tags only where ``tag_filter`` allows them."""
    compute = fact.get("compute") if isinstance(fact.get("compute"), dict) else {}
    wanted = set(families)
    groups = []
    if "tag" in wanted:
        for tag_name, tag_value in tags_of(fact).items():
            tag_value = text_value(tag_value)
            if tag_filter is not None and not tag_filter.allows(tag_name, tag_value):
                continue
            if spellings is not None:
                tag_name = spellings.canonical(tag_name)
            groups.append(namer.name("tag", tag_name, host=host))
            groups.append(namer.name("tag", tag_name, tag_value, host=host))
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


def reserved_host_reason(host: str, namer: GroupNamer, families, made_groups) -> str | None:
    """Why ``host`` cannot be a host of this inventory source, or None when it can.

    A host and a group cannot share a name in Ansible: such a VM would take the group over. The
    rule: ``all`` and ``ungrouped``, every name of the default groups' namespace
    (``<prefix>_<family>_...`` of the enabled families, whether or not a VM makes that group
    today, so the answer does not change as the fleet changes), and every group already made.
    """
    if host in BUILTIN_GROUPS:
        return "%r is a group every inventory has" % host
    if namer.in_namespace(host, families):
        return "%r is in the namespace of this plugin's default groups" % host
    if host in made_groups:
        return "%r is the name of a group in this inventory" % host
    return None
