# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""The options of imds.azure.route, which its action plugin validates on the controller.

The route is read, planned and changed by the action plugin (plugins/action/route.py); the module file
holds the documentation and a main() that only validates, so that validate-modules keeps the two equal.
"""


def argument_spec() -> dict:
    """A fresh argument spec of imds.azure.route."""
    return dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        metric=dict(type="int", default=1),
        interface=dict(type="str"),
        gateway=dict(type="str"),
        persistent=dict(type="bool", default=True),
        verify=dict(type="bool", default=True),
        verify_timeout=dict(type="float", default=10),
        scope=dict(type="str", choices=["any", "failover_cluster"], default="any"),
    )
