"""A failover-cluster node in network namespaces, for the route module and role tests.

    gateway ns:  lo 169.254.169.254 (the IMDS emulator, port 80), gw0 10.77.0.1/24
    vm ns:       eth0 10.77.0.2/24 -> gw0, default via 10.77.0.1
                 clu0 169.254.1.156/16 -> a namespace where nothing answers (the cluster adapter)
                 and, unless asked otherwise, a wrong route 169.254.169.254/32 dev clu0

Ansible reaches the VM with the local connection and an interpreter that runs inside the vm
namespace. Usable from tests (``Lab``) and from Molecule's create/destroy playbooks:

    python cluster_lab.py up STATE_FILE [--no-wrong-route] [--interpreter PATH]
    python cluster_lab.py down STATE_FILE
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# pylint: disable=wrong-import-position
from helpers import paths  # noqa: E402
from helpers.netns import EmulatorProcess, NetNs, ip, stop_process  # noqa: E402

VM_ADDRESS = "10.77.0.2"
GATEWAY_ADDRESS = "10.77.0.1"
CLUSTER_ADDRESS = "169.254.1.156"


class Lab:
    def __init__(self, work_dir: Path, wrong_route: bool = True, interpreter: Path | None = None,
                 detached: bool = False) -> None:
        work_dir.mkdir(parents=True, exist_ok=True)
        self.gateway = NetNs("gw", detached)
        self.vm = NetNs("vm", detached)
        self.void = NetNs("void", detached)
        try:
            self._wire(wrong_route)
            self.emulator = EmulatorProcess(self.gateway, "169.254.169.254:80", [])
        except Exception:
            self.delete()
            raise
        self.interpreter = interpreter or work_dir / ("python-in-%s" % self.vm.name)
        self.interpreter.write_text('#!/bin/sh\nexec ip netns exec %s %s "$@"\n' % (self.vm.name, paths.PYTHON))
        self.interpreter.chmod(0o755)
        self.inventory = work_dir / "cluster.ini"
        self.inventory.write_text("[cluster_nodes]\nnode1 ansible_connection=local ansible_python_interpreter=%s\n"
                                  % self.interpreter)

    def _wire(self, wrong_route: bool) -> None:
        self.vm.run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "gw0", "netns", self.gateway.name)
        self.vm.run("ip", "link", "add", "clu0", "type", "veth", "peer", "name", "dead0", "netns", self.void.name)
        for namespace, device in ((self.vm, "eth0"), (self.vm, "clu0"), (self.gateway, "gw0"), (self.void, "dead0")):
            namespace.run("ip", "link", "set", device, "up")
        self.vm.run("ip", "addr", "add", VM_ADDRESS + "/24", "dev", "eth0")
        self.vm.run("ip", "addr", "add", CLUSTER_ADDRESS + "/16", "dev", "clu0")
        self.vm.run("ip", "route", "add", "default", "via", GATEWAY_ADDRESS, "dev", "eth0")
        self.gateway.run("ip", "addr", "add", GATEWAY_ADDRESS + "/24", "dev", "gw0")
        self.gateway.add_address("169.254.169.254/32")
        if wrong_route:
            self.vm.run("ip", "route", "add", "169.254.169.254/32", "dev", "clu0")

    def imds_routes(self) -> list:
        """The vm's routes for 169.254.169.254/32, as ``ip -j`` shows them."""
        output = self.vm.run("ip", "-j", "-4", "route", "show", "table", "main").stdout
        return [r for r in json.loads(output) if r.get("dst") == "169.254.169.254"]

    def delete(self) -> None:
        emulator = getattr(self, "emulator", None)
        if emulator is not None:
            emulator.stop()
        for namespace in (self.vm, self.gateway, self.void):
            namespace.delete()

    def state(self) -> dict:
        return {"namespaces": [self.vm.name, self.gateway.name, self.void.name], "emulator_pid": self.emulator.pid,
                "inventory": str(self.inventory), "interpreter": str(self.interpreter), "vm": self.vm.name}


def main(argv: list) -> int:
    if len(argv) < 2 or argv[0] not in ("up", "down"):
        print(__doc__)
        return 2
    state_file = Path(argv[1])
    if argv[0] == "up":
        interpreter = Path(argv[argv.index("--interpreter") + 1]) if "--interpreter" in argv else None
        # The lab outlives this process: other test runs must not remove it as stale.
        lab = Lab(state_file.parent, wrong_route="--no-wrong-route" not in argv, interpreter=interpreter,
                  detached=True)
        # The emulator must outlive this process: forget its Popen handle, keep its PID.
        lab.emulator.process = None
        state_file.write_text(json.dumps(lab.state()))
        print(json.dumps(lab.state()))
        return 0
    state = json.loads(state_file.read_text())
    try:
        os.kill(state["emulator_pid"], 15)
    except ProcessLookupError:
        pass
    for name in state["namespaces"]:
        ip("netns", "del", name, check=False)
    state_file.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


__all__ = ["Lab", "stop_process"]
