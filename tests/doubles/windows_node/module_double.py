# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""TEST DOUBLE of the Windows modules a failover-cluster node runs for imds.azure.route and the README's
`route print` example: ansible.windows.win_powershell, ansible.windows.win_command and
imds.azure.win_imds_attempt (tests/doubles/windows_node.py does the work).

Installed under each of those names in test-only copies of their collections; it learns which one it is
from the name Ansible runs it under. The node's state lives in the file named by IMDS_TEST_WINDOWS_NODE.
"""

from __future__ import annotations

import os
import sys

# The import makes Ansible ship this file as a new-style module (AnsiballZ).
from ansible.module_utils.basic import _load_params  # noqa: F401  pylint: disable=unused-import


def module_name() -> str:
    """ansible_collections.NS.COLL.plugins.modules.NAME -> NS.COLL.NAME"""
    parts = __spec__.name.split(".")  # pylint: disable=undefined-variable
    return ".".join(parts[1:3] + parts[-1:])


if __name__ == "__main__":
    sys.path.insert(0, os.environ["IMDS_TEST_TESTS_DIR"])
    from doubles.windows_node import main  # pylint: disable=import-error

    main(module_name())
