"""Parsing, selecting and approval planning of scheduled events, on Microsoft's own sample documents."""

from __future__ import annotations

import json

import pytest
from ansible_collections.imds.azure.plugins.module_utils._scheduled_events import (
    ScheduledEventsDocumentError,
    parse_document,
    plan_approval,
    rfc1123_to_iso,
    select,
)
from helpers import paths


def sample(name: str) -> dict:
    folder = paths.SAMPLES if name.startswith("se-docs") else paths.FIELD_SAMPLES
    return json.loads((folder / name).read_text(encoding="utf-8"))


def test_docs_freeze_lifecycle():
    incarnations = []
    for name in ("se-docs-incarnation-1-empty.json", "se-docs-incarnation-2-freeze-scheduled.json",
                 "se-docs-incarnation-3-freeze-started.json", "se-docs-incarnation-4-empty.json"):
        incarnation, events = parse_document(sample(name), "2020-07-01")
        incarnations.append((incarnation, [(e.event_status, e.not_before) for e in events]))
    assert incarnations == [
        (1, []),
        (2, [("Scheduled", "2026-04-11T22:26:58+00:00")]),  # the sample's weekday (Mon) is wrong; the date wins
        (3, [("Started", None)]),
        (4, []),
    ]
    _incarnation, [event] = parse_document(sample("se-docs-incarnation-2-freeze-scheduled.json"), "2020-07-01")
    assert event.to_result("WestNO_1") == {
        "event_id": "C7061BAC-AFDC-4513-B24B-AA5F13A16123", "event_type": "Freeze",
        "resource_type": "VirtualMachine", "resources": ["WestNO_0", "WestNO_1"], "event_status": "Scheduled",
        "not_before": "2026-04-11T22:26:58+00:00",
        "description": "Virtual machine is being paused because of a memory-preserving Live Migration operation.",
        "event_source": "Platform", "duration_seconds": 5, "this_vm": True}


def test_older_shapes_have_nulls():
    _incarnation, [event] = parse_document(sample("se-docs-spot-preempt-2019-08-01.json"), "2019-08-01")
    assert (event.event_type, event.description, event.event_source, event.duration_seconds) == (
        "Preempt", "", "Platform", None)
    incarnation, events = parse_document(sample("se-azuresamples-two-reboots.json"), "2017-11-01")
    assert incarnation == 192 and [e.resources for e in events] == [["sample_4"], ["sample_1"]]
    assert events[0].description is None


def test_preview_underscore_prefix_is_removed():
    document = {"DocumentIncarnation": 1, "Events": [dict(sample("se-azuresamples-two-reboots.json")["Events"][0],
                                                          Resources=["_sample_4"])]}
    assert parse_document(document, "2017-03-01")[1][0].resources == ["sample_4"]
    assert parse_document(document, "2017-08-01")[1][0].resources == ["_sample_4"]


@pytest.mark.parametrize("document, words", [
    ([], "not a JSON object"),
    ({"Events": []}, "DocumentIncarnation"),
    ({"DocumentIncarnation": 1}, "Events is missing"),
    ({"DocumentIncarnation": 1, "Events": [{"EventId": 5}]}, "Events[0].EventId"),
    ({"DocumentIncarnation": 1, "Events": [dict(sample("se-azuresamples-two-reboots.json")["Events"][0],
                                                NotBefore="tomorrow")]}, "Events[0].NotBefore"),
    ({"DocumentIncarnation": 1, "Events": [dict(sample("se-azuresamples-two-reboots.json")["Events"][0],
                                                DurationInSeconds="5")]}, "DurationInSeconds"),
])
def test_bad_documents_name_the_field(document, words):
    with pytest.raises(ScheduledEventsDocumentError, match=words.replace("[", r"\[").replace("]", r"\]")):
        parse_document(document, "2020-07-01")


def test_rfc1123_with_offset():
    assert rfc1123_to_iso("Wed, 24 Jan 2018 21:20:44 GMT") == "2018-01-24T21:20:44+00:00"
    assert rfc1123_to_iso("Wed, 24 Jan 2018 22:20:44 +0100") == "2018-01-24T21:20:44+00:00"


def test_select_and_plan():
    _incarnation, events = parse_document(sample("se-azuresamples-two-reboots.json"), "2020-07-01")
    assert [e.resources for e in select(events, vm_name="SAMPLE_1")] == [["sample_1"]]
    assert select(events, event_types=["Freeze"]) == []
    first = events[0].event_id
    assert [e.event_id for e in select(events, event_ids=[first.lower()])] == [first]
    plan = plan_approval(events, wanted_ids=[first, "gone-id"])
    assert (plan.to_approve, plan.already_started, plan.gone) == ([first], [], ["gone-id"])
    events[0].event_status = "Started"
    plan = plan_approval(events, matched=events)
    assert (plan.to_approve, plan.already_started) == ([events[1].event_id], [first])
