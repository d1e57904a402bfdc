# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of imds.azure.route: read the route stores on the host, decide on the controller,
apply the few changes the decision needs, read again to prove the stores converged, then check
once, with the facts modules' client policy, that IMDS answers."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.imds.azure.plugins.module_utils._route_options import argument_spec
from ansible_collections.imds.azure.plugins.plugin_utils._imds_check import check_imds
from ansible_collections.imds.azure.plugins.plugin_utils._route_backend import Host, HostError, RouteCommandError
from ansible_collections.imds.azure.plugins.plugin_utils._route_linux import LinuxIpBackend
from ansible_collections.imds.azure.plugins.plugin_utils._route_networkd import NetworkdBackend
from ansible_collections.imds.azure.plugins.plugin_utils._route_networkmanager import NetworkManagerBackend
from ansible_collections.imds.azure.plugins.plugin_utils._route_windows import WindowsBackend, script_text
from ansible_collections.imds.azure.plugins.plugin_utils._imds_action import is_windows_host
from ansible_collections.imds.azure.plugins.plugin_utils._route_plan import (
    describe_route,
    plan_imds_route,
    planned_route,
    primary_default,
)
from ansible_collections.imds.azure.plugins.plugin_utils._route_table import (
    IMDS_DESTINATION,
    STORES,
    RouteTableError,
    is_imds_route,
)

PLAN_ERRORS = (HostError, RouteTableError, RouteCommandError)


class ActionHost(Host):
    """Backends' access to the host: modules run through this action."""

    def __init__(self, action: "ActionModule", task_vars: dict) -> None:
        self.action = action
        self.task_vars = task_vars

    def command(self, argv: list, read_only: bool = False, stdin: str | None = None) -> dict:
        args = {"argv": argv}
        if stdin is not None:
            args["stdin"] = stdin
        result = self.action.run_module("ansible.builtin.command", args, self.task_vars, read_only=read_only)
        if result.get("failed") or result.get("rc", 0) != 0:
            detail = (result.get("stderr") or result.get("msg") or "").strip()
            raise HostError("`%s` failed (rc=%s): %s" % (" ".join(argv), result.get("rc"), detail))
        return result

    def try_command(self, argv: list) -> str | None:
        result = self.action.run_module("ansible.builtin.command", {"argv": argv}, self.task_vars, read_only=True)
        return result.get("stdout") if not result.get("failed") and result.get("rc") == 0 else None

    def powershell(self, script: str, parameters: dict | None = None, read_only: bool = False) -> dict:
        args = {"script": script_text(script)}
        if parameters:
            args["parameters"] = parameters
        result = self.action.run_module("ansible.windows.win_powershell", args, self.task_vars, read_only=read_only)
        if result.get("failed"):
            errors = "; ".join(str(e.get("exception", {}).get("message") or e) if isinstance(e, dict) else str(e)
                               for e in result.get("error") or []) or result.get("msg", "")
            raise HostError("%s failed: %s" % (script, errors))
        return result


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True
    _supports_check_mode = True
    _supports_async = False

    def run_module(self, name: str, args: dict, task_vars: dict, read_only: bool = False) -> dict:
        """Run a module on the host. Reads change nothing, so they run in check mode as well."""
        original = self._task.check_mode
        if read_only:
            self._task.check_mode = False
        try:
            return self._execute_module(module_name=name, module_args=args, task_vars=task_vars)
        finally:
            self._task.check_mode = original

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=argument_spec())
        host = ActionHost(self, task_vars or {})
        windows = is_windows_host(self._connection)
        result.update(platform="windows" if windows else "linux", changed=False)

        try:
            runtime = WindowsBackend(host) if windows else LinuxIpBackend(host)
            routes = runtime.read()
            membership = _membership(runtime, args["scope"]) if windows else None
            if membership is not None:
                result["cluster_membership"] = membership
            skip = _out_of_scope(args["scope"], membership)
            if skip:
                result.update(skipped=True, skip_reason=skip, msg=skip)
                return result
            interface = args["interface"]
            if windows and interface is not None:
                interface = runtime.interfaces.resolve(interface)
            backends = [runtime] + self._persistence(host, routes, interface, args, windows)
            for backend in backends[1:]:
                routes += backend.read()
            managed = args["persistent"] and any("persistent" in b.stores for b in backends)
            plan = plan_imds_route(routes, metric=args["metric"], interface=interface, gateway=args["gateway"],
                                   state=args["state"], persistent=managed)
            steps = [step for backend in backends for step in backend.steps(plan)]
        except PLAN_ERRORS as exc:
            raise AnsibleActionFail("Cannot plan the IMDS route: %s" % exc) from exc
        result.update(plan=plan, changed=plan["needed"], commands=[step.text for step in steps])
        if self._task.diff:
            result["diff"] = _diff(routes, plan)
        if self._task.check_mode:
            return result
        if plan["needed"]:
            if not self._apply(result, backends, steps, routes, plan, args):
                return result
        if args["verify"] and args["state"] == "present":
            self._check(result, task_vars or {}, plan, args["verify_timeout"])
        return result

    def _persistence(self, host: Host, routes: list, interface, args: dict, windows: bool) -> list:
        """The Linux backend that keeps routes across reboots for the planned device, if any manages it."""
        if windows or not args["persistent"]:
            return []
        default = primary_default(routes)
        device = interface or (default["interface"] if default else None)
        if not device:
            return []
        found = NetworkManagerBackend.detect(host, device) or NetworkdBackend.detect(host, device)
        return [found] if found else []

    def _apply(self, result: dict, backends: list, steps: list, before: list, plan: dict, args: dict) -> bool:
        """Run the steps, read every store again and make sure nothing is left to do."""
        tried = "interface %s, gateway %s" % (plan["interface"], plan["gateway"] or "on-link")
        ran = []
        try:
            for step in steps:
                step.run()
                ran.append(step.text)
            after = [route for backend in backends for route in backend.read()]
            again = plan_imds_route(after, metric=args["metric"], interface=plan["interface"],
                                    gateway=args["gateway"], state=args["state"], persistent="persistent" in plan["stores"])
            if again["needed"]:
                raise HostError("the routes are still not right after the change: %s" % again["reason"])
        except PLAN_ERRORS as exc:
            result.update(failed=True, ran=ran, msg="Could not fix the IMDS route (tried %s): %s" % (tried, exc))
            return False
        result["ran"] = ran
        result["changed_stores"] = [s for s in STORES if _imds_set(before, s) != _imds_set(after, s)]
        result["changed"] = bool(result["changed_stores"])
        result["persistence"] = _persistence_result(backends, plan, args["persistent"])
        return True

    def _check(self, result: dict, task_vars: dict, plan: dict, timeout: float) -> None:
        """The one check that IMDS answers, through the facts modules' client and its retry policy."""
        answered, detail = check_imds(self, task_vars, timeout)
        result["verified"] = answered
        if not answered:
            result.update(failed=True, msg="The route for %s is in place (interface %s, gateway %s), but IMDS does not "
                                           "answer through it: %s" % (IMDS_DESTINATION, plan["interface"],
                                                                      plan["gateway"] or "on-link", detail))


