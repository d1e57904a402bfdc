# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of imds.azure.route: read the route table on the host, decide on the controller,
apply the few commands the decision needs, then prove that IMDS answers."""

from __future__ import annotations

import json

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.imds.azure.plugins.plugin_utils._route_commands import (
    LINUX_READ,
    WINDOWS_ADD_SCRIPT,
    WINDOWS_READ_SCRIPT,
    WINDOWS_REMOVE_SCRIPT,
    WINDOWS_VERIFY_URL,
    RouteCommandError,
    describe,
    linux_apply_commands,
    networkd_dropin_content,
    networkd_dropin_path,
    networkd_network_file,
    nmcli_connection_for,
    nmcli_route_value,
    windows_add_parameters,
    windows_remove_parameters,
    windows_routes,
)
from ansible_collections.imds.azure.plugins.plugin_utils._routes import (
    IMDS_ADDRESS,
    IMDS_DESTINATION,
    RouteTableError,
    is_imds_route,
    parse_get_netroute,
    parse_ip_json,
    plan_imds_route,
)

ARGUMENT_SPEC = {
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "metric": {"type": "int", "default": 1},
    "persistent": {"type": "bool", "default": True},
    "verify": {"type": "bool", "default": True},
    "verify_timeout": {"type": "float", "default": 10.0},
    "interface": {"type": "str"},
    "gateway": {"type": "str"},
}


class HostCommandError(Exception):
    """A command on the managed host failed."""


class _Host:
    """What differs between Linux and Windows hosts; ``action`` runs modules on the host."""

    def __init__(self, action: "ActionModule", task_vars: dict) -> None:
        self.action = action
        self.task_vars = task_vars
        self.ran = []  # what was run, for the result

    def module(self, name: str, args: dict, read_only: bool = False) -> dict:
        return self.action.run_module(name, args, self.task_vars, read_only=read_only)


class LinuxHost(_Host):
    platform = "linux"

    def command(self, argv: list, read_only: bool = False, stdin: str | None = None) -> dict:
        args = {"argv": argv}
        if stdin is not None:
            args["stdin"] = stdin
        result = self.module("ansible.builtin.command", args, read_only=read_only)
        if not read_only:
            self.ran.append(" ".join(argv))
        if result.get("failed") or result.get("rc", 0) != 0:
            detail = (result.get("stderr") or result.get("msg") or "").strip()
            raise HostCommandError("`%s` failed (rc=%s): %s" % (" ".join(argv), result.get("rc"), detail))
        return result

    def read(self) -> tuple:
        output = self.command(LINUX_READ, read_only=True)["stdout"]
        try:
            data = json.loads(output or "[]")
        except ValueError as exc:
            raise RouteTableError("`%s` did not print JSON (%s); iproute2 4.13 or newer is needed"
                                  % (" ".join(LINUX_READ), exc))
        return parse_ip_json(data), data

    def planned(self, plan: dict, raw: list) -> list:
        return [" ".join(argv) for argv in linux_apply_commands(plan)]

    def apply(self, plan: dict, raw: list, persistent: bool) -> None:
        for argv in linux_apply_commands(plan):
            self.command(argv)

    def persist(self, plan: dict, persistent: bool) -> dict:
        """Make the route survive a reboot where a network manager is found; else say it will not."""
        if not persistent:
            return {"method": "none", "note": "persistent is false: the route lasts until the next reboot"}
        device = plan["interface"] or (plan["remove"][0]["interface"] if plan["remove"] else "")
        nmcli = self.try_command(["nmcli", "-t", "-f", "NAME,DEVICE", "connection", "show", "--active"])
        connection = nmcli_connection_for(device, nmcli) if nmcli is not None else None
        if connection:
            return self._persist_networkmanager(plan, connection)
        status = self.try_command(["networkctl", "status", "--no-pager", device])
        network_file = networkd_network_file(status) if status is not None else None
        if network_file:
            return self._persist_networkd(plan, network_file)
        return {"method": "none",
                "note": "no NetworkManager connection or systemd-networkd .network file manages %s: the route "
                        "lasts until the next reboot; add it to the host's network configuration" % device}

    def try_command(self, argv: list) -> str | None:
        result = self.module("ansible.builtin.command", {"argv": argv}, read_only=True)
        return result.get("stdout") if not result.get("failed") and result.get("rc") == 0 else None

    def _persist_networkmanager(self, plan: dict, connection: str) -> dict:
        operation = "+ipv4.routes" if plan["state"] == "present" else "-ipv4.routes"
        for route in plan["remove"] if plan["state"] == "absent" else [plan]:
            self.command(["nmcli", "connection", "modify", connection, operation, nmcli_route_value(route)])
        return {"method": "networkmanager", "connection": connection,
                "note": "ipv4.routes of connection %s; applies from the next activation" % connection}

    def _persist_networkd(self, plan: dict, network_file: str) -> dict:
        path = networkd_dropin_path(network_file)
        if plan["state"] == "present":
            self.command(["install", "-D", "-m", "0644", "/dev/stdin", path], stdin=networkd_dropin_content(plan))
        else:
            self.command(["rm", "-f", path])
        return {"method": "systemd-networkd", "path": path, "note": "drop-in for %s" % network_file}

    def verify(self, timeout: float) -> tuple:
        result = self.module("imds.azure.metadata_info", {
            "path": "instance/compute/vmId", "format": "text", "timeout": timeout, "max_retry_time": timeout})
        if result.get("failed"):
            return False, result.get("msg", "no message")
        return True, "IMDS answered (vmId %s)" % result.get("text", "")


class WindowsHost(_Host):
    platform = "windows"

    def powershell(self, script: str, parameters: dict | None = None, read_only: bool = False,
                   label: str = "") -> dict:
        args = {"script": script}
        if parameters:
            args["parameters"] = parameters
        result = self.module("ansible.windows.win_powershell", args, read_only=read_only)
        if not read_only:
            self.ran.append("%s %s" % (label, json.dumps(parameters or {}, sort_keys=True)))
        if result.get("failed"):
            errors = "; ".join(str(e.get("exception", {}).get("message") or e) if isinstance(e, dict) else str(e)
                               for e in result.get("error") or []) or result.get("msg", "")
            raise HostCommandError("%s failed: %s" % (label or "PowerShell", errors))
        return result

    def read(self) -> tuple:
        result = self.powershell(WINDOWS_READ_SCRIPT, read_only=True, label="Get-NetRoute")
        raw = windows_routes(result.get("result") or {})
        return parse_get_netroute(raw), raw

    def planned(self, plan: dict, raw: list) -> list:
        lines = ["Remove-NetRoute %s" % json.dumps(windows_remove_parameters(r, raw), sort_keys=True)
                 for r in plan["remove"]]
        if plan["state"] == "present":
            lines.append("route.exe add %s" % json.dumps(windows_add_parameters(plan, raw, True), sort_keys=True))
        return lines

    def apply(self, plan: dict, raw: list, persistent: bool) -> None:
        for route in plan["remove"]:
            self.powershell(WINDOWS_REMOVE_SCRIPT, windows_remove_parameters(route, raw), label="Remove-NetRoute")
        if plan["state"] == "present":
            self.powershell(WINDOWS_ADD_SCRIPT, windows_add_parameters(plan, raw, persistent), label="route.exe add")

    def persist(self, plan: dict, persistent: bool) -> dict:
        if persistent:
            return {"method": "route.exe -p", "note": "stored in the persistent route store"}
        return {"method": "none", "note": "persistent is false: the route lasts until the next reboot"}

    def verify(self, timeout: float) -> tuple:
        result = self.module("ansible.windows.win_uri", {
            "url": WINDOWS_VERIFY_URL, "headers": {"Metadata": "true"}, "use_proxy": False,
            "follow_redirects": "none", "timeout": int(max(1, timeout)), "return_content": True})
        if result.get("failed") or result.get("status_code") != 200:
            return False, result.get("msg") or "status %s" % result.get("status_code")
        return True, "IMDS answered (vmId %s)" % (result.get("content") or "").strip()


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
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        windows = getattr(self._connection._shell, "SHELL_FAMILY", "") == "powershell"  # pylint: disable=protected-access
        host = (WindowsHost if windows else LinuxHost)(self, task_vars or {})
        result.update(platform=host.platform, changed=False)

        try:
            routes, raw = host.read()
            plan = plan_imds_route(routes, metric=args["metric"], interface=args["interface"],
                                   gateway=args["gateway"], state=args["state"])
            result.update(plan=plan, changed=plan["needed"], commands=host.planned(plan, raw) if plan["needed"] else [])
        except (HostCommandError, RouteTableError, RouteCommandError) as exc:
            raise AnsibleActionFail("Cannot plan the IMDS route: %s" % exc) from exc
        if self._task.diff:
            result["diff"] = _diff(routes, plan)
        if not plan["needed"] or self._task.check_mode:
            return result

        tried = "interface %s, gateway %s" % (plan["interface"], plan["gateway"] or "on-link")
        try:
            host.apply(plan, raw, args["persistent"])
            after, _raw_after = host.read()
            if plan_imds_route(after, metric=args["metric"], interface=plan["interface"],
                               gateway=args["gateway"], state=args["state"])["needed"]:
                raise HostCommandError("the routes are still not right after the change: %s"
                                       % "; ".join(describe(r) for r in after if is_imds_route(r)))
            result["persistence"] = host.persist(plan, args["persistent"])
        except (HostCommandError, RouteTableError, RouteCommandError) as exc:
            result.update(failed=True, ran=host.ran,
                          msg="Could not fix the IMDS route (tried %s): %s" % (tried, exc))
            return result
        result["ran"] = host.ran
        if args["verify"] and args["state"] == "present":
            answered, detail = host.verify(args["verify_timeout"])
            result["verified"] = answered
            if not answered:
                result.update(failed=True, msg="The route for %s is in place (%s), but IMDS does not answer through "
                                               "it: %s" % (IMDS_DESTINATION, tried, detail))
        return result


def _diff(routes: list, plan: dict) -> dict:
    before = [describe(r) for r in routes if is_imds_route(r)]
    removed = [describe(r) for r in plan["remove"]]
    after = [line for line in before if line not in removed]
    if plan["state"] == "present" and plan["needed"]:
        after.append(describe({"destination": IMDS_ADDRESS, "prefix": 32, "gateway": plan["gateway"],
                               "interface": plan["interface"], "metric": plan["metric"]}))
    return {"before": "".join(line + "\n" for line in before), "after": "".join(line + "\n" for line in after),
            "before_header": "IMDS routes before", "after_header": "IMDS routes after"}
