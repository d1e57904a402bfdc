"""imds.azure.scheduled_events through ansible-playbook against the emulator, and the documented
drain playbook rehearsed against ``azure-imds-emulator serve --scheduled-events``."""

from __future__ import annotations

import json
import subprocess

import pytest
from helpers import netns, paths
from helpers.ansible_runner import module_play, run_command, run_playbook
from helpers.guide import guide_block
from helpers.polling import after_polls

GUIDE = paths.ROOT / "docs" / "docsite" / "rst" / "guide_scheduled_events.rst"


def run_module(tmp_path, emulator, options: str, args: list | None = None, ignore_errors: bool = False):
    play = module_play("imds.azure.scheduled_events", options, name="events", ignore_errors=ignore_errors)
    return run_playbook(tmp_path, play, env={"AZURE_IMDS_ENDPOINT": emulator.url}, args=args)


def test_list_parsed_and_only_this_vm(tmp_path, emulator):
    mine = emulator.events.schedule("Freeze", resources=["examplevmname", "other"], duration=5, description="x")
    emulator.events.schedule("Reboot", resources=["other"])
    run = run_module(tmp_path, emulator, "only_this_vm: true")
    assert run.rc == 0, run.output
    result = run.task("events")["result"]
    assert result["vm_name"] == "examplevmname" and result["document_incarnation"] == 3
    assert [e["event_id"] for e in result["events"]] == [mine["EventId"]]
    event = result["events"][0]
    assert event["not_before"].endswith("+00:00") and event["duration_seconds"] == 5 and event["this_vm"]
    assert not result["changed"] and result["approved"] == []


@pytest.mark.parametrize("version, fields", [
    ("2017-03-01", set()),
    ("2019-04-01", {"description"}),
    ("2019-08-01", {"description", "event_source"}),
    ("2020-07-01", {"description", "event_source", "duration_seconds"}),
])
def test_every_version_with_its_fields(tmp_path, emulator, version, fields):
    emulator.events.schedule("Reboot", resources=["examplevmname"], duration=60, description="d")
    run = run_module(tmp_path, emulator, "api_version: '%s'\nonly_this_vm: true\nvm_name: examplevmname" % version)
    assert run.rc == 0, run.output
    result = run.task("events")["result"]
    assert result["api_version"] == version
    [event] = result["events"]  # the 2017-03-01 underscore before the name is removed
    optional = {"description", "event_source", "duration_seconds"}
    assert {key for key in optional if event[key] is not None} == fields


def test_approve_is_idempotent_and_check_mode_sends_nothing(tmp_path, emulator):
    event = emulator.events.schedule("Reboot", resources=["examplevmname"])
    options = "approve: true\nevent_ids: ['%s', 'F00D0000-0000-0000-0000-000000000000']" % event["EventId"].lower()
    check = run_module(tmp_path / "check", emulator, options, args=["--check"])
    assert check.rc == 0, check.output
    assert check.task("events")["result"]["approved"] == [event["EventId"]]
    assert check.task("events")["result"]["changed"]
    assert not [r for r in emulator.requests if r.method == "POST"]
    first = run_module(tmp_path / "first", emulator, options)
    result = first.task("events")["result"]
    assert (result["changed"], result["approved"], result["gone"]) == (
        True, [event["EventId"]], ["F00D0000-0000-0000-0000-000000000000"])
    assert emulator.events.document("2020-07-01")["Events"][0]["EventStatus"] == "Started"
    second = run_module(tmp_path / "second", emulator, options)
    result = second.task("events")["result"]
    assert (result["changed"], result["approved"], result["already_started"]) == (False, [], [event["EventId"]])
    assert len([r for r in emulator.requests if r.method == "POST"]) == 1


def test_approve_matched_types_only(tmp_path, emulator):
    freeze = emulator.events.schedule("Freeze", resources=["examplevmname"])
    emulator.events.schedule("Redeploy", resources=["examplevmname"])
    run = run_module(tmp_path, emulator, "approve: true\nevent_types: [Freeze]")
    assert run.task("events")["result"]["approved"] == [freeze["EventId"]]
    posted = [r for r in emulator.requests if r.method == "POST"]
    assert len(posted) == 1


def test_wait_for_event_then_clear(tmp_path, make_emulator):
    emulator = make_emulator(rate_limit=None)
    after_polls(emulator, 3, lambda: emulator.events.schedule("Redeploy", resources=["examplevmname"]))
    run = run_module(tmp_path / "event", emulator,
                     "wait_for: event\nevent_types: [Redeploy]\nwait_timeout: 60\npoll_interval: 0.5")
    assert run.rc == 0, run.output
    result = run.task("events")["result"]
    assert result["events"][0]["event_type"] == "Redeploy" and result["waited"] >= 0.9
    gets = emulator.requests_to("/metadata/scheduledevents")
    assert len(gets) >= 4
    gaps = [b.at - a.at for a, b in zip(gets, gets[1:])]
    assert min(gaps) >= 0.45  # poll_interval is respected
    event_id = result["events"][0]["event_id"]
    after_polls(emulator, 3, lambda: emulator.events.complete(event_id))
    run = run_module(tmp_path / "clear", emulator, "wait_for: clear\nwait_timeout: 60\npoll_interval: 0.5")
    assert run.rc == 0, run.output
    assert run.task("events")["result"]["events"] == []


