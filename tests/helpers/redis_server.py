"""A throw-away redis-server (Debian's) on 127.0.0.1, started and stopped by PID."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from helpers.netns import stop_process
from helpers.ports import free_port


class RedisServer:
    def __init__(self, work_dir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (tools/setup.sh installs it as root)")
        self.port = free_port()
        work_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(work_dir), "--daemonize", "no", "--protected-mode", "yes"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start on port %d" % self.port)

    @property
    def connection(self) -> str:
        """The fact_caching_connection string of community.general.redis."""
        return "127.0.0.1:%d:0" % self.port

    def client(self):
        import redis  # pylint: disable=import-outside-toplevel
        return redis.Redis(host="127.0.0.1", port=self.port, db=0)

    def stop(self) -> None:
        stop_process(self.process)
