"""Benchmark: the imds.azure.imds inventory plugin beside ansible-core's constructed and a static file.

Builds synthetic jsonfile fact caches (written through ansible-core's own cache plugin) from the
shared sample documents with varied tags, zones and fault domains, then times
``ansible-inventory`` (``--graph``, ``--list``, ``--list --export``) for:

  * imds:        imds.azure.imds alone (default_groups: tag, zone, fault_domain; default host_variables)
  * imds-named:  the same with the fact cache named in the source (fact_cache_plugin...), and none
                 configured for ansible-inventory itself
  * constructed: a static host list + ansible.builtin.constructed making the same groups with
                 keyed_groups over the cached azure_imds fact (it needs the host list to know the hosts)
  * static:      one YAML inventory file holding the very same hosts, groups and variables as the
                 imds run produced: the floor no plugin can beat

Every run but imds-named has the fact cache configured, as a user's would be (constructed needs
it, and plain ``--list`` then prints every host's cached facts, whatever the source). All variants of one size
run in this one process tree, interleaved round by round; the script prints medians, time ratios
against constructed and against the static floor, peak RSS, and checks that the three make the
same tag, zone and fault-domain groups.

    .cache/venv/bin/python tests/bench/bench_inventory.py [--sizes 10000 100000] [--runs 3]
        [--large-runs 1] [--constructed-up-to 10000] [--list-up-to 10000] [--work DIR]

``--work DIR`` keeps the generated caches there and reuses them on the next run.
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
from helpers.inventory import graph_groups  # noqa: E402

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
MODES = {"graph": ["--graph"], "list": ["--list"], "export": ["--list", "--export"]}
GROUP_PREFIXES = ("azure_tag_", "azure_zone_", "azure_fault_domain_")


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
        tags = {"Role": rng.choice(ROLES), "env": rng.choice(ENVIRONMENTS), "Team": rng.choice(TEAMS)}
        compute.update(name="vm%06d" % index, zone=rng.choice(["", "1", "2", "3"]),
                       platformFaultDomain=str(rng.randrange(3)), platformUpdateDomain=str(rng.randrange(5)),
                       tagsList=[{"name": k, "value": v} for k, v in tags.items()],
                       tags=";".join("%s:%s" % kv for kv in tags.items()))
        yield "vm%06d" % index, {"azure_imds": build_fact(document, "2025-04-07")}


def prepare(work: Path, count: int) -> dict:
    """The fact cache and host list of ``count`` hosts (reused when ``work`` already holds them)."""
    facts = work / ("facts-%d" % count)
    env = {"ANSIBLE_CACHE_PLUGIN": "ansible.builtin.jsonfile", "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(facts),
           "ANSIBLE_CACHE_PLUGIN_TIMEOUT": "0"}
    done = work / ("facts-%d.done" % count)
    if not done.exists():
        started = time.perf_counter()
        write_facts(work, env, synthetic_facts(count))
        done.write_text("")
        print("%d hosts: fact cache written in %.0f s" % (count, time.perf_counter() - started), flush=True)
    hosts = work / ("hosts-%d.yml" % count)
    hosts.write_text(json.dumps({"all": {"hosts": {"vm%06d" % i: None for i in range(count)}}}))
    return {"env": env, "hosts": hosts}


def run_inventory(work: Path, env: dict, sources: list, mode: str) -> tuple:
    """(seconds, peak RSS in MiB, output text, CPU seconds) of one ansible-inventory run.

    CPU seconds (user + system) are printed beside wall time: on a machine that others load,
    they are what the run would take alone, give or take its I/O."""
    command = [str(paths.VENV_BIN / "ansible-inventory")]
    for source in sources:
        command += ["-i", str(source)]
    output = work / ("out-%d.txt" % os.getpid())  # two benchmarks may share a --work directory
    command += MODES[mode] + ["--output", str(output)]
    run_env = base_env(work, env)
    run_env.pop("PYTHONPATH", None)  # the test-suite network guard is not part of what we measure
    start = time.perf_counter()
    process = subprocess.Popen(command, env=run_env, cwd=work,  # pylint: disable=consider-using-with
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = process.stderr.read().decode()
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("ansible-inventory failed: %s" % stderr)
    return elapsed, usage.ru_maxrss / 1024.0, output.read_text(), usage.ru_utime + usage.ru_stime


def group_members(listing: dict) -> dict:
    return {name: sorted(body.get("hosts", [])) for name, body in listing.items()
            if name.startswith(GROUP_PREFIXES) and body.get("hosts")}


def graph_members(graph: str) -> dict:
    """Group -> hosts of the wanted families, from ``--graph`` text."""
    return {name: hosts for name, hosts in graph_groups(graph).items() if name.startswith(GROUP_PREFIXES)}


def static_inventory(work: Path, export: dict, count: int) -> Path:
    """A YAML (JSON) inventory file with the hosts, groups and host variables of an --export listing."""
    hostvars = export["_meta"]["hostvars"]
    children = {}
    for name, body in export.items():
        if name in ("_meta", "all", "ungrouped") or not body.get("hosts"):
            continue
        children[name] = {"hosts": {host: None for host in body["hosts"]}}
    all_hosts = {host: _plain(variables) for host, variables in hostvars.items()}
    path = work / ("static-%d.yml" % count)
    path.write_text(json.dumps({"all": {"hosts": all_hosts, "children": children}}))
    return path


def _plain(value):
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def measure(work: Path, count: int, args, configs: dict) -> dict:
    setup = prepare(work, count)
    large = count > min(args.sizes)
    runs = args.large_runs if large else args.runs
    export_text = run_inventory(work, setup["env"], [configs["imds"]], "export")[2]
    static = static_inventory(work, json.loads(export_text), count)
    named = configs["imds"].parent / "named.imds.yml"
    named.write_text(IMDS_CONFIG + "fact_cache_plugin: ansible.builtin.jsonfile\nfact_cache_connection: %s\n"
                     "fact_cache_timeout: 0\n" % setup["env"]["ANSIBLE_CACHE_PLUGIN_CONNECTION"])
    variants = {"imds": [configs["imds"]], "imds-named": [named], "static": [static]}
    # imds-named: the cache named in the source, ansible-inventory itself with none (the memory cache).
    no_cache = dict(setup["env"], ANSIBLE_CACHE_PLUGIN="memory")
    if count <= args.constructed_up_to:
        variants["constructed"] = [setup["hosts"], configs["constructed"]]
    modes = ["graph", "export"] + (["list"] if count <= args.list_up_to else [])
    results, groups = {}, {}
    for _round in range(runs):
        for mode in modes:
            for variant, sources in variants.items():
                env = no_cache if variant == "imds-named" else setup["env"]
                seconds, rss, text, cpu = run_inventory(work, env, sources, mode)
                results.setdefault((variant, mode), []).append((seconds, rss, cpu))
                if mode == "graph":
                    groups[variant] = graph_members(text)
    report(count, results, groups, modes)
    if not large and args.variable_costs:
        variable_costs(work, setup["env"], configs["imds"].parent, runs)
    return results


VARIABLE_SETS = ["[]", "[flat]", "[tags]", "[flat, tags]", "[flat, tags, instance]"]


def variable_costs(work: Path, env: dict, configs: Path, runs: int) -> None:
    """What each host_variables set adds to an AWX-style --list --export."""
    samples = {}
    for _round in range(runs):
        for index, sets in enumerate(VARIABLE_SETS):
            config = configs / ("vars%d.imds.yml" % index)
            config.write_text(IMDS_CONFIG + "host_variables: %s\n" % sets)
            seconds, rss, text, cpu = run_inventory(work, env, [config], "export")
            samples.setdefault(sets, []).append((seconds, rss, cpu, len(text.encode())))
    print("  host_variables cost in --list --export (median; each vs host_variables: [])")
    print("  %-24s %9s %9s %10s %11s %11s" % ("host_variables", "seconds", "CPU s", "peak MiB", "+CPU s", "+output MB"))
    base = None
    for sets in VARIABLE_SETS:
        seconds = statistics.median(s[0] for s in samples[sets])
        cpu = statistics.median(s[2] for s in samples[sets])
        peak = max(s[1] for s in samples[sets])
        size = samples[sets][0][3] / 1e6
        base = base or (cpu, size)
        print("  %-24s %9.2f %9.2f %10.0f %11.2f %11.1f" % (sets, seconds, cpu, peak, cpu - base[0], size - base[1]))


def report(count: int, results: dict, groups: dict, modes: list) -> None:
    print("\n%d hosts (median of %d; peak RSS is the largest of the runs; load average %.1f)" % (
        count, len(next(iter(results.values()))), os.getloadavg()[0]))
    print("  %-12s %-8s %9s %9s %10s %13s %9s %13s" % (
        "variant", "mode", "seconds", "CPU s", "peak MiB", "/constructed", "/static", "CPU/constr."))
    medians = {key: statistics.median(r[0] for r in runs) for key, runs in results.items()}
    cpu_medians = {key: statistics.median(r[2] for r in runs) for key, runs in results.items()}
    for mode in modes:
        for variant in ("imds", "imds-named", "constructed", "static"):
            if (variant, mode) not in results:
                continue
            seconds, cpu = medians[(variant, mode)], cpu_medians[(variant, mode)]
            peak = max(r[1] for r in results[(variant, mode)])
            versus, cpu_versus = medians.get(("constructed", mode)), cpu_medians.get(("constructed", mode))
            floor = medians[("static", mode)]
            print("  %-12s %-8s %9.2f %9.2f %10.0f %13s %9.2f %13s" % (
                variant, mode, seconds, cpu, peak, "%.3f" % (seconds / versus) if versus else "-", seconds / floor,
                "%.3f" % (cpu / cpu_versus) if cpu_versus else "-"))
    reference = groups.get("imds", {})
    for variant, members in groups.items():
        print("  same tag/zone/fault-domain groups as imds: %-12s %s (%d groups)"
              % (variant, members == reference, len(members)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--runs", type=int, default=3, help="rounds at the smallest size")
    parser.add_argument("--large-runs", type=int, default=1, help="rounds at the larger sizes")
    parser.add_argument("--constructed-up-to", type=int, default=10000, help="run constructed up to this size")
    parser.add_argument("--list-up-to", type=int, default=10000,
                        help="time plain --list (which prints every cached fact) up to this size")
    parser.add_argument("--work", type=Path, help="keep (and reuse) the generated caches here")
    parser.add_argument("--no-variable-costs", dest="variable_costs", action="store_false",
                        help="skip the per-host_variables-set cost table at the smallest size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="imds-bench-") as temporary:
        work = args.work or Path(temporary)
        configs = work / ("configs-%d" % os.getpid())
        configs.mkdir(parents=True, exist_ok=True)
        imds_config = configs / "azure.imds.yml"
        imds_config.write_text(IMDS_CONFIG)
        constructed_config = configs / "constructed.yml"
        constructed_config.write_text(CONSTRUCTED_CONFIG)
        for count in sorted(args.sizes):
            measure(work, count, args, {"imds": imds_config, "constructed": constructed_config})
    return 0


if __name__ == "__main__":
    sys.exit(main())
