"""A stand-in ``ssh`` executable: what ansible.builtin.ssh runs, answered on this machine.

ansible.builtin.ssh runs ``ssh [options] host command`` and prints the command's raw stdout at -vvv. The
stand-in parses ssh's option syntax (the letters that take a value, from OpenSSH's ssh(1) synopsis), never
opens a socket, and runs the command with ``/bin/sh -c`` here, stdin passed through (pipelining). Called without
a host (ansible's ControlPersist probe) it answers as an ssh without that option would: ``Usage:`` on stderr.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path

STANDIN = r'''#!%(python)s
import os
import sys

WITH_VALUE = set("BbcDEeFIiJLlmOoPpQRSWw")  # ssh(1): the options that take an argument
args = sys.argv[1:]
index = 0
while index < len(args) and args[index].startswith("-") and args[index] != "--":
    flag = args[index]
    index += 2 if flag[-1] in WITH_VALUE and len(flag) == 2 else 1
rest = args[index:]
if len(rest) < 2:
    sys.stderr.write("Usage: ssh stand-in [options] host command\n")
    sys.exit(255)
os.execv("/bin/sh", ["/bin/sh", "-c", " ".join(rest[1:])])
'''


def install(bin_dir: Path) -> Path:
    """Write the stand-in as ``bin_dir/ssh``; put ``bin_dir`` first on PATH to use it."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / "ssh"
    path.write_text(STANDIN % {"python": sys.executable})
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path
