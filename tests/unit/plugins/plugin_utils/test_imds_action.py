"""run_imds_module on a Windows host: what it hands the module logic and what it does around the attempts.

The end-to-end behaviour is in tests/functional/test_windows_*.py; here the plumbing is pinned down with a
fake action whose host "runs" win_imds_attempt by answering from a script: options validated with the
module's own rules before any attempt, check mode reaching the logic that needs it, and the connection's
no_log set for the attempts of secret answers only, and restored whatever happens.
"""

from __future__ import annotations

import base64
import json
import types

import pytest
from ansible.errors import AnsibleActionFail
# run_imds_module imports the modules' logic by name; import it here, at collection time, so that a collection
# finder another unit test installs later (without this collection's metadata) never has to load them.
from ansible_collections.imds.azure.plugins.module_utils import (  # noqa: F401  pylint: disable=unused-import
    _identity_token_logic,
    _metadata_info_logic,
    _scheduled_events_logic,
)
from ansible_collections.imds.azure.plugins.module_utils._errors import ImdsRequestError
from ansible_collections.imds.azure.plugins.module_utils._seal import sealed_result
from ansible_collections.imds.azure.plugins.plugin_utils._imds_action import opened_result, run_imds_module, sealed_args
from ansible_collections.imds.azure.plugins.plugin_utils._windows_transport import ATTEMPT_MODULE
from doubles.windows_double import attempt_double_module

DOUBLE = attempt_double_module()

EVENT_ID = "C7061BAC-AFDC-4513-B24B-AA5F13A16123"
EVENTS = {"DocumentIncarnation": 2, "Events": [{
    "EventId": EVENT_ID, "EventStatus": "Scheduled", "EventType": "Reboot", "ResourceType": "VirtualMachine",
    "Resources": ["vm0"], "NotBefore": "Mon, 19 Sep 2016 18:29:47 GMT", "Description": "d",
    "EventSource": "Platform", "DurationInSeconds": -1}]}
TOKEN = {"access_token": "e30.e30.sig", "expires_in": "3599", "expires_on": "1506484173", "resource": "r",
         "token_type": "Bearer"}


def http_answer(status: int, body: bytes) -> dict:
    raw = b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body)
    return {"changed": False, "response": base64.b64encode(raw).decode(), "received": len(raw), "complete": True,
            "limit_reached": False, "error": None, "elapsed": 0.01}


class FakeWindowsAction:
    """What run_imds_module uses of an action: its connection (PowerShell family), task and module runs."""

    def __init__(self, answers: list, check_mode: bool = False, seals: bool = True) -> None:
        self.answers = list(answers)
        self.seals = seals  # as the host module does when given seal_to
        self.crossed = []  # what the host returned over the connection
        self.sent = []  # (method line, no_log of the connection at the time)
        self._connection = types.SimpleNamespace(_shell=types.SimpleNamespace(SHELL_FAMILY="powershell"),
                                                 _play_context=types.SimpleNamespace(no_log=False))
        self._task = types.SimpleNamespace(check_mode=check_mode)

    def _compute_environment_string(self, environment: dict) -> None:
        environment["AZURE_IMDS_ENDPOINT"] = "http://127.0.0.1:9"

    def _execute_module(self, module_name: str, module_args: dict, task_vars: dict) -> dict:
        assert module_name == ATTEMPT_MODULE and task_vars == {}
        request_line = base64.b64decode(module_args["request"]).split(b"\r\n", 1)[0].decode()
        self.sent.append((request_line, self._connection._play_context.no_log))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if self.seals and module_args.get("seal_to"):
            raw = base64.b64decode(answer["response"])
            answer = dict(answer, response="", sealed=DOUBLE.seal(module_args["seal_to"], raw))
        self.crossed.append(json.dumps(answer))
        return answer


def test_module_rules_are_checked_before_any_attempt():
    action = FakeWindowsAction([])
    with pytest.raises(AnsibleActionFail, match="mutually exclusive"):
        run_imds_module(action, "imds.azure.identity_token",
                        {"resource": "r", "client_id": "a", "object_id": "b"}, {}, secret=True)
    assert not action.sent


@pytest.mark.parametrize("check_mode, methods", [(True, ["GET"]), (False, ["GET", "POST"])])
def test_check_mode_reaches_the_scheduled_events_logic(check_mode, methods):
    action = FakeWindowsAction([http_answer(200, json.dumps(EVENTS).encode()), http_answer(200, b"")],
                               check_mode=check_mode)
    result = run_imds_module(action, "imds.azure.scheduled_events", {"approve": True, "event_ids": [EVENT_ID]}, {})
    assert result["approved"] == [EVENT_ID] and result["changed"] is True
    assert [line.split()[0] for line, _no_log in action.sent] == methods


