# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""The one decision whether an imds.azure module's answer holds a secret (identity tokens, user data).

Everything that treats a secret answer differently asks ``answer_is_secret``: the action plugins, which
then have the host seal the answer to the task's key (``_imds_action.sealed_args``), hide the attempts
on Windows hosts and hide the result from every output (``_imds_action.hide_if_secret``). Which IMDS
paths are user data or hold a token is data of the path table (``module_utils/_path_rules``), read here.
"""

from __future__ import annotations

import typing as t

from ansible.module_utils.parsing.convert_bool import boolean


def answer_is_secret(module_name: str, args: dict) -> bool:
    """Would the module ``module_name`` (FQCN) with these (templated) options return a secret?"""
    decide = SECRET_ANSWERS.get(module_name)
    return bool(decide and decide(args))


def _asks_user_data(args: dict) -> bool:
    return boolean(args.get("include_user_data", False), strict=False)


def _metadata_info_answer(args: dict) -> bool:
    # The path table is needed for this module's tasks only: the other actions do not load it.
    # pylint: disable=import-outside-toplevel
    from ansible_collections.imds.azure.plugins.module_utils._client import metadata_path
    from ansible_collections.imds.azure.plugins.module_utils._errors import ImdsRequestError
    from ansible_collections.imds.azure.plugins.module_utils._path_rules import (
        SECRET_NONE,
        SECRET_USER_DATA,
        rule_for,
        segments_of,
    )

    path = args.get("path")
    if not isinstance(path, str):
        return False
    try:
        rule = rule_for(segments_of(metadata_path(path)))
    except ImdsRequestError:
        return False  # the module refuses the path before sending anything
    if rule.secret == SECRET_USER_DATA:
        return True
    if rule.contains_user_data and _asks_user_data(args):
        return True
    return rule.secret != SECRET_NONE


# FQCN -> whether its answer for these options is secret. A module not listed never answers a secret.
SECRET_ANSWERS: t.Dict[str, t.Callable[[dict], bool]] = {
    "imds.azure.identity_token": lambda args: True,
    "imds.azure.metadata_facts": _asks_user_data,
    "imds.azure.metadata_info": _metadata_info_answer,
}
