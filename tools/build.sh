#!/usr/bin/env bash
# Build the collection tarball the way a release does, into .cache/build; prints its path.
# galaxy.yml's build_ignore keeps developer files (Makefile, tools/, requirements/, .cache) out.
# IMDS_AZURE_BUILD_DIR and IMDS_AZURE_BUILD_COPY (the copy's name under .cache) let a test build
# into its own directories while `make build` runs.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${IMDS_AZURE_BUILD_DIR:-$root/.cache/build}
rm -rf "$out"
mkdir -p "$out"
copy=$(COPY_NAME=${IMDS_AZURE_BUILD_COPY:-build-copy} bash "$root/tools/collection_copy.sh")  # tracked and new files only, nothing ignored
if ! grep -q '^repository:' "$copy/galaxy.yml"; then
    # Galaxy requires the field; galaxy.yml has no public URL yet (see its comment).
    repository=${IMDS_AZURE_REPOSITORY:-$(git -C "$root" remote get-url origin 2>/dev/null || true)}
    case $repository in
        "") echo "build: set IMDS_AZURE_REPOSITORY (no 'origin' remote to name the repository)" >&2; exit 1 ;;
        /*) repository="file://$repository" ;;
    esac
    printf 'repository: %s\n' "$repository" >> "$copy/galaxy.yml"
fi
"$root/.cache/venv/bin/ansible-galaxy" collection build "$copy" --output-path "$out" >&2
tarball=$(ls "$out"/imds-azure-*.tar.gz)
for unwanted in Makefile tools/ emulator/ requirements/ .cache/ .ci/ tests/output/; do
    if tar -tzf "$tarball" | grep -q "^$unwanted"; then
        echo "build: $unwanted must not be in $tarball (galaxy.yml build_ignore)" >&2
        exit 1
    fi
done
echo "$tarball"
