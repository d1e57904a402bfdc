# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""TEST DOUBLE: a POSIX shell that reports the PowerShell shell family.

A host with ``ansible_connection: local`` and
``ansible_shell_type: imds_test.windows_double.powershell_family`` runs its commands with
/bin/sh, so the Python test doubles of host-side modules can run here, while every plugin
that asks the shell family (``SHELL_FAMILY``) sees a PowerShell host, as over WinRM or PSRP.
ansible-core itself decides Windows handling by ``_IS_WINDOWS``, which stays False.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: powershell_family
short_description: TEST DOUBLE - POSIX shell that reports the PowerShell family
description:
  - Runs commands with /bin/sh like ansible.builtin.sh, but its C(SHELL_FAMILY) is C(powershell).
  - Only for the imds.azure tests, which have no Windows machine.
extends_documentation_fragment:
  - shell_common
"""

from ansible.plugins.shell.sh import ShellModule as PosixShellModule


class ShellModule(PosixShellModule):
    SHELL_FAMILY = "powershell"
