# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""TEST DOUBLE: the local connection, printing each command's raw output as ansible.builtin.winrm did before its
no_log fix, whatever the play context says.

Source: ansible-core 2.19.14 ``lib/ansible/plugins/connection/winrm.py``, ``_winrm_exec``: ``WINRM RESULT <Response
code .., out .., err ..>`` at -vvvvv and ``WINRM STDOUT``/``WINRM STDERR`` at -vvvvvv. The censoring under
``self._play_context.no_log`` in that function is the 2026 fix (issue 17); the patch releases before it print the
raw output. This double prints it always, so a test over it shows what only sealing protects.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: winrm_unfixed
short_description: TEST DOUBLE - local connection that prints command output like winrm before its no_log fix
description:
  - Runs commands locally like ansible.builtin.local.
  - Prints each command's raw stdout and stderr at verbosity 5 and 6, ignoring no_log, as ansible.builtin.winrm did
    on patch releases before its no_log fix.
  - Only for the imds.azure tests, which have no Windows machine.
"""

from ansible_collections.imds_test.windows_double.plugins.connection.winrm_logging import (
    Connection as WinrmLogging,
)


class Connection(WinrmLogging):
    transport = "imds_test.windows_double.winrm_unfixed"
    honours_no_log = False
