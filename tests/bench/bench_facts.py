"""Benchmark: imds.azure.metadata_facts against ansible.builtin.uri fetching the same document.

Both run in ONE play, interleaved (uri, facts, facts, uri, ...), against the emulator on
loopback, so machine noise hits both alike. Prints the HTTP requests of one metadata_facts
run (must be 1) and median(metadata_facts) / median(uri) (goal: at most 1.0).

    .cache/venv/bin/python tests/bench/bench_facts.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "netguard")]

# pylint: disable=wrong-import-position
import imds_netguard  # noqa: E402
from emulator.server import ImdsEmulator  # noqa: E402
from helpers.ansible_runner import run_playbook  # noqa: E402

URI_TASK = """    - name: uri {index}
      ansible.builtin.uri:
        url: "{url}/metadata/instance?api-version=2025-04-07&format=json"
        headers:
          Metadata: "true"
        use_proxy: false
        return_content: true
"""
FACTS_TASK = """    - name: facts {index}
      imds.azure.metadata_facts:
"""


def playbook(url: str, rounds: int) -> str:
    tasks = []
    for index in range(rounds):
        pair = [URI_TASK.format(index=index, url=url), FACTS_TASK.format(index=index)]
        tasks.extend(pair if index % 2 == 0 else reversed(pair))
    return "- hosts: all\n  gather_facts: false\n  tasks:\n" + "".join(tasks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    imds_netguard.install()
    with ImdsEmulator(rate_limit=None) as emulator, tempfile.TemporaryDirectory() as work:
        env = {"AZURE_IMDS_ENDPOINT": emulator.url}
        single = run_playbook(Path(work) / "single", playbook(emulator.url, 1).replace(
            URI_TASK.format(index=0, url=emulator.url), ""), env=env)
        if single.rc != 0:
            print(single.output)
            return 1
        requests_per_run = len(emulator.requests)

        run = run_playbook(Path(work) / "timed", playbook(emulator.url, args.rounds), env=env)
        if run.rc != 0:
            print(run.output)
            return 1
    uri = [r["duration"] for r in run.results if r["task"].startswith("uri ")]
    facts = [r["duration"] for r in run.results if r["task"].startswith("facts ")]
    # The first of each kind pays for cold caches; leave it out.
    uri_median, facts_median = statistics.median(uri[1:]), statistics.median(facts[1:])
    ratio = facts_median / uri_median
    print("HTTP requests per metadata_facts run: %d (must be 1)" % requests_per_run)
    print("rounds: %d; median uri %.1f ms, median metadata_facts %.1f ms" % (
        args.rounds, uri_median * 1000, facts_median * 1000))
    print("median(metadata_facts) / median(uri) = %.3f (goal <= 1.0)" % ratio)
    return 0 if requests_per_run == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
