"""The guide "Test off Azure": its Molecule scenario, from the page's blocks as written, run with
``molecule test`` (the emulator it starts is the installed azure-imds-emulator command), and its CI
snippets checked against that scenario."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import yaml
from helpers import paths
from helpers.guide import guide_block

GUIDE = paths.ROOT / "docs" / "docsite" / "rst" / "guide_test_off_azure.rst"
SCENARIO = "off_azure"
# label of the block -> the file it is, under molecule/off_azure/ (the page names each one so).
FILES = {
    "toa_molecule_yml": "molecule.yml",
    "toa_emulator_yml": "emulator.yml",
    "toa_inventory": "inventory/azure.imds.yml",
    "toa_group_vars": "inventory/group_vars/all.yml",
    "toa_create": "create.yml",
    "toa_converge": "converge.yml",
    "toa_verify": "verify.yml",
    "toa_destroy": "destroy.yml",
}


def write_scenario(project) -> None:
    text = GUIDE.read_text(encoding="utf-8")
    for label, name in FILES.items():
        assert "``molecule/%s/%s``" % (SCENARIO, name) in text, "the guide no longer names %s" % name
        path = project / "molecule" / SCENARIO / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(guide_block(GUIDE, label))


def stop_left_over_emulators(home) -> None:
    """If destroy did not run, stop the emulator create.yml started, by the PID it printed."""
    for state in home.glob(".ansible/tmp/*/emulator.json"):
        try:
            os.kill(json.loads(state.read_text())["pid"], signal.SIGTERM)
        except (ValueError, KeyError, ProcessLookupError):
            pass


def test_the_guides_molecule_scenario_runs_as_written(tmp_path):
    project, home = tmp_path / "project", tmp_path / "home"
    home.mkdir()
    write_scenario(project)
    env = dict(os.environ, HOME=str(home), PATH="%s:%s" % (paths.VENV_BIN, os.environ["PATH"]),
               ANSIBLE_COLLECTIONS_PATH=str(paths.COLLECTIONS_PATH), ANSIBLE_FORCE_COLOR="0", NO_COLOR="1",
               PYTHONPATH=str(paths.NETGUARD_DIR))  # the guard's log comes with os.environ
    try:
        completed = subprocess.run(["molecule", "test", "-s", SCENARIO], cwd=project, env=env, capture_output=True,
                                   text=True, timeout=600, check=False)
    finally:
        stop_left_over_emulators(home)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-6000:]
    assert '"msg": "web-1: zone 2, tags {\'role\': \'web\', \'env\': \'staging\'}"' in output, output[-6000:]
    assert "Draining web-1: evicted not before" in output
    assert "TASK [Approve the eviction, so that it starts now]" in output and "changed: [web-1]" in output
    assert "converge: Executed: Successful" in output and "verify: Executed: Successful" in output
    assert not list(home.glob(".ansible/tmp/*/emulator.json")), "destroy.yml left the emulator's state behind"


def test_the_ci_snippets_run_that_scenario():
    github = yaml.safe_load(guide_block(GUIDE, "toa_github"))
    gitlab = yaml.safe_load(guide_block(GUIDE, "toa_gitlab"))
    runs = [step["run"] for step in github["jobs"]["molecule"]["steps"] if "run" in step]
    for commands in (runs, gitlab["off-azure"]["script"]):
        assert commands[-1] == "molecule test -s %s" % SCENARIO
        [install] = [c for c in commands if c.startswith("pip install")]
        assert "ansible-core" in install and "molecule" in install and "/emulator[yaml]" in install
        assert "ansible-galaxy collection install imds.azure" in commands
    # the scenario's config is YAML: the snippets install the [yaml] extra, which pyproject.toml declares
    assert "yaml" in (paths.ROOT / "emulator" / "pyproject.toml").read_text()
