# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of imds.azure.metadata_info: the module itself on POSIX hosts; on Windows hosts the
module's logic on the controller, with each HTTP attempt made on the host. Either way, secret answers
(identity tokens, user data) are hidden from output."""

from __future__ import annotations

from ansible_collections.imds.azure.plugins.plugin_utils._imds_action import ImdsModuleAction


class ActionModule(ImdsModuleAction):
    MODULE_NAME = "imds.azure.metadata_info"
