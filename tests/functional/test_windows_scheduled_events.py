"""imds.azure.scheduled_events on a "Windows" host, side by side with a Linux host, through ansible-playbook.

As in test_windows_facts.py: one play, lin1 (POSIX) and win1 (PowerShell shell family, its one host-side
module win_imds_attempt replaced by the Python double doing real HTTP), each against its own emulator holding
the same scheduled events (same EventIds). The cases of test_scheduled_events.py: list, only_this_vm, approve
(idempotent, check mode), wait for an event then for clear, wait timeout, bad options, a malformed document.
Outcomes and the requests each emulator saw are compared; waiting is compared by outcome and pacing only,
because how many polls fit in a wait depends on how long each poll takes.
"""

from __future__ import annotations

import json

import pytest
from helpers.polling import after_polls
from doubles.windows_double import HOSTS, run_both

MODULE = "imds.azure.scheduled_events"
EVENT_ID = "C7061BAC-AFDC-4513-B24B-AA5F13A16123"
OTHER_ID = "A0B1C2D3-0000-4000-8000-00000000BEEF"
GONE_ID = "F00D0000-0000-0000-0000-000000000000"
RESULT_KEYS = ("task_status", "changed", "msg", "error_type", "events", "approved", "already_started", "gone",
               "vm_name", "document_incarnation", "api_version")


def schedule_on_both(emulators: dict, *events: dict) -> None:
    """The same events (same EventIds, hence the same document) on every emulator."""
    for emulator in emulators.values():
        for event in events:
            emulator.events.schedule(**event)


def outcome(run, host: str, endpoint: str) -> dict:
    record = run.task("gather", host)
    seen = json.loads(json.dumps(record["result"]).replace(endpoint, "<endpoint>"))
    seen["task_status"] = record["status"]
    return {key: seen.get(key) for key in RESULT_KEYS}


def requests_seen(emulator) -> list:
    return [(r.method, r.path, r.status) for r in emulator.requests]


def took_the_windows_path(emulator) -> bool:
    """Attempts made by win_imds_attempt ask the server to close the connection; http.client's do not."""
    return bool(emulator.requests) and all(r.headers.get("connection") == "close" for r in emulator.requests)


def assert_alike(run, emulators: dict) -> dict:
    """Same outcome, same requests (method, path, status) on both; the Windows one really went the Windows way."""
    linux, windows = (outcome(run, host, emulators[host].url) for host in HOSTS)
    assert windows == linux, run.output
    assert requests_seen(emulators["win1"]) == requests_seen(emulators["lin1"])
    if emulators["win1"].requests:
        assert took_the_windows_path(emulators["win1"]) and not took_the_windows_path(emulators["lin1"])
    return linux


def posts(emulator) -> list:
    return [r for r in emulator.requests if r.method == "POST"]


def test_list_only_this_vm_alike(tmp_path, windows_collections, pair):
    emulators = pair(dict(status=429, count=1, retry_after="0", path="/metadata/scheduledevents"))
    schedule_on_both(emulators, dict(event_type="Freeze", resources=["examplevmname", "other"], duration=5,
                                     description="x", event_id=EVENT_ID),
                     dict(event_type="Reboot", resources=["other"], event_id=OTHER_ID))
    run = run_both(tmp_path, windows_collections, emulators, MODULE, "only_this_vm: true")
    assert run.rc == 0, run.output
    seen = assert_alike(run, emulators)
    assert seen["vm_name"] == "examplevmname" and seen["document_incarnation"] == 3
    assert [e["event_id"] for e in seen["events"]] == [EVENT_ID]
    assert seen["events"][0]["not_before"].endswith("+00:00") and seen["events"][0]["this_vm"]
    # compute/name, then the events: 429 (retried, as on Linux), 200.
    assert [(path, status) for _method, path, status in requests_seen(emulators["win1"])] == [
        ("/metadata/instance/compute/name", 200), ("/metadata/scheduledevents", 429),
        ("/metadata/scheduledevents", 200)]


def test_oldest_version_alike(tmp_path, windows_collections, pair):
    """2017-03-01 (the preview shape, names with a leading underscore) is read the same way."""
    emulators = pair()
    schedule_on_both(emulators, dict(event_type="Reboot", resources=["examplevmname"], event_id=EVENT_ID))
    run = run_both(tmp_path, windows_collections, emulators, MODULE,
                   "api_version: '2017-03-01'\nonly_this_vm: true\nvm_name: examplevmname")
    assert run.rc == 0, run.output
    seen = assert_alike(run, emulators)
    assert seen["api_version"] == "2017-03-01" and [e["event_id"] for e in seen["events"]] == [EVENT_ID]


