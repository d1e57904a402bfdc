"""Messages a new user meets (issue 22): each names the real problem, once."""

from __future__ import annotations

import re

from helpers.ansible_runner import run_command


def test_a_missing_paths_folder_is_named_once(tmp_path):
    missing = tmp_path / "imds-facts"
    config = tmp_path / "azure.imds.yml"
    config.write_text("plugin: imds.azure.imds\nuse_fact_cache: false\npaths: [%s]\n" % missing)
    completed = run_command(tmp_path, ["ansible-inventory", "-i", str(config), "--graph"])
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0, output
    sentences = [line for line in output.splitlines() if "paths entry" in line]
    assert sentences, output
    for line in sentences:
        assert line.count(str(missing)) == 1 and line.count("paths entry") == 1, line
        assert "does not exist" in line and "imds.azure.save_facts -e imds_facts_dir=<that path>" in line
    assert not re.search(r"(paths entry .{10,}?)\1", output)
