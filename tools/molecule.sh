#!/usr/bin/env bash
# Molecule for the imds_route role: the default (delegated) driver with network namespaces
# (see roles/imds_route/molecule/default). Needs root for `ip netns`. The test suite's network
# guard watches every Python process of the run; any violation fails it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
    echo "molecule: skipped, network namespaces need root and iproute2" >&2
    exit 0
fi
export PATH="$root/.cache/venv/bin:$PATH"
log="$root/.cache/netguard-molecule.log"
: > "$log"
export PYTHONPATH="$root/tests/netguard" IMDS_AZURE_NETGUARD_LOG="$log"
(cd "$root/roles/imds_route" && molecule test)
if [ -s "$log" ]; then
    echo "molecule: the network guard stopped connections that must never happen:" >&2
    cat "$log" >&2
    exit 1
fi
