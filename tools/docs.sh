#!/usr/bin/env bash
# `make docs`: the HTML docsite, offline, from the project's own environment: antsibull-docs writes
# the RST of every plugin, role and guide (docs/docsite/rst), Sphinx renders it with
# sphinx-ansible-theme (docs/docsite/sphinx/conf.py: no intersphinx downloads), into
# .cache/docsite/build/html. Then tests/docsite opens the module page in headless Chromium.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$root/.cache/venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/.cache/collections"
site="$root/.cache/docsite"
rm -rf "$site"
mkdir -p "$site"
mkdir -m 700 "$site/rst"  # antsibull-docs wants the directory writable only by its owner
antsibull-docs --config-file "$root/docs/docsite/sphinx/antsibull-docs.cfg" collection \
    --cleanup everything --fail-on-error --use-current --dest-dir "$site/rst" imds.azure
cat > "$site/rst/index.rst" <<'RST'
imds.azure
==========

Ansible content for the Azure Instance Metadata Service.

.. toctree::
   :maxdepth: 2

   collections/index
RST
# Offline: no intersphinx extension, no network; -W turns every Sphinx warning into a failure.
sphinx-build -q -b html -c "$root/docs/docsite/sphinx" -W --keep-going "$site/rst" "$site/build/html"
echo "docs: $site/build/html/collections/imds/azure/index.html"
if [ "${DOCS_SKIP_BROWSER:-}" != 1 ]; then
    IMDS_AZURE_DOCSITE="$site/build/html" "$root/.cache/venv/bin/python" -m pytest -q -p no:cacheprovider \
        "$root/tests/docsite"
fi
