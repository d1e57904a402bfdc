"""Run ansible-playbook / ansible-inventory / ansible the way a user would, and read the results."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from helpers import paths


PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


def module_play(module: str, options: str = "", name: str = "gather", hosts: str = "all",
                ignore_errors: bool = False) -> str:
    """A play with one task: ``module`` with ``options`` (YAML, one option per line)."""
    lines = ["- hosts: %s" % hosts, "  gather_facts: false", "  tasks:", "    - name: %s" % name,
             "      %s:" % module]
    lines += ["        " + line for line in options.strip().splitlines()]
    if ignore_errors:
        lines.append("      ignore_errors: true")
    return "\n".join(lines) + "\n"


class PlaybookRun:
    """The outcome of one ansible-playbook run: return code, output, and the recorded task results."""

    def __init__(self, completed: subprocess.CompletedProcess, results_file: Path) -> None:
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.results = []
        if results_file.exists():
            self.results = [json.loads(line) for line in results_file.read_text().splitlines() if line.strip()]

    def task(self, name: str, host: str | None = None) -> dict:
        """The one recorded result of the task called ``name`` (on ``host``)."""
        matches = [r for r in self.results if r["task"] == name and (host is None or r["host"] == host)]
        if len(matches) != 1:
            raise AssertionError("expected one result for task %r host %r, found %d\n%s"
                                 % (name, host, len(matches), self.output))
        return matches[0]

    @property
    def output(self) -> str:
        return "rc=%s\n--- stdout\n%s\n--- stderr\n%s" % (self.rc, self.stdout, self.stderr)


def base_env(work_dir: Path, extra: dict | None = None) -> dict:
    """Environment for Ansible commands: our collections, our callback, the network guard, no stray config."""
    paths.require_collections()
    env = dict(os.environ)
    config = work_dir / "ansible.cfg"
    if not config.exists():
        config.write_text("[defaults]\n")
    env.update({
        "PATH": "%s:%s" % (paths.VENV_BIN, env.get("PATH", "")),
        "ANSIBLE_CONFIG": str(config),
        "ANSIBLE_COLLECTIONS_PATH": str(paths.COLLECTIONS_PATH),
        "ANSIBLE_CALLBACK_PLUGINS": str(paths.CALLBACK_DIR),
        "ANSIBLE_CALLBACKS_ENABLED": "imds_test_recorder",
        "ANSIBLE_LOCAL_TEMP": str(work_dir / "ansible-local"),
        "ANSIBLE_REMOTE_TEMP": str(work_dir / "ansible-remote"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_PYTHON_INTERPRETER": paths.PYTHON,
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        # An inventory source that fails to parse must fail the command, not just warn.
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1",
        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "1",
        "PYTHONPATH": str(paths.NETGUARD_DIR),
    })
    env.pop("AZURE_IMDS_ENDPOINT", None)
    env.update(extra or {})
    return env


def run_playbook(work_dir: Path, playbook: str, inventory: str | None = None, env: dict | None = None,
                 args: list | None = None, prefix: list | None = None, timeout: float = 300) -> PlaybookRun:
    """Write ``playbook`` (YAML text) into ``work_dir`` and run it; ``prefix`` wraps the command (ip netns exec)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    playbook_file = work_dir / "playbook.yml"
    playbook_file.write_text(playbook)
    if inventory is None:
        local_inventory = work_dir / "localhost.ini"
        local_inventory.write_text("localhost ansible_connection=local\n")
        inventory = str(local_inventory)
    results_file = work_dir / "results.jsonl"
    if results_file.exists():
        results_file.unlink()
    run_env = base_env(work_dir, env)
    run_env["IMDS_TEST_RESULTS"] = str(results_file)
    command = list(prefix or []) + [str(paths.VENV_BIN / "ansible-playbook"), "-i", inventory,
                                    str(playbook_file)] + list(args or [])
    completed = subprocess.run(command, cwd=work_dir, env=run_env, capture_output=True, text=True,
                               timeout=timeout, check=False)
    return PlaybookRun(completed, results_file)


def run_command(work_dir: Path, command: list, env: dict | None = None, timeout: float = 300,
                prefix: list | None = None) -> subprocess.CompletedProcess:
    """Run an Ansible CLI (ansible, ansible-inventory, ...) from the virtualenv with the test environment."""
    work_dir.mkdir(parents=True, exist_ok=True)
    executable = str(paths.VENV_BIN / command[0])
    return subprocess.run(list(prefix or []) + [executable] + list(command[1:]), cwd=work_dir,
                          env=base_env(work_dir, env), capture_output=True, text=True, timeout=timeout, check=False)
