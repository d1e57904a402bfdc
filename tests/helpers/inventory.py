"""Helpers for the inventory plugin tests: plugin config files and ansible-inventory --list output."""

from __future__ import annotations

import json

from helpers.ansible_runner import run_command


def write_config(directory, text: str = "plugin: imds.azure.imds\n", name: str = "azure.imds.yml"):
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / name
    config.write_text(text)
    return config


def inventory_list(tmp_path, sources: list, env: dict, extra: list | None = None) -> tuple:
    """(parsed --list output, stderr) of ansible-inventory over ``sources``."""
    args = ["ansible-inventory"]
    for source in sources:
        args += ["-i", str(source)]
    completed = run_command(tmp_path / "inventory-run", args + ["--list"] + list(extra or []), env=env)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return json.loads(completed.stdout), completed.stderr


def plain(value):
    """ansible-inventory --list writes untrusted strings as {"__ansible_unsafe": ...}; unwrap them."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def members(listing: dict, group: str) -> set:
    return set(listing.get(group, {}).get("hosts", []))
