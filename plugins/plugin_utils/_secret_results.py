# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Which answers of imds.azure.metadata_info hold a secret (identity tokens, user data).

The action plugin hides those from every output (``_imds_action.hide_if_secret``). This
decision lives apart because it reads the path table and the client's path rules, which
other action plugins need not import.
"""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.imds.azure.plugins.module_utils._path_rules import (
    SECRET_NONE,
    SECRET_USER_DATA,
    rule_for,
    segments_of,
)
from ansible_collections.imds.azure.plugins.module_utils._client import metadata_path
from ansible_collections.imds.azure.plugins.module_utils._errors import ImdsRequestError


def metadata_info_is_secret(args: dict) -> bool:
    """Would ``imds.azure.metadata_info`` with these (templated) options return a secret?"""
    path = args.get("path")
    if not isinstance(path, str):
        return False
    try:
        rule = rule_for(segments_of(metadata_path(path)))
    except ImdsRequestError:
        return False  # the module refuses the path before sending anything
    if rule.secret == SECRET_USER_DATA:
        return True
    if rule.contains_user_data and boolean(args.get("include_user_data", False), strict=False):
        return True
    return rule.secret != SECRET_NONE
