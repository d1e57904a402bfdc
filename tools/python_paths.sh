# Find CPython X.Y on this machine (PATH first, then pyenv's versions). Sourced by the tools.
# shellcheck shell=bash

python_for() {
    local wanted=$1 candidate
    for candidate in "python$wanted" $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$wanted".*/bin/python3 2>/dev/null); do
        if command -v "$candidate" >/dev/null 2>&1 &&
            [ "$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$wanted" ]; then
            command -v "$candidate"
            return 0
        fi
    done
    echo "no Python $wanted here (PATH or pyenv)" >&2
    return 1
}

# ansible-test passes only a few environment variables on, so pyenv shims cannot be told which
# version to run: every installed CPython 3's own bin directory goes on PATH instead (after the
# virtualenv, whose python3 stays the default).
python_bin_dirs() {
    local dirs=() dir
    for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.*/bin; do
        [ -d "$dir" ] && dirs+=("$dir")
    done
    (IFS=:; echo "${dirs[*]}")
}
