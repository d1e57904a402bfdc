"""Benchmark: imds.azure.metadata_facts on a Linux host against ansible.builtin.ping and ansible.builtin.uri.

All three run in ONE play, interleaved in rotating order (ping, facts, uri; facts, uri, ping; ...),
against the emulator on loopback, so machine noise hits them alike. Prints the HTTP requests of one
metadata_facts run (must be 1), the medians, and the ratios:

- median(metadata_facts) / median(ping): goal at most 1.10 (issue 8: Linux facts must not get slower
  because of the Windows path);
- median(metadata_facts) / median(uri fetching the same document): goal at most 1.0.

    .cache/venv/bin/python tests/bench/bench_facts.py [--rounds 30] [--profile]

``--profile`` also times the module process alone (the AnsiballZ payload run directly with Python, as
the host runs it) for ping and metadata_facts, to tell host-side time from controller-side time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "netguard")]

# pylint: disable=wrong-import-position
import imds_netguard  # noqa: E402
from azure_imds_emulator.server import ImdsEmulator  # noqa: E402
from helpers.ansible_runner import base_env, run_command, run_playbook  # noqa: E402

TASKS = {
    "ping": """    - name: ping {index}
      ansible.builtin.ping:
""",
    "facts": """    - name: facts {index}
      imds.azure.metadata_facts:
""",
    "uri": """    - name: uri {index}
      ansible.builtin.uri:
        url: "{url}/metadata/instance?api-version=2025-04-07&format=json"
        headers:
          Metadata: "true"
        use_proxy: false
        return_content: true
""",
}
KINDS = ("ping", "facts", "uri")


def playbook(url: str, rounds: int, kinds: tuple = KINDS) -> str:
    tasks = []
    for index in range(rounds):
        order = kinds[index % len(kinds):] + kinds[:index % len(kinds)]
        tasks.extend(TASKS[kind].format(index=index, url=url) for kind in order)
    return "- hosts: all\n  gather_facts: false\n  tasks:\n" + "".join(tasks)


def medians(run) -> dict:
    """Median duration per kind; the first of each kind pays for cold caches and is left out."""
    found = {}
    for kind in KINDS:
        durations = [r["duration"] for r in run.results if r["task"].startswith(kind + " ")]
        found[kind] = statistics.median(durations[1:])
    return found


def module_process_times(work: Path, env: dict, rounds: int) -> dict:
    """Median wall time of the module process alone (python AnsiballZ_<module>.py), per module."""
    remote = work / "remote"
    times = {}
    for module, args in (("ansible.builtin.ping", ""), ("imds.azure.metadata_facts", "")):
        keep = dict(env, ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TEMP=str(remote))
        completed = run_command(work / "adhoc", ["ansible", "all", "-i", "localhost,", "-c", "local", "-m", module, "-a", args],
                                env=keep)
        if completed.returncode != 0:
            raise RuntimeError(completed.stdout + completed.stderr)
        payload = sorted(remote.rglob("AnsiballZ_%s.py" % module.rsplit(".", maxsplit=1)[-1]), key=os.path.getmtime)[-1]
        run_env = base_env(work, env)
        samples = []
        for _round in range(rounds):
            started = time.perf_counter()
            subprocess.run([sys.executable, str(payload)], env=run_env, capture_output=True, check=True)
            samples.append(time.perf_counter() - started)
        times[module] = (statistics.median(samples), payload.stat().st_size)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    imds_netguard.install()
    with ImdsEmulator(rate_limit=None) as emulator, tempfile.TemporaryDirectory() as work:
        env = {"AZURE_IMDS_ENDPOINT": emulator.url}
        single = run_playbook(Path(work) / "single", playbook(emulator.url, 1, ("facts",)), env=env)
        if single.rc != 0:
            print(single.output)
            return 1
        requests_per_run = len(emulator.requests)

        run = run_playbook(Path(work) / "timed", playbook(emulator.url, args.rounds), env=env)
        if run.rc != 0:
            print(run.output)
            return 1
        found = medians(run)
        if args.profile:
            processes = module_process_times(Path(work) / "profile", env, args.rounds)
    print("HTTP requests per metadata_facts run: %d (must be 1)" % requests_per_run)
    print("rounds: %d; median ping %.1f ms, metadata_facts %.1f ms, uri %.1f ms" % (
        args.rounds, found["ping"] * 1000, found["facts"] * 1000, found["uri"] * 1000))
    print("median(metadata_facts) / median(ping) = %.3f (goal <= 1.10)" % (found["facts"] / found["ping"]))
    print("median(metadata_facts) / median(uri) = %.3f (goal <= 1.0)" % (found["facts"] / found["uri"]))
    if args.profile:
        for module, (seconds, size) in processes.items():
            print("module process alone: %s %.1f ms (AnsiballZ payload %d bytes)" % (module, seconds * 1000, size))
        host_extra = processes["imds.azure.metadata_facts"][0] - processes["ansible.builtin.ping"][0]
        print("of the %.1f ms metadata_facts takes beyond ping, %.1f ms are in the module process" % (
            (found["facts"] - found["ping"]) * 1000, host_extra * 1000))
    return 0 if requests_per_run == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
