# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""An action plugin's argument spec, read from its module's DOCUMENTATION: one source for both."""

from __future__ import annotations

import yaml

# The keys of an option's documentation that are also argument spec keys.
_SPEC_KEYS = ("type", "choices", "default", "elements", "required", "aliases", "no_log")


def argument_spec_from_documentation(documentation: str) -> dict:
    """``options`` of a module's DOCUMENTATION YAML as an argument spec (nested ``suboptions`` too)."""
    return _spec(yaml.safe_load(documentation).get("options") or {})


def _spec(options: dict) -> dict:
    spec = {}
    for name, option in options.items():
        entry = {key: option[key] for key in _SPEC_KEYS if key in option}
        if "suboptions" in option:
            entry["options"] = _spec(option["suboptions"])
        spec[name] = entry
    return spec
