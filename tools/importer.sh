#!/usr/bin/env bash
# galaxy-importer (what Galaxy runs on upload) on the built tarball, offline (tools/importer/
# galaxy-importer.cfg), in its own virtualenv (.cache/importer: it pins older packages than
# requirements/test.txt). Any WARNING or ERROR in its log fails this script.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tools/python_paths.sh
source "$root/tools/python_paths.sh"
venv="$root/.cache/importer"
if ! cmp -s "$venv/.installed" "$root/requirements/importer.txt"; then
    echo "importer: creating $venv" >&2
    rm -rf "$venv"
    "$(python_for 3.11)" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$root/requirements/importer.txt" 2>&1 |
        grep -v "^WARNING: Location" >&2 || true
    cp "$root/requirements/importer.txt" "$venv/.installed"
fi
tarball=$(bash "$root/tools/build.sh")
log="$root/.cache/importer.log"
export GALAXY_IMPORTER_CONFIG="$root/tools/importer/galaxy-importer.cfg"
# Only the dependencies galaxy.yml declares (ansible.windows), as `ansible-galaxy collection install`
# would bring them; nothing else of the developer's set-up.
deps="$root/.cache/importer-collections"
rm -rf "$deps"
mkdir -p "$deps/ansible_collections/ansible"
cp -r "$root/.cache/collections/ansible_collections/ansible/windows" "$deps/ansible_collections/ansible/"
# galaxy-importer sets ANSIBLE_COLLECTIONS_PATH to its own extraction directory for ansible-lint;
# ansible-core also finds collections on sys.path, which is how the dependency is offered here.
export ANSIBLE_COLLECTIONS_PATH="$deps" PYTHONPATH="$deps"
export PATH="$venv/bin:$PATH"
(cd "$root/.cache" && python -m galaxy_importer.main "$tarball") > "$log" 2>&1 || {
    cat "$log" >&2
    echo "importer: galaxy-importer failed on $tarball" >&2
    exit 1
}
if grep -E "WARNING|ERROR" "$log"; then
    echo "importer: galaxy-importer reported the problems above for $tarball (full log: $log)" >&2
    exit 1
fi
echo "importer: $(basename "$tarball") imports without warnings ($(grep -c . "$log") log lines in $log)"
