# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This is the documentation of an action plugin (plugins/action/gather_facts.py); there is no module code.

DOCUMENTATION = r"""
---
module: gather_facts
short_description: Gather facts with the configured facts modules, imds.azure ones included on Windows hosts
version_added: 0.2.0
description:
  - The same as M(ansible.builtin.gather_facts), which it extends, with one difference on Windows hosts.
  - ansible-core runs every module of C(ansible_facts_modules) (R(FACTS_MODULES,FACTS_MODULES)) by itself, without
    the module's action plugin. M(imds.azure.metadata_facts) needs its action plugin on Windows hosts, which have no
    Python; this action runs it there the way its action plugin does (the IMDS client on the controller, each HTTP
    attempt on the host with M(imds.azure.win_imds_attempt)).
  - On POSIX hosts nothing differs from M(ansible.builtin.gather_facts).
  - "To make it a play's own fact gathering, add C(collections: [imds.azure]) to the play: the implicit
    fact-gathering task is called C(gather_facts) and is then found in this collection first."
options:
  parallel:
    description:
      - As for M(ansible.builtin.gather_facts).
      - On Windows hosts, when C(ansible_facts_modules) holds an imds.azure facts module, the modules run one after
        the other whatever this says, because those run on the controller and cannot be started as jobs on the host.
    type: bool
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.facts
  - action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
    details: As M(ansible.builtin.gather_facts), use O(parallel) instead.
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: It only reads, so it always runs.
  diff_mode:
    support: none
  facts:
    support: full
  platform:
    platforms: [posix, windows]
notes:
  - Without this action, a play's fact gathering with C(ansible_facts_modules) that lists M(imds.azure.metadata_facts)
    works on POSIX hosts but fails on Windows hosts, where ansible-core would try to start Python.
  - Fact gathering on Linux and Windows hosts alike is described in
    R(the Windows guide,ansible_collections.imds.azure.docsite.guide_windows).
seealso:
  - module: ansible.builtin.gather_facts
  - module: imds.azure.metadata_facts
author:
  - imds.azure contributors (@imds-azure)
"""

EXAMPLES = r"""
# group_vars/all.yml (Linux and Windows hosts):
#   ansible_facts_modules: [ansible.builtin.setup, imds.azure.metadata_facts]
# group_vars/windows.yml (if ansible.windows.setup is wanted there):
#   ansible_facts_modules: [ansible.windows.setup, imds.azure.metadata_facts]

- name: A play that gathers facts with the configured facts modules, azure_imds on Windows hosts too
  hosts: azure_vms
  gather_facts: false
  tasks:
    - name: Gather facts (ansible_facts_modules), imds.azure facts modules run the Windows way on Windows hosts
      imds.azure.gather_facts:

    - name: Where does each VM run?
      ansible.builtin.debug:
        msg: "{{ ansible_facts.azure_imds.compute.location }}"
"""

RETURN = r"""
# The facts of the configured facts modules, for example azure_imds from imds.azure.metadata_facts.
"""
