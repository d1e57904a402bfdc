#!/usr/bin/env bash
# Install the IMDS emulator (emulator/, the azure-imds-emulator package) editable into the
# virtualenv $1, so that its tests run this checkout's command; skipped when already done for
# this pyproject.toml. Used by tools/setup.sh and, for each ansible-core line, tools/matrix.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$1
stamp="$venv/.emulator-installed"
# The stamp names the checkout too: a virtualenv copied from another worktree has an editable
# install (and a command) that lead to that worktree's code.
wanted="$(cat "$root/emulator/pyproject.toml")
installed from $root/emulator"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && [ -x "$venv/bin/azure-imds-emulator" ]; then
    exit 0
fi
echo "setup: installing the IMDS emulator into $venv (pip install -e ./emulator)" >&2
# pip fetches setuptools to build it (build isolation); the package itself needs nothing.
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e "$root/emulator" >&2
"$venv/bin/azure-imds-emulator" --help >/dev/null
printf '%s\n' "$wanted" > "$stamp"