def _out_of_scope(scope: str, membership) -> str:
    """Why this host is left alone, or "" to go on; ``membership`` is ``_membership``'s answer (None off Windows)."""
    if scope == "any":
        return ""
    if membership is None:
        return "not a Windows failover-cluster node (scope is failover_cluster): left alone"
    if membership["member"]:
        return ""
    return ("not a failover-cluster member (%s): left alone; scope=any changes it anyway"
            % membership["reason"])


def _membership(windows_backend, scope: str) -> dict:
    """The membership decision, reported on every Windows run; it only fails the task where scope needs it."""
    try:
        member, why = windows_backend.is_cluster_member()
    except RouteTableError as exc:
        if scope == "failover_cluster":
            raise
        return {"member": None, "reason": str(exc)}
    return {"member": member, "reason": why}


def _imds_set(routes: list, store: str) -> list:
    return sorted(describe_route(r) for r in routes if is_imds_route(r) and (r.get("store") or "active") == store)


def _persistence_result(backends: list, plan: dict, persistent: bool) -> dict:
    keeper = [b for b in backends if "persistent" in b.stores]
    if keeper and "persistent" in plan["stores"]:
        return {"method": keeper[0].name, "note": keeper[0].note(plan)}
    if not persistent:
        return {"method": "none", "note": "persistent is false: the route lasts until the next reboot"}
    return {"method": "none",
            "note": "no NetworkManager connection or systemd-networkd .network file manages %s: the route lasts "
                    "until the next reboot; add it to the host's network configuration" % plan["interface"]}


def _diff(routes: list, plan: dict) -> dict:
    before = [describe_route(r) for r in routes if is_imds_route(r)]
    removed = [describe_route(r) for r in plan["remove"]]
    after = [line for line in before if line not in removed]
    after += [describe_route(planned_route(plan, store)) for store in plan["add"]]
    return {"before": "".join(line + "\n" for line in before), "after": "".join(line + "\n" for line in after),
            "before_header": "IMDS routes before", "after_header": "IMDS routes after"}
