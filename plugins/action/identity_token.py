# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of imds.azure.identity_token: get the token (the module on POSIX hosts; on Windows hosts the
module's logic on the controller, each attempt made on the host), then hide the result from every output."""

from __future__ import annotations

from ansible_collections.imds.azure.plugins.plugin_utils._imds_action import ImdsModuleAction


class ActionModule(ImdsModuleAction):
    """The token reaches ``register`` only; callbacks see a censored result (``_secret_results``)."""

    MODULE_NAME = "imds.azure.identity_token"
