#!/usr/bin/env bash
# antsibull-docs checks module/plugin documentation and the extra docs under docs/docsite,
# on a copy of the collection (see collection_copy.sh); it needs ansible-doc on PATH.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
copy=$(COPY_NAME=docs-copy bash "$root/tools/collection_copy.sh")
export PATH="$root/.cache/venv/bin:$PATH"
# The copy first, then the set-up's collections for the dependencies galaxy.yml declares (ansible.windows).
export ANSIBLE_COLLECTIONS_PATH="${copy%/ansible_collections/imds/azure}:$root/.cache/collections"
antsibull-docs lint-collection-docs --plugin-docs "$copy"
echo "antsibull-docs lint-collection-docs: OK"
