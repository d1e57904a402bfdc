"""The packaged emulator as a user runs it: ``azure-imds-emulator serve`` in its own process.

``ServedEmulator`` offers what tests read from an in-process ImdsEmulator (``url``, ``requests_to``,
``identities.issued_tokens``) through the control API, so a test can run against either.
"""

from __future__ import annotations

import json
import subprocess
import types
from pathlib import Path

import requests
from helpers import netns, paths


def session() -> requests.Session:
    client = requests.Session()
    client.trust_env = False  # no proxies from the environment
    return client


class ServedEmulator:
    """``azure-imds-emulator serve`` with ``config`` (a dict, written as JSON) and more arguments."""

    def __init__(self, workdir: Path, config: dict | None = None, args: list | None = None,
                 command: list | None = None) -> None:
        command = list(command or paths.EMULATOR_SERVE) + ["--listen", "127.0.0.1:0"] + list(args or [])
        if config is not None:
            path = workdir / "emulator-config.json"
            path.write_text(json.dumps(config))
            command += ["--config", str(path)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE,  # pylint: disable=consider-using-with
                                        stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line:
            error = self.process.stderr.read()
            self.process.wait(timeout=5)
            raise RuntimeError("azure-imds-emulator serve did not start: %s" % error)
        self.info = json.loads(line)
        self.url = self.info["url"]
        self.control = self.info["control"]
        self.pid = self.info["pid"]
        self.client = session()
        self.identities = _Identities(self)

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        answer = self.client.request(method, self.control + path, json=body, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def requests_to(self, prefix: str = "/metadata") -> list:
        recorded = self.call("GET", "/requests")["requests"]
        return [types.SimpleNamespace(**item) for item in recorded if item["path"].startswith(prefix)]

    def tokens(self) -> list:
        return self.call("GET", "/tokens")["tokens"]

    def stop(self) -> None:
        netns.stop_process(self.process)


class _Identities:
    """``emulator.identities.issued_tokens`` of a served emulator (GET /tokens)."""

    def __init__(self, served: ServedEmulator) -> None:
        self._served = served

    @property
    def issued_tokens(self) -> list:
        return self._served.tokens()