def test_wait_timeout_fails_with_the_last_events(tmp_path, make_emulator):
    emulator = make_emulator(rate_limit=None)
    emulator.events.schedule("Reboot", resources=["other"])
    run = run_module(tmp_path, emulator, "wait_for: event\nonly_this_vm: true\nwait_timeout: 1.5\npoll_interval: 0.5",
                     ignore_errors=True)
    task = run.task("events")
    assert task["status"] == "failed"
    assert "no matching scheduled event was listed" in task["result"]["msg"] and task["result"]["events"] == []


@pytest.mark.parametrize("options, words", [
    ("poll_interval: 0.1\nwait_for: event", "poll_interval must be at least"),
    ("event_types: [Nap]", "value of event_types must be one or more of"),
])
def test_bad_options(tmp_path, emulator, options, words):
    run = run_module(tmp_path, emulator, options, ignore_errors=True)
    assert run.task("events")["status"] == "failed" and words in run.task("events")["result"]["msg"]
    assert not emulator.requests


def test_malformed_document_names_the_field(tmp_path, emulator):
    emulator.events.schedule("Reboot")
    emulator.events._events[0]["NotBefore"] = "soon"  # pylint: disable=protected-access
    run = run_module(tmp_path, emulator, "", ignore_errors=True)
    assert "Events[0].NotBefore" in run.task("events")["result"]["msg"]


def test_documented_drain_rehearsal(tmp_path):
    """The guide's drain playbook against azure-imds-emulator serve with the guide's own event document."""
    document = tmp_path / "freeze.json"
    document.write_text(guide_block(GUIDE, "se_rehearsal_document"))
    playbook = guide_block(GUIDE, "se_drain_playbook")
    log = tmp_path / "requests.jsonl"
    process = subprocess.Popen(  # pylint: disable=consider-using-with
        [*paths.EMULATOR_SERVE, "--bind", "127.0.0.1:0", "--no-rate-limit",
         "--scheduled-events", str(document), "--request-log", str(log)], stdout=subprocess.PIPE, text=True)
    try:
        url = json.loads(process.stdout.readline())["url"]
        record = tmp_path / "maintenance.jsonl"
        run = run_playbook(tmp_path, playbook, env={"AZURE_IMDS_ENDPOINT": url},
                           args=["-e", "maintenance_log=%s" % record])
    finally:
        netns.stop_process(process)
    assert run.rc == 0, run.output
    entries = [json.loads(line) for line in record.read_text().splitlines()]
    assert [e["event_id"] for e in entries] == ["C7061BAC-AFDC-4513-B24B-AA5F13A16123"]
    requests = [json.loads(line) for line in log.read_text().splitlines()]
    posts = [r for r in requests if r["method"] == "POST"]
    assert len(posts) == 1 and posts[0]["status"] == 200
    # The last read saw the event finished (auto-completed after its 5 s duration).
    assert run.task("Wait until the maintenance is over")["result"]["events"] == []


def test_approve_alone_is_refused_before_any_request(tmp_path, emulator):
    """The new user's command: other VMs' events are listed, and ``approve=true`` names none of them."""
    emulator.events.schedule("Freeze", resources=["examplevmname"])
    emulator.events.schedule("Reboot", resources=["other"])
    run = run_command(tmp_path, ["ansible", "localhost", "-i", "localhost,", "-c", "local", "-m", "imds.azure.scheduled_events",
                                 "-a", "approve=true", "--check"], env={"AZURE_IMDS_ENDPOINT": emulator.url})
    assert run.returncode == 2, run.stdout + run.stderr
    assert "approve: true needs to be told which events" in run.stdout
    assert all(words in run.stdout for words in ("event_ids", "only_this_vm: true", "event_types"))
    assert '"approved"' not in run.stdout and not emulator.requests


def test_approve_with_only_this_vm_leaves_other_vms_events(tmp_path, emulator):
    mine = emulator.events.schedule("Freeze", resources=["examplevmname"])
    emulator.events.schedule("Reboot", resources=["other"])
    run = run_module(tmp_path, emulator, "approve: true\nonly_this_vm: true")
    assert run.rc == 0, run.output
    assert run.task("events")["result"]["approved"] == [mine["EventId"]]


def test_wait_polls_until_its_deadline_and_names_what_it_left_out(tmp_path, make_emulator):
    """wait_timeout 3 with poll_interval 1: reads at 0, 1, 2 and 3 s (not 2 s), and the other VM's event is named."""
    emulator = make_emulator(rate_limit=None)
    other = emulator.events.schedule("Reboot", resources=["other"])
    run = run_module(tmp_path, emulator, "wait_for: event\nonly_this_vm: true\nvm_name: examplevmname\n"
                     "wait_timeout: 3\npoll_interval: 1", ignore_errors=True)
    result = run.task("events")["result"]
    assert result["waited"] >= 3, run.output
    assert len(emulator.requests_to("/metadata/scheduledevents")) == 4
    assert "Waited 3 s" in result["msg"] and "1 event(s) that event_types, event_ids or only_this_vm left out" \
        in result["msg"]
    assert "Reboot %s for other" % other["EventId"] in result["msg"]