def test_secret_attempts_run_no_log_and_it_is_restored():
    action = FakeWindowsAction([http_answer(200, json.dumps(TOKEN).encode())])
    result = run_imds_module(action, "imds.azure.identity_token", {"resource": "r"}, {}, secret=True)
    assert result["access_token"] == TOKEN["access_token"]
    assert "e30" not in action.crossed[0] and "sealed" in action.crossed[0]  # only ciphertext crossed
    assert [no_log for _line, no_log in action.sent] == [True]
    assert action._connection._play_context.no_log is False


def test_no_log_is_restored_when_an_attempt_blows_up():
    action = FakeWindowsAction([RuntimeError("connection lost")])
    with pytest.raises(RuntimeError):
        run_imds_module(action, "imds.azure.identity_token", {"resource": "r"}, {}, secret=True)
    assert action.sent[0][1] is True and action._connection._play_context.no_log is False


def test_other_attempts_are_not_hidden():
    action = FakeWindowsAction([http_answer(200, b'"vm0"')])
    run_imds_module(action, "imds.azure.metadata_info", {"path": "instance/compute/name"}, {})
    assert [no_log for _line, no_log in action.sent] == [False]


def test_a_secret_answer_that_comes_back_unsealed_is_refused():
    action = FakeWindowsAction([http_answer(200, json.dumps(TOKEN).encode())], seals=False)
    result = run_imds_module(action, "imds.azure.identity_token", {"resource": "r", "max_retry_time": 0}, {},
                             secret=True)
    assert result["failed"] and "returned a secret answer unsealed" in result["msg"]
    assert "access_token" not in result


def test_other_answers_are_not_sealed():
    action = FakeWindowsAction([http_answer(200, b"vm0")])  # a leaf: the path table asks for format=text
    assert run_imds_module(action, "imds.azure.metadata_info", {"path": "instance/compute/name"}, {})["text"] == "vm0"
    assert '"sealed"' not in action.crossed[0]


def test_the_seal_option_is_the_actions_own():
    with pytest.raises(AnsibleActionFail, match="_seal_to is set by the imds.azure action plugins only"):
        run_imds_module(FakeWindowsAction([]), "imds.azure.identity_token", {"resource": "r", "_seal_to": "x"}, {})


def test_posix_results_are_opened_and_an_unsealed_secret_is_refused():
    args, sealing = sealed_args({"resource": "r"}, secret=True)
    crossed = dict(sealed_result(args["_seal_to"], dict(TOKEN, changed=False)),
                   invocation={"module_args": dict(args)})
    opened = opened_result(crossed, sealing, "imds.azure.identity_token")
    assert opened["access_token"] == TOKEN["access_token"] and "sealed" not in opened
    assert opened["invocation"]["module_args"] == {"resource": "r"}
    failure = {"failed": True, "msg": "IMDS refused"}
    assert opened_result(failure, sealing, "imds.azure.identity_token") is failure  # failures hold no secret
    with pytest.raises(AnsibleActionFail, match="returned a secret answer unsealed"):
        opened_result(dict(TOKEN, changed=False), sealing, "imds.azure.identity_token")
    assert sealed_args({"resource": "r"}, secret=False) == ({"resource": "r"}, None)


def test_scheduled_events_raises_its_option_problems_as_typed_errors():
    """The one contract: the entry raises ImdsError, the caller (module main or action) writes the failure."""
    params = _scheduled_events_logic.ENTRY.argument_spec()
    params = {name: spec.get("default") for name, spec in params.items()}
    params.update(approve=True)
    with pytest.raises(ImdsRequestError, match="approve: true needs to be told which events"):
        _scheduled_events_logic.ENTRY.run(params, False, {})
    action = FakeWindowsAction([])
    result = run_imds_module(action, "imds.azure.scheduled_events", {"approve": True}, {})
    assert result["failed"] and "approve: true needs" in result["msg"] and not action.sent


def test_a_scheduled_events_timeout_fails_with_what_it_saw():
    action = FakeWindowsAction([http_answer(200, json.dumps(EVENTS).encode())])
    result = run_imds_module(action, "imds.azure.scheduled_events",
                             {"wait_for": "clear", "wait_timeout": 0, "event_ids": [EVENT_ID]}, {})
    assert result["failed"] and "still listed" in result["msg"]
    assert result["document_incarnation"] == 2 and [e["event_id"] for e in result["events"]] == [EVENT_ID]
    assert result["changed"] is False and result["approved"] == []
