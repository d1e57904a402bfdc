"""Benchmark: the imds.azure.imds inventory plugin against ansible-core's constructed.

Builds synthetic jsonfile fact caches (written through ansible-core's own cache plugin) from
the shared sample documents with varied tags, zones and fault/update domains, then times
``ansible-inventory --list`` with:

  * imds:        a static host list + imds.azure.imds (default_groups: tag, zone, fault_domain)
  * constructed: the same host list + ansible.builtin.constructed making the same groups
                 with keyed_groups over the cached azure_imds fact

Both run in this one process tree, alternating, and the script prints medians, the ratio
imds/constructed (goal at 10,000 hosts: at most 0.5), peak memory, and how the plugin's peak
memory grows from the smaller to the larger cache (linear: about the ratio of host counts).

    .cache/venv/bin/python tests/bench/bench_inventory.py [--sizes 10000 100000] [--compare-at 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS), str(TESTS.parent / ".cache" / "collections")]

# pylint: disable=wrong-import-position
from ansible_collections.imds.azure.plugins.module_utils._facts import build_fact  # noqa: E402
from helpers import paths  # noqa: E402
from helpers.ansible_runner import base_env  # noqa: E402
from helpers.fact_cache import write_facts  # noqa: E402

ROLES = ["web", "db", "cache", "batch", "gateway"]
ENVIRONMENTS = ["prod", "staging", "dev"]
TEAMS = ["blue", "green", "red", "gold"]

IMDS_CONFIG = "plugin: imds.azure.imds\ndefault_groups: [tag, zone, fault_domain]\n"
CONSTRUCTED_CONFIG = """plugin: ansible.builtin.constructed
strict: false
keyed_groups:
  - key: azure_imds.tags
    prefix: azure_tag
  - key: azure_imds.tags.keys() | list
    prefix: azure_tag
  - key: azure_imds.compute.zone
    prefix: azure_zone
    default_value: none
  - key: azure_imds.compute.platformFaultDomain
    prefix: azure_fault_domain
"""


def sample_documents() -> list:
    documents = []
    for folder in (paths.SAMPLES, paths.FIELD_SAMPLES):
        for path in sorted(folder.glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and "compute" in data and "network" in data:
                documents.append(data)
    return documents


def synthetic_facts(count: int, seed: int = 7):
    rng = random.Random(seed)
    documents = sample_documents()
    for index in range(count):
        document = json.loads(json.dumps(documents[index % len(documents)]))
        compute = document["compute"]
        tags = {"role": rng.choice(ROLES), "env": rng.choice(ENVIRONMENTS), "team": rng.choice(TEAMS)}
        compute.update(name="vm%06d" % index, zone=rng.choice(["", "1", "2", "3"]),
                       platformFaultDomain=str(rng.randrange(3)), platformUpdateDomain=str(rng.randrange(5)),
                       tagsList=[{"name": k, "value": v} for k, v in tags.items()],
                       tags=";".join("%s:%s" % kv for kv in tags.items()))
        yield "vm%06d" % index, {"azure_imds": build_fact(document, "2025-04-07")}


def prepare(work: Path, count: int) -> dict:
    facts = work / ("facts-%d" % count)
    env = {"ANSIBLE_CACHE_PLUGIN": "ansible.builtin.jsonfile", "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(facts),
           "ANSIBLE_CACHE_PLUGIN_TIMEOUT": "0"}
    write_facts(work, env, synthetic_facts(count))
    hosts = work / ("hosts-%d.yml" % count)
    hosts.write_text(json.dumps({"all": {"hosts": {"vm%06d" % i: None for i in range(count)}}}))
    return {"env": env, "hosts": hosts}


def timed_inventory(work: Path, env: dict, sources: list) -> tuple:
    """(seconds, peak RSS in MiB, parsed output) of one ansible-inventory --list."""
    command = [str(paths.VENV_BIN / "ansible-inventory")]
    for source in sources:
        command += ["-i", str(source)]
    output = work / "out.json"
    command += ["--list", "--output", str(output)]
    run_env = base_env(work, env)
    run_env.pop("PYTHONPATH", None)  # the test-suite network guard is not part of what we measure
    start = time.perf_counter()
    process = subprocess.Popen(command, env=run_env, cwd=work,  # pylint: disable=consider-using-with
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    stderr = process.stderr.read().decode()
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("ansible-inventory failed: %s" % stderr)
    return elapsed, usage.ru_maxrss / 1024.0, json.loads(output.read_text())


def group_members(listing: dict) -> dict:
    wanted = ("azure_tag_", "azure_zone_", "azure_fault_domain_")
    return {name: sorted(body.get("hosts", [])) for name, body in listing.items()
            if name.startswith(wanted) and body.get("hosts")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--compare-at", type=int, default=10000, help="0: do not run constructed")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="imds-bench-") as temporary:
        work = Path(temporary)
        configs = work / "configs"
        configs.mkdir()
        imds_config = configs / "azure.imds.yml"
        imds_config.write_text(IMDS_CONFIG)
        constructed_config = configs / "constructed.yml"
        constructed_config.write_text(CONSTRUCTED_CONFIG)
        peaks = {}
        for count in sorted(set(args.sizes) | ({args.compare_at} if args.compare_at else set())):
            started = time.perf_counter()
            setup = prepare(work, count)
            print("%d hosts: fact cache written in %.0f s" % (count, time.perf_counter() - started), flush=True)
            ours, theirs = [], []
            for _run in range(args.runs):
                seconds, rss, listing = timed_inventory(work, setup["env"], [setup["hosts"], imds_config])
                ours.append((seconds, rss))
                if count == args.compare_at:
                    c_seconds, c_rss, c_listing = timed_inventory(work, setup["env"],
                                                                  [setup["hosts"], constructed_config])
                    theirs.append((c_seconds, c_rss))
            peaks[count] = max(rss for _s, rss in ours)
            ours_median = statistics.median(s for s, _r in ours)
            print("  imds.azure.imds: median %.2f s, peak %.0f MiB" % (ours_median, peaks[count]))
            if theirs:
                same = group_members(listing) == group_members(c_listing)
                theirs_median = statistics.median(s for s, _r in theirs)
                print("  constructed:     median %.2f s, peak %.0f MiB" % (theirs_median, max(r for _s, r in theirs)))
                print("  same tag/zone/fault-domain groups: %s (%d groups)" % (same, len(group_members(listing))))
                print("  time ratio imds/constructed at %d hosts: %.3f (goal <= 0.5)" % (count, ours_median / theirs_median))
        sizes = sorted(peaks)
        if len(sizes) >= 2:
            small, large = sizes[0], sizes[-1]
            print("peak memory growth %d -> %d hosts: x%.2f for x%.1f hosts (%.1f KiB per host at %d)" % (
                small, large, peaks[large] / peaks[small], large / small,
                (peaks[large] - peaks[small]) * 1024 / (large - small), large))
    return 0


if __name__ == "__main__":
    sys.exit(main())
