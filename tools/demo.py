"""`make demo`: start the IMDS emulator, gather facts from it with imds.azure.metadata_facts, print a summary.

As root the emulator owns 169.254.169.254:80 inside a network namespace made for the demo, and the
playbook runs there with no endpoint override, exactly as on an Azure VM. Without root it listens
on 127.0.0.1 and the playbook finds it through AZURE_IMDS_ENDPOINT. Either way everything the demo
started is stopped (by PID) and removed (by name) at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "netguard")]

# pylint: disable=wrong-import-position
from azure_imds_emulator.server import ImdsEmulator  # noqa: E402
from helpers import netns  # noqa: E402
from helpers.ansible_runner import base_env  # noqa: E402

PLAYBOOK = ROOT / "docs" / "demo" / "gather-facts.yml"


def run_playbook(work: Path, env: dict, prefix: list) -> int:
    inventory = work / "localhost.ini"
    inventory.write_text("localhost ansible_connection=local\n")
    env = dict(env, ANSIBLE_CALLBACK_RESULT_FORMAT="yaml")
    env.pop("ANSIBLE_CALLBACKS_ENABLED")
    command = prefix + [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(PLAYBOOK)]
    return subprocess.run(command, env=env, cwd=work, check=False).returncode


def in_namespace(work: Path) -> int:
    namespace = netns.NetNs("demo")
    try:
        namespace.add_address("169.254.169.254/32")
        emulator = namespace.start_emulator("169.254.169.254:80")
        print("IMDS emulator: %s inside network namespace %s (pid %d)" % (emulator.url, namespace.name, emulator.pid))
        return run_playbook(work, base_env(work), namespace.prefix)
    finally:
        namespace.delete()
        print("removed network namespace %s and stopped the emulator" % namespace.name)


def on_loopback(work: Path) -> int:
    with ImdsEmulator() as emulator:
        print("IMDS emulator: %s (AZURE_IMDS_ENDPOINT; run as root to use a network namespace)" % emulator.url)
        return run_playbook(work, base_env(work, {"AZURE_IMDS_ENDPOINT": emulator.url}), [])


def main() -> int:
    os.environ.setdefault("IMDS_AZURE_NETGUARD_LOG", os.devnull)
    with tempfile.TemporaryDirectory(prefix="imds-demo-") as work:
        if netns.available() is None:
            return in_namespace(Path(work))
        return on_loopback(Path(work))


if __name__ == "__main__":
    sys.exit(main())
