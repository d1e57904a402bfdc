# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of imds.azure.identity_token: run the module, then hide its result from every output."""

from __future__ import annotations

from ansible_collections.imds.azure.plugins.plugin_utils._secret_results import SecretHidingAction


class ActionModule(SecretHidingAction):
    """The token reaches ``register`` only; callbacks see a censored result."""

    MODULE = "imds.azure.identity_token"

    def is_secret(self, args: dict) -> bool:
        return True
