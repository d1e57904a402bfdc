"""Benchmark: how long imds.azure.metadata_facts takes to fail on a host that cannot reach IMDS.

Two cases, against loopback only: a refused connection (a port nothing listens on) and a hanging
endpoint (the emulator accepts the request and never answers). Each runs ``--runs`` times, with the
default options and with the fail-fast settings the IMDS guide gives for mixed fleets. Prints, per case,
the attempts of the failed task and the median and longest task duration (the retry waits are random,
so the longest of a few runs is near, not at, the worst case the guide states), after the same figures
for ansible.builtin.ping: the cost of any module run on this machine.

    .cache/venv/bin/python tests/bench/bench_unreachable.py [--runs 3] [--cases refused,hang]

Compare a branch with main by running it in both worktrees.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "netguard")]

# pylint: disable=wrong-import-position
import imds_netguard  # noqa: E402,F401  pylint: disable=unused-import
from azure_imds_emulator.server import ImdsEmulator  # noqa: E402
from helpers.ansible_runner import module_play, run_playbook  # noqa: E402
from helpers.ports import free_port  # noqa: E402

SETTINGS = {
    "default": "",
    "fail-fast": "timeout: 2\nmax_retry_time: 0",
}


def one_run(work: Path, url: str, options: str) -> tuple:
    run = run_playbook(work, module_play("imds.azure.metadata_facts", options, ignore_errors=True),
                       env={"AZURE_IMDS_ENDPOINT": url})
    task = run.task("gather")
    if task["status"] != "failed":
        raise SystemExit("the gather task did not fail:\n" + run.output)
    return task["result"]["attempts"], task["duration"]


def measure(case: str, setting: str, runs: int, work: Path) -> None:
    attempts, durations = [], []
    for index in range(runs):
        if case == "refused":
            url = "http://127.0.0.1:%d" % free_port()
            result = one_run(work / ("%s-%s-%d" % (case, setting, index)), url, SETTINGS[setting])
        else:
            with ImdsEmulator() as emulator:
                emulator.add_fault("kind=hang")
                result = one_run(work / ("%s-%s-%d" % (case, setting, index)), emulator.url, SETTINGS[setting])
        attempts.append(result[0])
        durations.append(result[1])
    print("%-8s %-9s attempts %-10s median %5.1f s  longest %5.1f s" % (
        case, setting, ",".join(str(a) for a in sorted(set(attempts))), statistics.median(durations),
        max(durations)))


def ping_baseline(runs: int, work: Path) -> None:
    """What any one-task module run costs on this machine: the part of the figures above that is not IMDS."""
    durations = []
    for index in range(runs):
        run = run_playbook(work / ("ping-%d" % index), module_play("ansible.builtin.ping"))
        durations.append(run.task("gather")["duration"])
    print("%-8s %-9s %-19s median %5.1f s  longest %5.1f s" % ("ping", "-", "", statistics.median(durations),
                                                               max(durations)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cases", default="refused,hang")
    parser.add_argument("--settings", default="default,fail-fast")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-unreachable-") as work:
        ping_baseline(args.runs, Path(work))
        for case in args.cases.split(","):
            for setting in args.settings.split(","):
                measure(case, setting, args.runs, Path(work))


if __name__ == "__main__":
    main()
