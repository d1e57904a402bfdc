#!/usr/bin/env bash
# ansible-test units on a copy of the collection (see collection_copy.sh), in ansible-test's own
# virtualenv (tests/unit/requirements.txt), on the controller Python of the pinned line.
# Plain `pytest tests/unit` runs the same tests without ansible-test.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
copy=$(COPY_NAME=units-copy bash "$root/tools/collection_copy.sh")
cd "$copy"
export PATH="$root/.cache/venv/bin:$PATH"
exec ansible-test units --venv --python "${UNITS_PYTHON:-3.11}" --color no "$@"
