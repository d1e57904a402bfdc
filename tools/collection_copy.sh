#!/usr/bin/env bash
# ansible-test and antsibull-docs need the collection in a real .../ansible_collections/imds/azure
# directory (not a symlink): copy this checkout's files (tracked and new, not ignored) there.
# Prints the copy's path. COPY_NAME (default: sanity) names the copy, .cache/COPY_NAME/..., so that
# tools running at once (the matrix, a build) do not share one.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest="$root/.cache/${COPY_NAME:-sanity}/ansible_collections/imds/azure"
rm -rf "$dest"
mkdir -p "$dest"
cd "$root"
git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$dest"
cd "$dest"
# The copy sits inside this checkout's ignored .cache/; give it its own repository so that
# ansible-test lists its files instead of the outer repository's.
git init -q . && git add -A
echo "$dest"
