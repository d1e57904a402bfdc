# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Hide secret IMDS answers from every output, yet keep them in the registered variable.

A module cannot do this itself: ansible-core drops ``_ansible_*`` keys from what a
module returns. An action plugin can: ``_ansible_no_log`` on its result is what the
``no_log`` keyword sets, so ansible-core censors the result before any callback
(default output at any verbosity, ``-vvvv`` invocation dumps, log_path, json and
tree callbacks) sees it, while ``register`` still receives the real values.
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

NO_LOG_KEY = "_ansible_no_log"


def hide_if_secret(result: dict, secret: bool) -> dict:
    """Mark a successful result that holds a secret as no_log.

    Failures stay visible: their messages never quote a secret (the client redacts
    answers of private paths), and a hidden error would leave the user guessing.
    """
    if secret and not result.get("failed"):
        result[NO_LOG_KEY] = True
    return result


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
