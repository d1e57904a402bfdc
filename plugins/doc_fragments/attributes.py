# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Attributes of the IMDS modules, which run on POSIX and Windows hosts through their action plugin.

    One source for what every such module shares; a module adds its own C(check_mode) details (its
    attribute keys override these) and anything only it has.
    """

    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
    details: The module only reads, so check mode does the same.
  diff_mode:
    support: none
  platform:
    platforms: [posix, windows]
    details:
      - POSIX hosts run the module with their Python.
      - Windows hosts (WinRM, PSRP, or SSH with the PowerShell shell; Windows Server 2016 to 2025 with Windows
        PowerShell 5.1) need no Python. The action plugin runs the same client on the controller and makes each
        HTTP attempt on the host with M(imds.azure.win_imds_attempt), so options, results, retries and error
        messages are the same as on Linux.
      - On Windows hosts, E(AZURE_IMDS_ENDPOINT) is taken from the task's C(environment), not from the host's
        system environment.
  action:
    support: full
    details: The action plugin chooses between the POSIX and the Windows way; POSIX hosts pay nothing for it.
  async:
    support: partial
    details: POSIX hosts only. On Windows each attempt is a module run of its own, so C(async) is refused.
  bypass_host_loop:
    support: none
"""
