"""Network namespaces for tests, and emulators running inside them. Everything is removed by name and PID."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from helpers import paths

PREFIX = "imdsaz"
# Namespaces that outlive the process that made them (Molecule's lab, removed by its destroy step
# from the state file): remove_stale() must not take them for leftovers of a dead test run.
DETACHED_PREFIX = "imdsazlab"
_counter = itertools.count(1)


def available() -> str | None:
    """None when namespaces can be used here, else the reason they cannot."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 (ip) is not installed"
    return None


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip"] + list(args), capture_output=True, text=True, check=check)


def remove_stale() -> None:
    """Delete namespaces left by an earlier test run that died (its PID is in the name and gone)."""
    listing = ip("netns", "list", check=False).stdout
    for line in listing.splitlines():
        name = line.split()[0] if line.strip() else ""
        match = re.match(r"^%s-[a-z0-9]+-(\d+)-\d+$" % PREFIX, name)
        if match and not os.path.exists("/proc/%s" % match.group(1)):
            ip("netns", "del", name, check=False)
            shutil.rmtree(Path("/etc/netns") / name, ignore_errors=True)


class NetNs:
    """One network namespace with loopback up. ``tag`` is a short word (it appears in the name)."""

    def __init__(self, tag: str, detached: bool = False) -> None:
        self.name = "%s-%s-%d-%d" % (DETACHED_PREFIX if detached else PREFIX, tag, os.getpid(), next(_counter))
        self._processes = []  # type: list[subprocess.Popen]
        ip("netns", "add", self.name)
        self.run("ip", "link", "set", "lo", "up")

    @property
    def prefix(self) -> list:
        return ["ip", "netns", "exec", self.name]

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(self.prefix + list(command), capture_output=True, text=True, check=check)

    def add_address(self, address: str, device: str = "lo") -> None:
        self.run("ip", "addr", "add", address, "dev", device)

    def set_hosts(self, entries: dict) -> None:
        """Name resolution inside this namespace only: ``ip netns exec`` mounts /etc/netns/NAME/hosts over
        /etc/hosts (iproute2's ip-netns(8)). ``entries`` maps names to addresses."""
        folder = Path("/etc/netns") / self.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "hosts").write_text("".join("%s %s\n" % (address, name) for name, address in entries.items()))

    def spawn(self, command: list, **kwargs) -> subprocess.Popen:
        process = subprocess.Popen(self.prefix + command, **kwargs)  # pylint: disable=consider-using-with
        self._processes.append(process)
        return process

    def start_emulator(self, bind: str, *args: str) -> "EmulatorProcess":
        return EmulatorProcess(self, bind, list(args))

    def delete(self) -> None:
        for process in self._processes:
            stop_process(process)
        ip("netns", "del", self.name, check=False)
        shutil.rmtree(Path("/etc/netns") / self.name, ignore_errors=True)


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM by PID, then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass
    finally:
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


class EmulatorProcess:
    """``azure-imds-emulator serve`` running inside a namespace; ``url`` is where it listens there."""

    def __init__(self, netns: NetNs, bind: str, args: list) -> None:
        self.process = netns.spawn([*paths.EMULATOR_SERVE, "--bind", bind] + args,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line:
            error = self.process.stderr.read()
            raise RuntimeError("emulator did not start in %s: %s" % (netns.name, error))
        info = json.loads(line)
        self.url = info["url"]
        self.pid = info["pid"]

    def stop(self) -> None:
        stop_process(self.process)


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
