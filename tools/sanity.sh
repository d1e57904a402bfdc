#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection (see collection_copy.sh), in ansible-test's
# own virtualenvs. Without SANITY_PYTHON, the version-dependent tests (compile, import) run for
# every Python that ansible-core 2.19 supports and this machine has (pyenv has 3.8 to 3.13).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
copy=$(bash "$root/tools/collection_copy.sh")
cd "$copy"
export PATH="$root/.cache/venv/bin:$PATH"
if command -v pyenv >/dev/null; then
    # ansible-test passes only a few environment variables on, so pyenv shims cannot be told
    # which version to run: put every installed CPython 3's own bin directory on PATH instead,
    # after the virtualenv (whose python3 stays the default).
    for version in $(pyenv versions --bare | grep -E '^3\.[0-9]+\.[0-9]+$'); do
        PATH="$PATH:$(pyenv root)/versions/$version/bin"
    done
fi
args=()
if [ -n "${SANITY_PYTHON:-}" ]; then args+=(--python "$SANITY_PYTHON"); fi
exec ansible-test sanity --venv "${args[@]}" --color no "$@"
