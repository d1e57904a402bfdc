"""Write fact-cache entries exactly as ansible-core does, through the configured cache plugin.

Used to build synthetic fact caches quickly (tests, benchmark); the end-to-end tests gather
real facts with metadata_facts instead.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from ansible.release import __version__ as ANSIBLE_VERSION
from ansible_collections.imds.azure.plugins.module_utils._facts import build_fact
from helpers import paths
from helpers.ansible_runner import base_env

# ansible-core 2.19 on writes the "payload" layout (key s1_<host>, {"__payload__": "<facts JSON>"});
# earlier lines the "plain" one (key <host>, the facts themselves).
PAYLOAD_LAYOUT = tuple(int(p) for p in ANSIBLE_VERSION.split(".")[:2]) >= (2, 19)
LAYOUT = "payload" if PAYLOAD_LAYOUT else "plain"


def jsonfile_env(directory) -> dict:
    """The environment of a jsonfile fact cache in ``directory``."""
    return {"ANSIBLE_CACHE_PLUGIN": "ansible.builtin.jsonfile", "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(directory)}


def cached(document: dict) -> dict:
    """What metadata_facts leaves in the fact cache for one VM whose IMDS answers ``document``."""
    return {"azure_imds": build_fact(document, "2025-04-07"), "discovered_interpreter_python": "/usr/bin/python3"}


def cache_key(host: str, layout: str = LAYOUT) -> str:
    """The key (jsonfile: the file name, without fact_caching_prefix) of ``host`` in ``layout``."""
    return "s1_" + host if layout == "payload" else host


def entry_text(facts, layout: str = LAYOUT) -> str:
    """A jsonfile entry holding ``facts`` in ``layout``, as that ansible-core line writes it."""
    if layout == "payload":
        return json.dumps({"__payload__": json.dumps(facts)})
    return json.dumps(_with_unsafe_markers(facts), sort_keys=True, indent=4)


def _with_unsafe_markers(value):
    """ansible-core before 2.19 caches facts from modules as unsafe: each string as {"__ansible_unsafe": s}.

    Without recursion, so a hostile 600-deep fact can be written in the older layout too.
    """
    root = [value]
    stack = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, dict):
            copy = dict(item)
            stack.extend((copy, name) for name in copy)
        elif isinstance(item, list):
            copy = list(item)
            stack.extend((copy, index) for index in range(len(copy)))
        else:
            copy = {"__ansible_unsafe": item} if isinstance(item, str) else item
        container[key] = copy
    return root[0]


_WRITER = """
import json, sys
from ansible import constants as C
from ansible.plugins.loader import cache_loader, init_plugin_loader
init_plugin_loader()
cache = cache_loader.get(C.CACHE_PLUGIN)
with open(sys.argv[1], encoding="utf-8") as handle:
    for line in handle:
        host, facts = json.loads(line)
        cache.set(host, facts)
"""


# ansible-core 2.19's file caches leave one descriptor open per set() (mkstemp's handle is never
# closed), so one writer process stops at the open-files limit: write in batches.
BATCH = 4000


def write_facts(work_dir: Path, env: dict, facts_by_host) -> None:
    """``facts_by_host``: iterable of (host, facts dict) - what a gathering run would cache."""
    work_dir.mkdir(parents=True, exist_ok=True)
    batch = []
    for item in facts_by_host:
        batch.append(item)
        if len(batch) == BATCH:
            _write_batch(work_dir, env, batch)
            batch = []
    if batch:
        _write_batch(work_dir, env, batch)


def _write_batch(work_dir: Path, env: dict, batch: list) -> None:
    with tempfile.NamedTemporaryFile("w", dir=work_dir, suffix=".jsonl", delete=False, encoding="utf-8") as feed:
        for host, facts in batch:
            feed.write(json.dumps([host, facts]) + "\n")
    try:
        completed = subprocess.run([paths.PYTHON, "-c", _WRITER, feed.name], env=base_env(work_dir, env),
                                   check=False, capture_output=True, text=True)
        if completed.returncode != 0:
            raise RuntimeError("writing the fact cache failed: %s" % completed.stderr)
    finally:
        Path(feed.name).unlink()


if __name__ == "__main__":
    sys.exit("import this module")
