# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of imds.azure.gather_facts: ansible.builtin.gather_facts, except that on Windows hosts
the facts modules of imds.azure run the way their own action plugin runs them.

ansible-core's gather_facts runs every module of ``ansible_facts_modules`` with ``_execute_module``,
never through the module's action plugin. On POSIX hosts that is fine (imds.azure.metadata_facts is
a Python module). On Windows hosts it would try to start Python there; this plugin instead runs the
module's client on the controller with each attempt on the host, as a task of the module does.
"""

from __future__ import annotations

from ansible import constants as C
from ansible.plugins.action.gather_facts import ActionModule as CoreGatherFacts

from ansible_collections.imds.azure.plugins.plugin_utils._imds_action import (
    CONTROLLER_SIDE,
    is_windows_host,
    run_imds_module,
)


class ActionModule(CoreGatherFacts):

    def run(self, tmp=None, task_vars=None):
        task_vars = dict(task_vars or {})
        if is_windows_host(self._connection) and self._controller_side_modules(task_vars):
            # ansible-core would start each module as an async job on the host; these run on the
            # controller, so the modules are gathered one after the other.
            task_vars["ansible_facts_parallel"] = False
            self._task.args.pop("parallel", None)
        return super().run(tmp, task_vars)

    def _execute_module(self, module_name=None, module_args=None, task_vars=None, wrap_async=False,  # pylint: disable=arguments-differ
                        **kwargs):
        if module_name and not wrap_async and is_windows_host(self._connection):
            fqcn = self._resolve(module_name)
            if fqcn in CONTROLLER_SIDE:
                return run_imds_module(self, fqcn, dict(module_args or {}), task_vars or {})
        return super()._execute_module(module_name=module_name, module_args=module_args, task_vars=task_vars,
                                       wrap_async=wrap_async, **kwargs)

    def _controller_side_modules(self, task_vars: dict) -> list:
        configured = C.config.get_config_value("FACTS_MODULES", variables=task_vars)
        return [name for name in configured if self._resolve(name) in CONTROLLER_SIDE]

    def _resolve(self, module_name: str) -> str:
        found = self._shared_loader_obj.module_loader.find_plugin_with_context(
            module_name, collection_list=self._task.collections)
        return found.resolved_fqcn if found.resolved else module_name
