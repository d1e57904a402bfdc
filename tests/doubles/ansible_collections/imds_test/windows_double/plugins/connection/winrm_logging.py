# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""TEST DOUBLE: the local connection, printing each command's output as ansible.builtin.winrm does.

ansible-core's winrm connection prints every command's raw stdout and stderr at -vvvvv
(``WINRM RESULT <Response code ..., out ..., err ...>``, and ``WINRM STDOUT``/``WINRM STDERR`` at
-vvvvvv) unless the play context says no_log. A module's raw output is its whole result. This
connection does exactly that printing, with the same no_log rule (source: ansible-core 2.19.14
``lib/ansible/plugins/connection/winrm.py``, ``_winrm_exec``),
so the tests can show what a WinRM user at -vvvvv would see.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: winrm_logging
short_description: TEST DOUBLE - local connection that prints command output like winrm at -vvvvv
description:
  - Runs commands locally like ansible.builtin.local.
  - Prints each command's stdout and stderr at verbosity 5, censored when the play context has no_log, as
    ansible.builtin.winrm does.
  - Only for the imds.azure tests, which have no Windows machine.
"""

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.connection.local import Connection as LocalConnection
from ansible.utils.display import Display

display = Display()


class Connection(LocalConnection):
    transport = "imds_test.windows_double.winrm_logging"
    # ansible-core 2.19.14 winrm.py ``_winrm_exec``: the output is censored when the play context says no_log.
    honours_no_log = True

    def exec_command(self, cmd, in_data=None, sudoable=True):
        rc, stdout, stderr = super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        log_stdout, log_stderr = to_text(stdout), to_text(stderr)
        if self.honours_no_log and self._play_context.no_log:
            log_stdout = log_stderr = "<censored due to no log>"
        display.vvvvv("WINRM RESULT <Response code %d, out %r, err %r>" % (rc, log_stdout, log_stderr))
        display.vvvvvv("WINRM STDOUT %s" % log_stdout)
        display.vvvvvv("WINRM STDERR %s" % log_stderr)
        return rc, stdout, stderr
