"""Offline stand-in for get-pip.py, as ansible-test runs it: ``python get_pip.py [pip install args]``.

It installs pip from the interpreter's own ensurepip wheel, then lets that pip
install what ansible-test asked for (from the configured package index).
"""

import subprocess
import sys

IGNORED = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
args = [a for a in sys.argv[1:] if a not in IGNORED]
if args:
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
