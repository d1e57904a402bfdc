#!/usr/bin/env bash
# ansible-lint (offline, production profile) on the role, the demo and the example playbooks,
# and ansible-playbook --syntax-check of the playbooks that use the role.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$root/.cache/venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/.cache/collections"
cd "$root"
printf '[windows_clusters]\nnode1\nnode2\n' > .cache/syntax-inventory.ini
for playbook in tests/playbooks/windows-cluster.yml docs/demo/gather-facts.yml playbooks/save_facts.yml \
    playbooks/windows_first_run.yml; do
    ansible-playbook --syntax-check -i .cache/syntax-inventory.ini "$playbook"
done
ansible-lint --offline --profile production roles/imds_route docs/demo tests/playbooks playbooks
