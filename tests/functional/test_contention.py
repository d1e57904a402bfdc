"""Many callers on one VM (issue 12): 50 callers share IMDS's 5 requests a second.

Whatever IMDS's limiter really does with refused requests (the emulator models both: ``arrivals``,
where every request counts, and ``served``, where only answered ones do), every caller must get its
answer within max_retry_time (70 s by default), with as few requests as the jittered backoff allows.
These tests run on the real clock: about a minute each."""

from __future__ import annotations

import threading
import time

import pytest
from ansible_collections.imds.azure.plugins.module_utils._client import DEFAULT_MAX_RETRY_TIME, ImdsClient
from helpers.ansible_runner import module_play, run_playbook

CALLERS = 50
# What the backoff costs at most: the first round (50) plus a few refusals per caller. The old policy
# (lockstep waits, 4 retries) sent 225 requests and got 15 answers under the arrivals model.
MAX_REQUESTS = 8 * CALLERS


def answered_within(emulator) -> float:
    """Seconds from the first request IMDS saw to the last answer it gave."""
    arrivals = [r.at for r in emulator.requests]
    return max(r.at for r in emulator.requests if r.status == 200) - min(arrivals)


def report(model: str, how: str, requests: int, answered: int, seconds: float) -> None:
    print("contention %s via %s: %d/%d answered, %d requests (%.1f per caller), last answer after %.1f s"
          % (model, how, answered, CALLERS, requests, requests / CALLERS, seconds))


@pytest.mark.parametrize("model", ["arrivals", "served"])
def test_fifty_clients_in_threads_all_get_their_answer(make_emulator, model):
    emulator = make_emulator(rate_limit_model=model)
    outcomes = [None] * CALLERS
    start = threading.Barrier(CALLERS)
    started_at = time.monotonic()

    def caller(index: int) -> None:
        client = ImdsClient(endpoint=emulator.url)  # one client per caller, as one per task process
        start.wait()
        try:
            outcomes[index] = (client.instance().data, time.monotonic() - started_at)
        # The assertion below names whatever went wrong.
        except Exception as exc:  # pylint: disable=broad-except
            outcomes[index] = (exc, time.monotonic() - started_at)

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEFAULT_MAX_RETRY_TIME + 60)
    failures = [outcome for outcome in outcomes if outcome is None or outcome[0] != emulator.profile]
    requests = len(emulator.requests_to("/metadata/instance"))
    last = answered_within(emulator)
    report(model, "50 threads", requests, CALLERS - len(failures), last)
    assert not failures, failures[:3]
    assert last <= DEFAULT_MAX_RETRY_TIME
    assert requests <= MAX_REQUESTS
    assert [r.status for r in emulator.requests].count(200) == CALLERS


def test_fifty_hosts_with_fifty_forks_gather_facts(tmp_path, make_emulator):
    """As a new user tried it: 50 local hosts, forks 50, metadata_facts with default options."""
    emulator = make_emulator(rate_limit_model="arrivals")
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[vms]\n" + "".join("vm%02d ansible_connection=local\n" % i for i in range(CALLERS)))
    run = run_playbook(tmp_path, module_play("imds.azure.metadata_facts", hosts="vms"), inventory=str(inventory),
                       env={"AZURE_IMDS_ENDPOINT": emulator.url}, args=["--forks", str(CALLERS)], timeout=600)
    elapsed = answered_within(emulator)
    records = [r for r in run.results if r["task"] == "gather"]
    answered = [r for r in records if r["status"] == "ok"]
    requests = len(emulator.requests_to("/metadata/instance"))
    report("arrivals", "ansible-playbook --forks 50", requests, len(answered), elapsed)
    assert run.rc == 0, run.output
    assert len(answered) == CALLERS
    assert elapsed <= DEFAULT_MAX_RETRY_TIME
    assert requests <= MAX_REQUESTS
