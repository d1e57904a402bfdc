"""A fleet of pretend Azure VMs: one network namespace each, where an emulator with that VM's
profile owns 169.254.169.254:80. Ansible reaches them with the local connection and an
interpreter wrapper that runs Python inside the namespace."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

from azure_imds_emulator.instance import DEFAULT_PROFILE as SEED_PROFILE
from helpers import paths


def profile(name: str, zone: str, fault_domain: str, update_domain: str, tags: dict | None = None,
            tags_string: str | None = None, **compute) -> dict:
    """The seed VM, renamed and placed; ``tags`` becomes tagsList, ``tags_string`` the tags field."""
    document = json.loads(SEED_PROFILE.read_text())
    vm = document["compute"]
    vm.update(name=name, zone=zone, platformFaultDomain=fault_domain, platformUpdateDomain=update_domain,
              vmId="00000000-0000-0000-0000-" + hashlib.sha256(name.encode()).hexdigest()[:12])
    if tags is not None:
        vm["tagsList"] = [{"name": k, "value": v} for k, v in tags.items()]
        vm["tags"] = ";".join("%s:%s" % item for item in tags.items())
    if tags_string is not None:
        vm["tags"] = tags_string
        vm["tagsList"] = []
    vm.update(compute)
    return copy.deepcopy(document)


class Fleet:
    """``hosts``: name -> profile. ``inventory``: an INI file for ansible-playbook."""

    def __init__(self, make_netns, work_dir: Path, hosts: dict) -> None:
        self.hosts = hosts
        self.namespaces = {}
        work_dir.mkdir(parents=True, exist_ok=True)
        lines = []
        for name, document in hosts.items():
            namespace = make_netns("fleet")
            namespace.add_address("169.254.169.254/32")
            profile_file = work_dir / ("%s-profile.json" % name)
            profile_file.write_text(json.dumps(document))
            namespace.start_emulator("169.254.169.254:80", "--profile", str(profile_file))
            wrapper = work_dir / ("python-in-%s" % name)
            wrapper.write_text('#!/bin/sh\nexec ip netns exec %s %s "$@"\n' % (namespace.name, paths.PYTHON))
            wrapper.chmod(0o755)
            self.namespaces[name] = namespace
            lines.append("%s ansible_connection=local ansible_python_interpreter=%s" % (name, wrapper))
        self.inventory = work_dir / "fleet.ini"
        self.inventory.write_text("[vms]\n" + "\n".join(lines) + "\n")


# If anything ever templated this tag, the file would appear.
TEMPLATED_MARKER = "/tmp/imds-azure-test-templated"
HOSTILE_TAG = "{{ lookup('pipe', 'touch %s') }}" % TEMPLATED_MARKER
# Templated, this would read 42.
ARITHMETIC_TAG = "{{ 6 * 7 }}"


def three_vms() -> dict:
    """Different zones, fault domains and tags; one hostile tag value; one tags string with colons."""
    return {
        "web1": profile("web1", "1", "0", "0", tags={"Role": "web", "Environment": "prod", "Answer": ARITHMETIC_TAG}),
        "web2": profile("web2", "2", "1", "1", tags={"Role": "web", "Environment": "staging"}, priority="Spot"),
        "db1": profile("db1", "", "1", "2",
                       tags_string="Role:db;orchestrator:Kubernetes:1.25.6;Note:" + HOSTILE_TAG,
                       osType="Linux"),
    }