def test_approve_check_mode_then_idempotent_alike(tmp_path, windows_collections, pair):
    emulators = pair()
    schedule_on_both(emulators, dict(event_type="Reboot", resources=["examplevmname"], event_id=EVENT_ID))
    options = "approve: true\nevent_ids: ['%s', '%s']" % (EVENT_ID.lower(), GONE_ID)

    check = run_both(tmp_path / "check", windows_collections, emulators, MODULE, options, args=["--check"])
    assert check.rc == 0, check.output
    seen = assert_alike(check, emulators)
    assert (seen["changed"], seen["approved"]) == (True, [EVENT_ID])
    assert not any(posts(emulator) for emulator in emulators.values())

    first = run_both(tmp_path / "first", windows_collections, emulators, MODULE, options)
    assert first.rc == 0, first.output
    seen = assert_alike(first, emulators)
    assert (seen["changed"], seen["approved"], seen["gone"]) == (True, [EVENT_ID], [GONE_ID])
    for emulator in emulators.values():
        assert emulator.events.document("2020-07-01")["Events"][0]["EventStatus"] == "Started"
        assert len(posts(emulator)) == 1

    second = run_both(tmp_path / "second", windows_collections, emulators, MODULE, options)
    assert second.rc == 0, second.output
    seen = assert_alike(second, emulators)
    assert (seen["changed"], seen["approved"], seen["already_started"]) == (False, [], [EVENT_ID])
    assert all(len(posts(emulator)) == 1 for emulator in emulators.values())
    # check, first, second: one GET each, and the one POST of the first run.
    assert [m for m, _p, _s in requests_seen(emulators["win1"])] == ["GET", "GET", "POST", "GET"]


def test_approve_matched_types_only_alike(tmp_path, windows_collections, pair):
    emulators = pair()
    schedule_on_both(emulators, dict(event_type="Freeze", event_id=EVENT_ID),
                     dict(event_type="Redeploy", event_id=OTHER_ID))
    run = run_both(tmp_path, windows_collections, emulators, MODULE, "approve: true\nevent_types: [Freeze]")
    assert run.rc == 0, run.output
    assert assert_alike(run, emulators)["approved"] == [EVENT_ID]
    assert all(len(posts(emulator)) == 1 for emulator in emulators.values())


def gaps(emulator) -> list:
    gets = emulator.requests_to("/metadata/scheduledevents")
    return [b.at - a.at for a, b in zip(gets, gets[1:])]


def test_wait_for_event_then_clear_on_windows(tmp_path, windows_collections, make_emulator):
    """The waiting loop runs on the controller: it polls through win_imds_attempt, no faster than
    poll_interval, sees the event appear, and later sees it gone."""
    emulator = make_emulator(rate_limit=None)
    emulators = {"win1": emulator}
    # The event appears once the module has polled 3 times, so it is waiting by then.
    watch = after_polls(emulator, 3, lambda: emulator.events.schedule("Redeploy", event_id=EVENT_ID))
    run = run_both(tmp_path / "event", windows_collections, emulators, MODULE,
                   "wait_for: event\nevent_types: [Redeploy]\nwait_timeout: 120\npoll_interval: 0.5")
    watch.join(1)
    assert run.rc == 0, run.output
    result = run.task("gather", "win1")["result"]
    assert [e["event_id"] for e in result["events"]] == [EVENT_ID] and result["waited"] >= 0.9
    assert len(emulator.requests_to("/metadata/scheduledevents")) >= 4
    assert min(gaps(emulator)) >= 0.45 and took_the_windows_path(emulator)

    watch = after_polls(emulator, 3, lambda: emulator.events.complete(EVENT_ID))
    run = run_both(tmp_path / "clear", windows_collections, emulators, MODULE,
                   "wait_for: clear\nwait_timeout: 120\npoll_interval: 0.5")
    watch.join(1)
    assert run.rc == 0, run.output
    assert run.task("gather", "win1")["result"]["events"] == []
    assert min(gaps(emulator)) >= 0.45


def test_wait_timeout_fails_alike(tmp_path, windows_collections, make_emulator):
    emulators = {host: make_emulator(rate_limit=None) for host in HOSTS}
    schedule_on_both(emulators, dict(event_type="Reboot", resources=["other"], event_id=OTHER_ID))
    run = run_both(tmp_path, windows_collections, emulators, MODULE,
                   "wait_for: event\nonly_this_vm: true\nwait_timeout: 1.5\npoll_interval: 0.5")
    assert run.rc == 2, run.output
    for host in HOSTS:
        task = run.task("gather", host)
        assert task["status"] == "failed", run.output
        assert "no matching scheduled event was listed" in task["result"]["msg"] and task["result"]["events"] == []
        assert task["result"]["vm_name"] == "examplevmname"
    assert took_the_windows_path(emulators["win1"])


@pytest.mark.parametrize("options, words", [
    ("poll_interval: 0.1\nwait_for: event", "poll_interval must be at least"),
    ("wait_timeout: -1", "wait_timeout must be 0 or more"),
    ("event_types: [Nap]", "value of event_types must be one or more of"),
])
def test_bad_options_alike(tmp_path, windows_collections, pair, options, words):
    emulators = pair()
    run = run_both(tmp_path, windows_collections, emulators, MODULE, options)
    assert run.rc == 2, run.output
    for host in HOSTS:
        task = run.task("gather", host)
        assert task["status"] == "failed" and words in task["result"]["msg"], run.output
    assert not any(emulator.requests for emulator in emulators.values())


def test_malformed_document_alike(tmp_path, windows_collections, pair):
    emulators = pair()
    schedule_on_both(emulators, dict(event_type="Reboot", event_id=EVENT_ID))
    for emulator in emulators.values():
        emulator.events._events[0]["NotBefore"] = "soon"  # pylint: disable=protected-access
    run = run_both(tmp_path, windows_collections, emulators, MODULE)
    assert run.rc == 2, run.output
    seen = assert_alike(run, emulators)
    assert seen["error_type"] == "ImdsBadResponseError" and "Events[0].NotBefore" in seen["msg"]
