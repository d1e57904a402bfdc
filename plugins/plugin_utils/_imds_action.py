# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Run an imds.azure IMDS module for an action plugin, on a POSIX or a Windows host.

POSIX hosts run the Python module itself, exactly as without an action plugin. Windows hosts
have no Python: there the module's own logic (its ``ENTRY`` in module_utils, with the one IMDS
client) runs here on the controller, and each HTTP attempt is carried out on the
host by ``imds.azure.win_imds_attempt`` (see ``_windows_transport``).

``run_imds_module`` is the entry point for other action plugins too (the route action's check
after a fix): same options, same result, same retry policy as the task would have.

Only what POSIX hosts need is imported at the top: every task imports its action plugin anew in
its worker process, and the Windows machinery (the modules' code, the client, the HTTP reader) would
cost each Linux task tens of milliseconds.
"""

from __future__ import annotations

import contextlib
import importlib
import typing as t

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.imds.azure.plugins.plugin_utils._secret_results import answer_is_secret

# FQCN -> the module_utils whose ``ENTRY`` (``_module_adapter.ModuleEntry``) runs on the controller for Windows
# hosts: the module's logic itself, never its module file.
CONTROLLER_SIDE = {
    "imds.azure.metadata_facts": "_metadata_facts_logic",
    "imds.azure.metadata_info": "_metadata_info_logic",
    "imds.azure.scheduled_events": "_scheduled_events_logic",
    "imds.azure.attestation_info": "_attestation_info_logic",
    "imds.azure.identity_token": "_identity_token_logic",
}
MODULE_UTILS = "ansible_collections.imds.azure.plugins.module_utils."

NO_LOG_KEY = "_ansible_no_log"

# The internal option through which the action gives the module (or, on Windows, the attempts) the task's
# public key: see ``sealed_args``.
SEAL_OPTION = "_seal_to"


def hide_if_secret(result: dict, secret: bool) -> dict:
    """Mark a successful result that holds a secret (``answer_is_secret``) as no_log.

    A module cannot do this itself: ansible-core drops ``_ansible_*`` keys from what a module
    returns. An action plugin can: ``_ansible_no_log`` on its result is what the ``no_log``
    keyword sets, so ansible-core censors the result before any callback (default output at any
    verbosity, ``-vvvv`` invocation dumps, log_path, json and tree callbacks) sees it, while
    ``register`` still receives the real values. Failures stay visible: their messages never
    quote a secret (the client redacts answers of private paths), and a hidden error would leave
    the user guessing.
    """
    if secret and not result.get("failed"):
        result[NO_LOG_KEY] = True
    return result


# The shell families whose hosts run PowerShell modules (ansible-core's cmd shell is a PowerShell variant).
WINDOWS_SHELL_FAMILIES = frozenset({"powershell", "cmd"})


def is_windows_host(connection) -> bool:
    """True when the task's host runs PowerShell modules (WinRM, PSRP, or SSH with a PowerShell shell)."""
    shell = getattr(connection, "_shell", None)
    return getattr(shell, "SHELL_FAMILY", "") in WINDOWS_SHELL_FAMILIES


def sealed_args(module_args: dict, secret: bool):
    """``(module_args, sealing)``: for a secret answer (``answer_is_secret``), the options with ``_seal_to`` and the task's key pair.

    Connection plugins print what crosses them (ssh's raw stdout at -vvv, paramiko's and winrm's at higher
    verbosity, third-party ones as they like), and some of them ignore ``no_log`` on some patch releases.
    So a secret answer never crosses in clear: the host seals it to a key pair made here for this one
    task, whose private half never leaves the controller (``_sealing``), and only this action opens it.
    """
    if SEAL_OPTION in module_args:
        raise AnsibleActionFail("%s is set by the imds.azure action plugins only; leave it out of the task." % SEAL_OPTION)
    if not secret:
        return dict(module_args), None  # a copy: _execute_module adds its _ansible_* keys to what it is given
    from ansible_collections.imds.azure.plugins.plugin_utils._sealing import SealingKey  # pylint: disable=import-outside-toplevel

    sealing = SealingKey()
    return dict(module_args, **{SEAL_OPTION: sealing.public}), sealing


def opened_result(result: dict, sealing, module_name: str) -> dict:
    """The module's result with its sealed part opened (POSIX hosts); failures come unsealed (no secret in them)."""
    if sealing is None or result.get("failed"):
        return result
    from ansible_collections.imds.azure.plugins.plugin_utils._sealing import UnsealError  # pylint: disable=import-outside-toplevel

    if "sealed" not in result:
        raise AnsibleActionFail("%s returned a secret answer unsealed; is the collection on the controller complete?"
                                % module_name)
    try:
        opened = sealing.open_result(result)
    except UnsealError as exc:
        raise AnsibleActionFail("%s returned a sealed answer this task cannot open: %s." % (module_name, exc))
    module_args = opened.get("invocation", {}).get("module_args", {})
    module_args.pop(SEAL_OPTION, None)  # the public key is no news to the user
    return opened


def run_imds_module(action: ActionBase, module_name: str, module_args: dict, task_vars: dict,
                    secret: bool = False) -> dict:
    """The result of ``module_name`` with ``module_args`` on the host of ``action``'s task.

    ``module_name`` is one of ``CONTROLLER_SIDE``. Failures come back as failed results, as
    from the module. ``secret``: the answers hold a secret (identity tokens, user data), so on
    Windows hosts every attempt seals its answer to the task's key (``sealed_args``) and runs
    with ``no_log`` as well (``_attempts_hidden``, defence in depth).
    """
    if not is_windows_host(action._connection):  # pylint: disable=protected-access
        module_args, sealing = sealed_args(module_args, secret)
        result = action._execute_module(module_name=module_name, module_args=module_args,  # pylint: disable=protected-access
                                        task_vars=task_vars)
        return opened_result(result, sealing, module_name)
    # pylint: disable=import-outside-toplevel
    from ansible_collections.imds.azure.plugins.module_utils._errors import ImdsError
    from ansible_collections.imds.azure.plugins.module_utils._module_adapter import failure_result
    from ansible_collections.imds.azure.plugins.plugin_utils._windows_transport import host_transport

    module_args, sealing = sealed_args(module_args, secret)
    entry = importlib.import_module(MODULE_UTILS + CONTROLLER_SIDE[module_name]).ENTRY
    params = _validated(module_name, entry.argument_spec(), module_args, entry.rules)
    warnings: list[str] = []
    context = {"transport": host_transport(_attempt_runner(action, task_vars), sealing),
               "environ": _task_environment(action), "warnings": warnings}
    with _attempts_hidden(action, secret):
        try:
            result = entry.run(params, bool(action._task.check_mode), context)  # pylint: disable=protected-access
        except ImdsError as exc:
            result = failure_result(exc)
    if warnings:
        result["warnings"] = warnings  # an entry's result never holds warnings of its own: they are all the client's
    return result


@contextlib.contextmanager
def _attempts_hidden(action: ActionBase, secret: bool) -> t.Iterator[None]:
    """While the attempts of a secret answer run, the connection treats them as ``no_log``.

    Each attempt's result holds the raw answer (base64): the token itself. Connections print a
    module's raw output at high verbosity unless the play context says no_log (WinRM at -vvvvv);
    the task's result is hidden by the action plugin afterwards, so only the attempts need this.
    """
    # The connection's own play context (the one it reads), which need not be the action's object.
    play_context = action._connection._play_context  # pylint: disable=protected-access
    before = play_context.no_log
    play_context.no_log = before or secret
    try:
        yield
    finally:
        play_context.no_log = before


def _validated(module_name: str, spec: dict, module_args: dict, rules: dict) -> dict:
    """Options checked against the module's own argument spec and rules, as AnsibleModule would."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # pylint: disable=import-outside-toplevel

    outcome = ArgumentSpecValidator(spec, **rules).validate(dict(module_args))
    if outcome.error_messages:
        raise AnsibleActionFail("%s: %s" % (module_name, "; ".join(outcome.error_messages)))
    return outcome.validated_parameters


def _attempt_runner(action: ActionBase, task_vars: dict) -> t.Callable[[str, dict], dict]:
    def run(module_name: str, module_args: dict) -> dict:
        return action._execute_module(module_name=module_name, module_args=module_args,  # pylint: disable=protected-access
                                      task_vars=task_vars)
    return run


def _task_environment(action: ActionBase) -> dict:
    """The environment the module would have been given (the task's ``environment`` keyword)."""
    environment: dict = {}
    action._compute_environment_string(environment)  # pylint: disable=protected-access
    return {str(name): str(value) for name, value in environment.items()}


class ImdsModuleAction(ActionBase):
    """Base of the action plugins of imds.azure's IMDS modules (same FQCN as the module)."""

    MODULE_NAME = ""
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect
        secret = answer_is_secret(self.MODULE_NAME, self._task.args)
        if self._task.async_val and secret:
            raise AnsibleActionFail("%s does not support async for a secret answer: the job's result would reach the "
                                    "output through async_status, unhidden. Leave out async/poll." % self.MODULE_NAME)
        if not is_windows_host(self._connection):
            # What ansible.builtin.normal does, plus sealing: POSIX hosts pay nothing for the Windows path.
            wrap_async = self._task.async_val and not self._connection.has_native_async
            module_args, sealing = sealed_args(self._task.args, secret)
            module_result = self._execute_module(module_name=self.MODULE_NAME, module_args=module_args,
                                                 task_vars=task_vars, wrap_async=wrap_async)
            result.update(opened_result(module_result, sealing, self.MODULE_NAME))
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)  # pylint: disable=protected-access
            return hide_if_secret(result, secret)
        if self._task.async_val:
            raise AnsibleActionFail("%s does not support async on Windows hosts: each attempt is a module run of "
                                    "its own. Leave out async/poll." % self.MODULE_NAME)
        result.update(run_imds_module(self, self.MODULE_NAME, self._task.args, task_vars or {}, secret=secret))
        self._remove_tmp_path(self._connection._shell.tmpdir)  # pylint: disable=protected-access
        return hide_if_secret(result, secret)
