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


# Until meta/runtime.yml's requires_ansible covers the line under test, ansible-core says so once.
_VERSION_NOTICE = "does not support Ansible version"


def warnings_in(stderr: str) -> list:
    """The [WARNING] messages in ``stderr`` (whitespace flattened), without the collection-version notice."""
    flat = " ".join(stderr.split())
    return [w.strip() for w in flat.split("[WARNING]:")[1:] if _VERSION_NOTICE not in w]


class Said:
    """What a command printed, to look for messages in: ansible-core wraps warnings at the terminal
    width (2.16-2.18 even inside paths, at hyphens), so whitespace is ignored on both sides."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._squeezed = "".join(text.split())

    def __contains__(self, fragment: str) -> bool:
        return "".join(fragment.split()) in self._squeezed

    def count(self, fragment: str) -> int:
        return self._squeezed.count("".join(fragment.split()))

    def __repr__(self) -> str:
        return self.text


def graph_groups(graph: str) -> dict:
    """``ansible-inventory --graph`` text as group -> sorted hosts directly under it (groups nest under @all;
    groups without hosts of their own are left out)."""
    groups, current = {}, None
    for line in graph.splitlines():
        text = line.strip(" |-")
        if text.startswith("@"):
            current = text[1:].rstrip(":")
        elif current and text:
            groups.setdefault(current, []).append(text)
    return {name: sorted(hosts) for name, hosts in groups.items()}
