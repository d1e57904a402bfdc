"""What a new user meets first (issue 22): messages that name the real problem once, and working doc links."""

from __future__ import annotations

import json
import re

from helpers import paths
from helpers.ansible_runner import run_command
from helpers.inventory import Said


def test_a_missing_paths_folder_is_named_once(tmp_path):
    missing = tmp_path / "imds-facts"
    config = tmp_path / "azure.imds.yml"
    config.write_text("plugin: imds.azure.imds\nuse_fact_cache: false\npaths: [%s]\n" % missing)
    completed = run_command(tmp_path, ["ansible-inventory", "-i", str(config), "--graph"])
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0, output
    said = Said(output)  # ansible-core 2.16-2.18 wrap the error at the terminal width, inside the path too
    # Each sentence about the entry names its path once (2.19 repeats the whole error under "caused by").
    assert said.count("paths entry") >= 1 and said.count(str(missing)) == said.count("paths entry"), output
    assert "does not exist" in said and "imds.azure.save_facts -e imds_facts_dir=<that path>" in said, output
    assert not re.search(r"(paths entry .{10,}?)\1", output)


def test_see_also_has_no_dead_search_link(tmp_path):
    """ansible-doc renders a seealso ``ref:`` as a docs.ansible.com search for a label only this collection's
    docsite knows: a dead link. The guides are linked from the notes (R()), Microsoft's pages by URL."""
    completed = run_command(tmp_path, ["ansible-doc", "imds.azure.scheduled_events", "imds.azure.gather_facts"])
    assert completed.returncode == 0, completed.stderr
    assert "stq=" not in completed.stdout and "#stq" not in completed.stdout
    see_also = Said(completed.stdout.split("SEE ALSO")[1])  # ansible-doc 2.16 wraps long URLs
    for link in ("https://learn.microsoft.com/azure/virtual-machines/linux/scheduled-events",
                 "https://learn.microsoft.com/azure/virtual-machines/windows/scheduled-events"):
        assert link in see_also


VOCABULARY = paths.ROOT / "docs" / "docsite" / "rst" / "guide_vocabulary.rst"
INVENTORY_VARIABLES = ("azure_location", "azure_zone", "azure_fault_domain", "azure_update_domain", "azure_tags",
                       "azure_instance")


def test_the_vocabulary_page_names_every_return_value_and_host_variable(tmp_path):
    """The one-page table cannot drift: every documented return value (and scheduled event field) is in it."""
    modules = ["imds.azure.%s" % name for name in ("scheduled_events", "identity_token", "attestation_info",
                                                   "metadata_info")]
    completed = run_command(tmp_path, ["ansible-doc", "--json"] + modules)
    assert completed.returncode == 0, completed.stderr
    page = VOCABULARY.read_text(encoding="utf-8")
    names = set(INVENTORY_VARIABLES)
    for doc in json.loads(completed.stdout).values():
        names.update(doc["return"])
        names.update(doc["return"].get("events", {}).get("contains", {}))
    assert names - {"events"}
    missing = sorted(name for name in names if "``%s" % name not in page)
    assert not missing, "guide_vocabulary.rst does not name: %s" % ", ".join(missing)
