"""Record every task result as one JSON line, for the tests to assert on."""

from __future__ import annotations

DOCUMENTATION = r"""
name: imds_test_recorder
type: aggregate
short_description: Write task results to the file named by IMDS_TEST_RESULTS
description:
  - Test helper of imds.azure. Each task result becomes one JSON line with host, task, status, result and duration (seconds since the task started).
requirements:
  - enabled in callbacks_enabled
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "imds_test_recorder"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._task_started = {}

    def v2_playbook_on_task_start(self, task, is_conditional) -> None:
        self._task_started[task._uuid] = time.perf_counter()  # pylint: disable=protected-access

    def _write(self, status: str, result) -> None:
        path = os.environ.get("IMDS_TEST_RESULTS")
        if not path:
            return
        data = json.loads(self._dump_results(result._result, indent=0))  # pylint: disable=protected-access
        task = result._task  # pylint: disable=protected-access
        started = self._task_started.get(task._uuid)  # pylint: disable=protected-access
        entry = {"host": result._host.get_name(), "task": task.get_name(),  # pylint: disable=protected-access
                 "status": status, "result": data,
                 "duration": None if started is None else time.perf_counter() - started}
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")

    def v2_runner_on_ok(self, result) -> None:
        self._write("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False) -> None:
        self._write("failed", result)

    def v2_runner_on_skipped(self, result) -> None:
        self._write("skipped", result)

    def v2_runner_on_unreachable(self, result) -> None:
        self._write("unreachable", result)
