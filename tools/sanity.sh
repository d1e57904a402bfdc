#!/usr/bin/env bash
# ansible-test needs the collection in a real .../ansible_collections/imds/azure directory
# (not a symlink), so copy the checkout's files there and run sanity on the copy.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.cache/venv"
dest="$root/.cache/sanity/ansible_collections/imds/azure"
rm -rf "$dest"
mkdir -p "$dest"
cd "$root"
git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$dest"
cd "$dest"
# The copy sits inside this checkout's ignored .cache/; give it its own repository so that
# ansible-test lists its files instead of the outer repository's.
git init -q . && git add -A
export PATH="$venv/bin:$PATH"
python_versions=${SANITY_PYTHONS:-3.11}
args=()
for v in $python_versions; do args+=(--python "$v"); done
exec ansible-test sanity --venv "${args[@]}" --color no "$@"
