#!/usr/bin/env bash
# Fold the fragments in changelogs/fragments into the release galaxy.yml names (0.2.0): checks them
# (antsibull-changelog lint), adds them and any new plugin to that release in changelogs/changelog.yaml,
# regenerates CHANGELOG.rst and removes the folded fragments. Run it after landing new fragments.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$root/.cache/venv/bin:$PATH"
cd "$root"
version=$(python -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')
antsibull-changelog lint
if ls changelogs/fragments/*.y*ml >/dev/null 2>&1; then
    antsibull-changelog release --version "$version" --update-existing --reload-plugins
    echo "changelog: folded into $version: CHANGELOG.rst, changelogs/changelog.yaml"
else
    antsibull-changelog generate --reload-plugins
    echo "changelog: no new fragments; CHANGELOG.rst regenerated for $version"
fi
