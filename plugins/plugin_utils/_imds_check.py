# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""The one check that IMDS answers, for imds.azure.route: ``metadata_info`` reading
``instance/compute/vmId`` through ``_imds_action.run_imds_module``, so the check has the facts
modules' client policy (retries of 410, 429 and 5xx with Retry-After, pacing, api-version
negotiation, never a proxy) on Linux and on Windows alike, instead of a policy of its own. On a
Windows host the client runs on the controller and each attempt is one ``win_imds_attempt`` run
on the host."""

from __future__ import annotations

from ansible_collections.imds.azure.plugins.plugin_utils._imds_action import run_imds_module

CHECK_PATH = "instance/compute/vmId"
# One slow attempt must not use up the whole budget: attempts get at most this long each.
MAX_ATTEMPT_SECONDS = 5.0


def check_arguments(timeout: float) -> dict:
    return {"path": CHECK_PATH, "format": "text", "timeout": min(float(timeout), MAX_ATTEMPT_SECONDS),
            "max_retry_time": float(timeout)}


def check_imds(action, task_vars: dict, timeout: float) -> tuple:
    """(answered, detail) of ``metadata_info`` run for the action's host within ``timeout`` seconds."""
    result = run_imds_module(action, "imds.azure.metadata_info", check_arguments(timeout), task_vars)
    if result.get("failed"):
        return False, result.get("msg", "no message")
    return True, "IMDS answered (vmId %s)" % result.get("text", "")
