# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of imds.azure.identity_token: run the module, then hide its result from every output."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.imds.azure.plugins.plugin_utils._secret_results import hide_if_secret


class ActionModule(ActionBase):
    """The token reaches ``register`` only; callbacks see a censored result."""

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect
        result.update(self._execute_module(module_name="imds.azure.identity_token", module_args=self._task.args,
                                           task_vars=task_vars))
        return hide_if_secret(result, secret=True)
