"""Act on an emulator while a module is polling it (scheduled events tests)."""

from __future__ import annotations

import threading
import time


def after_polls(emulator, polls: int, action) -> threading.Thread:
    """Run ``action`` once the module has read the events ``polls`` more times (it is waiting by then)."""
    start = len(emulator.requests_to("/metadata/scheduledevents"))

    def watch() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if len(emulator.requests_to("/metadata/scheduledevents")) >= start + polls:
                action()
                return
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread
