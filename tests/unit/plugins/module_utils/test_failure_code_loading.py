"""The failure-only module_utils (_answer_errors, _transport_errors, _retry) are not loaded by a request
that succeeds, and are loaded, and explain the failure, when one fails. Most module runs send one request
that succeeds; they should not compile the words for every way it could have failed.

Each case runs in a fresh Python, whose sys.modules tells what the request loaded."""

from __future__ import annotations

import pytest
from azure_imds_emulator.faults import Fault
from helpers.python_probe import run_python

COLD_MODULES = ("_answer_errors", "_retry", "_transport_errors")

REQUEST = r"""
import json, sys
from ansible_collections.imds.azure.plugins.module_utils._client import ImdsClient
from ansible_collections.imds.azure.plugins.module_utils._errors import ImdsError
try:
    outcome = "%d attempt(s)" % ImdsClient(endpoint=sys.argv[1], max_retry_time=0).instance().attempts
except ImdsError as exc:
    outcome = type(exc).__name__
loaded = sorted(n.rpartition(".")[2] for n in sys.modules if n.startswith("ansible_collections.imds.azure."))
print(json.dumps({"outcome": outcome, "loaded": loaded}))
"""


def test_a_request_that_succeeds_loads_no_failure_code(make_emulator):
    emulator = make_emulator()
    found = run_python(REQUEST, emulator.url)
    assert found["outcome"] == "1 attempt(s)"
    assert "_client" in found["loaded"] and "_transport" in found["loaded"]
    assert not set(COLD_MODULES) & set(found["loaded"])


@pytest.mark.parametrize("fault, error, explained_by", [
    (Fault(status=500), "ImdsServerError", "_answer_errors"),
    (Fault(status=404), "ImdsNotFoundError", "_answer_errors"),
    (Fault(kind="redirect"), "ImdsRedirectError", "_answer_errors"),
    (Fault(kind="html"), "ImdsBadResponseError", "_answer_errors"),
    (Fault(kind="malformed"), "ImdsBadResponseError", "_answer_errors"),
    (Fault(kind="oversize"), "ImdsResponseTooLargeError", "_transport_errors"),
    (Fault(kind="truncate"), "ImdsConnectionResetError", "_transport_errors"),
])
def test_a_failed_answer_loads_the_code_that_explains_it(make_emulator, fault, error, explained_by):
    emulator = make_emulator()
    emulator.add_fault(fault)
    found = run_python(REQUEST, emulator.url)
    assert found["outcome"] == error
    assert explained_by in found["loaded"]


def test_a_refused_connection_loads_the_transport_wording():
    found = run_python(REQUEST, "http://127.0.0.1:9")
    assert found["outcome"] == "ImdsUnreachableError"
    assert {"_transport_errors", "_retry"} <= set(found["loaded"])
