#!/usr/bin/env bash
# ansible-test bootstraps pip in its virtualenvs with get-pip.py from the internet: put the offline
# stand-in (get_pip_standin.py) where the ansible-test of VENV looks for it. Usage: get_pip_standin.sh VENV
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$1
pip_version=$("$venv/bin/python" -c \
    'import re, ansible_test._internal.python_requirements as m, inspect; print(re.search(r"pip=.(\d+(\.\d+)+)", inspect.getsource(m.get_venv_packages)).group(1))')
target="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
mkdir -p "$(dirname "$target")"
cp "$root/tools/get_pip_standin.py" "$target"
