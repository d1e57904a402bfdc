"""Issue 12's hostile answers, reproduced as a user meets them: ansible-playbook against the emulator.

Each case failed before the fix (an uncaught exception, a 60 s hang, escapes on the terminal, NaN
facts, a silently accepted option); now each is a clear, typed error or, where the header is only a
hint, the normal behaviour."""

from __future__ import annotations

import json

import pytest
from azure_imds_emulator.faults import Fault
from helpers.ansible_runner import run_playbook

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
{tasks}
"""


def task(name: str, module: str = "imds.azure.metadata_info", **options) -> str:
    lines = ["    - name: %s" % name, "      %s:" % module]
    lines += ["        %s: %s" % (key, json.dumps(value)) for key, value in options.items()]
    lines.append("      ignore_errors: true")
    return "\n".join(lines)


def raw(path: str, head: bytes, body: bytes = b"") -> Fault:
    return Fault(kind="raw", path=path, count=1, body=head + b"\r\n\r\n" + body)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """One playbook, one emulator; each task meets its own scripted misbehaviour (faults by path)."""
    from azure_imds_emulator.server import ImdsEmulator  # pylint: disable=import-outside-toplevel

    nan_body = b'{"compute": {"name": "vm", "weight": NaN}, "network": {}}'
    with ImdsEmulator() as emulator:
        emulator.drip = emulator.add_fault(kind="drip_head", path="/metadata/instance/compute", interval=0.5)
        emulator.add_fault(raw("/metadata/instance/network",
                               b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \xb2", b"{}"))
        emulator.add_fault(Fault(status=429, retry_after="\u00b2", path="/metadata/versions", count=1))
        emulator.add_fault(raw("/metadata/loadbalancer",
                               b"HTTP/1.1 503 \x1b[2J\x1b[31mFIRE\x1b]0;owned\x07\r\nContent-Length: 0"))
        emulator.add_fault(raw("/metadata/identity/info",
                               b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12", b'{"a": [NaN]}'))
        emulator.add_fault(raw("/metadata/instance",
                               b"HTTP/1.1 200 OK\r\nContent-Length: %d" % len(nan_body), nan_body))
        tasks = [
            task("drip", path="instance/compute", timeout=2, max_retry_time=4),
            task("content_length", path="instance/network", max_retry_time=0),
            task("retry_after", path="versions"),
            task("reason", path="loadbalancer", max_retry_time=0),
            task("nan_info", path="identity/info", max_retry_time=0),
            task("nan_facts", module="imds.azure.metadata_facts", max_retry_time=0),
            task("timeout_nan", path="versions", timeout="nan"),
            task("timeout_inf", path="versions", timeout="inf"),
            task("timeout_negative", path="versions", timeout=-1),
            task("retry_nan", path="versions", max_retry_time="nan"),
            task("port_zero", path="versions", endpoint="http://127.0.0.1:0"),
            task("port_huge", path="versions", endpoint="http://127.0.0.1:70000"),
            task("newline_path", path="instance/compute\n"),
        ]
        run = run_playbook(tmp_path_factory.mktemp("hostile"), PLAYBOOK.format(tasks="\n".join(tasks)),
                           env={"AZURE_IMDS_ENDPOINT": emulator.url})
        yield run, emulator


def failed(run, name: str) -> dict:
    record = run.task(name)
    assert record["status"] == "failed", record
    result = record["result"]
    assert "Traceback" not in json.dumps(result) and "exception" not in result, result
    return result


def test_headers_dribbled_a_byte_at_a_time_end_at_the_timeout(hostile_run):
    run, _emulator = hostile_run
    result = failed(run, "drip")
    assert result["error_type"] == "ImdsTimeoutError"
    # timeout 2 and max_retry_time 4: at most three attempts of 2 s plus waits within 4 s; before
    # the fix the peer held the task for as long as it dribbled (about 75 s here).
    assert run.task("drip")["duration"] < 30, run.task("drip")["duration"]


def test_unicode_digit_in_content_length(hostile_run):
    result = failed(hostile_run[0], "content_length")
    assert result["error_type"] == "ImdsBadResponseError"
    assert "invalid Content-Length" in result["msg"]


def test_unicode_digit_in_retry_after_falls_back_to_the_backoff(hostile_run):
    run, emulator = hostile_run
    record = run.task("retry_after")
    assert record["status"] == "ok", record
    assert [r.status for r in emulator.requests_to("/metadata/versions")][:2] == [429, 200]


def test_reason_phrase_escapes_never_reach_the_terminal(hostile_run):
    run, _emulator = hostile_run
    result = failed(run, "reason")
    assert result["error_type"] == "ImdsServerError"
    assert "FIRE" in result["msg"] and "\x1b" not in result["msg"] and "\x07" not in result["msg"]
    assert "\x1b" not in run.stdout and "\x1b" not in run.stderr


@pytest.mark.parametrize("name", ["nan_info", "nan_facts"])
def test_nan_is_not_json(hostile_run, name):
    result = failed(hostile_run[0], name)
    assert result["error_type"] == "ImdsBadResponseError"
    assert "NaN is not JSON" in result["msg"]
    assert "ansible_facts" not in result


@pytest.mark.parametrize("name, option", [("timeout_nan", "timeout"), ("timeout_inf", "timeout"),
                                          ("timeout_negative", "timeout"), ("retry_nan", "max_retry_time")])
def test_unusable_durations_name_the_option(hostile_run, name, option):
    result = failed(hostile_run[0], name)
    assert result["error_type"] == "ImdsRequestError"
    assert result["msg"].startswith("The %s option must be a finite number of seconds" % option)


@pytest.mark.parametrize("name, port", [("port_zero", "'0'"), ("port_huge", "'70000'")])
def test_invalid_ports_are_refused(hostile_run, name, port):
    result = failed(hostile_run[0], name)
    assert result["error_type"] == "ImdsRequestError"
    assert "the port must be a number from 1 to 65535, got %s" % port in result["msg"]


def test_a_trailing_newline_in_a_path_is_refused(hostile_run):
    run, emulator = hostile_run
    result = failed(run, "newline_path")
    assert "Invalid IMDS path segment 'compute\\n'" in result["msg"]
    # Every request to instance/compute was one of the "drip" task's attempts: the newline path sent none.
    assert len([r for r in emulator.requests if r.path == "/metadata/instance/compute"]) == emulator.drip.hits
