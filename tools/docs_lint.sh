#!/usr/bin/env bash
# antsibull-docs checks module/plugin documentation and the extra docs under docs/docsite,
# on a copy of the collection (see collection_copy.sh); it needs ansible-doc on PATH.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
copy=$(bash "$root/tools/collection_copy.sh")
export PATH="$root/.cache/venv/bin:$PATH"
antsibull-docs lint-collection-docs --plugin-docs "$copy"
echo "antsibull-docs lint-collection-docs: OK"
