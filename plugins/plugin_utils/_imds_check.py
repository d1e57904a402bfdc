# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""The one check that IMDS answers, for imds.azure.route after a change: ``metadata_info`` reading
``instance/compute/vmId``, so the check has the facts modules' client policy (retries of 410, 429
and 5xx with Retry-After, pacing, api-version negotiation, never a proxy) instead of a policy of
its own."""

from __future__ import annotations

CHECK_PATH = "instance/compute/vmId"
# One slow attempt must not use up the whole budget: attempts get at most this long each.
MAX_ATTEMPT_SECONDS = 5.0


def check_arguments(timeout: float) -> dict:
    return {"path": CHECK_PATH, "format": "text", "timeout": min(float(timeout), MAX_ATTEMPT_SECONDS),
            "max_retry_time": float(timeout)}


def check_imds(action, task_vars: dict, timeout: float) -> tuple:
    """(answered, detail) of ``metadata_info`` run for the action's host within ``timeout`` seconds."""
    result = action._execute_module(module_name="imds.azure.metadata_info",  # pylint: disable=protected-access
                                    module_args=check_arguments(timeout), task_vars=task_vars)
    if result.get("failed"):
        return False, result.get("msg", "no message")
    return True, "IMDS answered (vmId %s)" % result.get("text", "")
