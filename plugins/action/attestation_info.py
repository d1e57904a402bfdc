# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of imds.azure.attestation_info: nonce made and document verified on the controller,
document fetched on the managed node (POSIX: the module, which needs nothing but Python; Windows: the
module's logic on the controller with each attempt made on the host by imds.azure.win_imds_attempt)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.imds.azure.plugins.plugin_utils._attestation_loader import load_verifier_module
from ansible_collections.imds.azure.plugins.plugin_utils._imds_action import run_imds_module


class ActionModule(ActionBase):
    """Fetch on the host, verify here."""

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect
        attestation = load_verifier_module()
        args = dict(self._task.args)
        if not args.get("nonce"):
            args["nonce"] = attestation.make_nonce()
        try:
            verifier = attestation.verifier_from_options(args)
        except attestation.AttestationUsageError as exc:
            raise AnsibleActionFail(str(exc)) from exc
        # The module on POSIX hosts; on Windows hosts its logic here, each attempt made on the host.
        fetched = run_imds_module(self, "imds.azure.attestation_info", args, task_vars or {})
        result.update(fetched)
        if fetched.get("failed"):
            return result
        # The VM's own vmId cannot expose a relay (a compromised VM answers with another VM's document
        # and that VM's vmId); an expected_vm_id from a trusted source can.
        expected = args.get("expected_vm_id")
        vm_id = str(expected) if expected else fetched.get("vm_id")
        try:
            report = verifier.verify(fetched["attested_document"], nonce=args["nonce"], vm_id=vm_id,
                                     valid_at=args.get("valid_at"))
        except attestation.AttestationUsageError as exc:
            raise AnsibleActionFail(str(exc)) from exc
        result.update(report)
        result["vm_id_source"] = "expected_vm_id" if expected else ("reported by the VM" if vm_id else None)
        if not report["verified"] and boolean(args.get("fail_on_invalid", True), strict=False):
            result["failed"] = True
            result["msg"] = "The attested document did not verify: %s." % "; ".join(report["failures"])
            # A failed task prints its whole result: keep the (long, useless to read) signature out of it.
            result.pop("attested_document", None)
        return result
