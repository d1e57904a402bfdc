"""The scheduled_events timeout message: it names the events the filters left out, bounded and printable."""

from __future__ import annotations

from ansible_collections.imds.azure.plugins.module_utils._scheduled_events import ScheduledEvent
from ansible_collections.imds.azure.plugins.module_utils._scheduled_events_logic import MAX_EVENTS_NAMED, timeout_message


def event(index: int, resources=("other",), event_type="Reboot") -> ScheduledEvent:
    return ScheduledEvent("ID-%d" % index, event_type, "VirtualMachine", list(resources), "Scheduled", None)


def test_the_events_left_out_are_named_and_bounded():
    listed = [event(i) for i in range(MAX_EVENTS_NAMED + 3)]
    message = timeout_message({"wait_for": "event"}, listed, [], 3.0)
    assert message.startswith("Waited 3 s (wait_timeout) and no matching scheduled event was listed. IMDS listed 8")
    assert "Reboot ID-4 for other" in message and "ID-5" not in message and message.endswith("; and 3 more.")


def test_imds_text_in_the_message_is_shortened_and_printable():
    hostile = event(1, resources=["\x1b[31mvm\n" + "x" * 500], event_type="Reboot\r")
    message = timeout_message({"wait_for": "event"}, [hostile], [], 1.0)
    assert "\x1b" not in message and "\n" not in message and "\r" not in message and len(message) < 400


def test_nothing_listed_and_still_listed():
    assert timeout_message({"wait_for": "event"}, [], [], 2.0).endswith("IMDS listed no events at all.")
    still = timeout_message({"wait_for": "clear"}, [event(1)], [event(1)], 2.0)
    assert still == "Waited 2 s (wait_timeout) and the matching scheduled events were still listed: Reboot ID-1 for other."
