#!/usr/bin/env bash
# The execution-environment check (no container engine here, so no image is built):
#  1. `ansible-builder create` on docs/ee/execution-environment.yml must succeed and write a build
#     context whose Containerfile installs the collections (imds.azure, community.general);
#  2. the step the Containerfile runs inside the image, `ansible-builder introspect`, run here on the
#     built tarball installed as Galaxy would, must find every controller-side dependency that
#     meta/execution-environment.yml declares (requirements.txt, bindep.txt);
#  3. those Python requirements must resolve with pip (a dry run, nothing installed).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$root/.cache/venv/bin:$PATH"
work="$root/.cache/ee"
rm -rf "$work"
mkdir -p "$work"

# --output-filename: ansible-builder names the file after the container runtime it finds (none here).
ansible-builder create -f "$root/docs/ee/execution-environment.yml" -c "$work/context" \
    --output-filename Containerfile >&2
containerfile="$work/context/Containerfile"
grep -q "ansible-galaxy collection install" "$containerfile" || {
    echo "ee: $containerfile does not install collections" >&2; exit 1; }
for collection in imds.azure community.general; do
    grep -q "name: $collection" "$work/context/_build/requirements.yml" || {
        echo "ee: $collection missing from the context's requirements.yml" >&2; exit 1; }
done

tarball=$(bash "$root/tools/build.sh")
ansible-galaxy collection install --no-deps -p "$work/collections" "$tarball" >&2
ansible-builder introspect --sanitize --write-pip "$work/python.txt" --write-bindep "$work/bindep.txt" \
    "$work/collections" >&2
missing=()
for package in redis cryptography asn1crypto; do
    grep -qi "^$package" "$work/python.txt" || missing+=("$package (requirements.txt)")
done
grep -q "^ca-certificates" "$work/bindep.txt" || missing+=("ca-certificates (bindep.txt)")
if [ ${#missing[@]} -gt 0 ]; then
    echo "ee: ansible-builder does not see: ${missing[*]}" >&2
    cat "$work/python.txt" "$work/bindep.txt" >&2
    exit 1
fi
python -m pip install --dry-run --quiet --disable-pip-version-check --ignore-installed \
    -r "$work/python.txt" 2>&1 | grep -v "^WARNING: Location" || true
python -m pip install --dry-run --quiet --disable-pip-version-check --ignore-installed -r "$work/python.txt" \
    >/dev/null 2>&1 || { echo "ee: the introspected Python requirements do not resolve" >&2; exit 1; }
echo "ee: context in $work/context; imds.azure brings: $(grep -v '^#' "$work/python.txt" | sed 's/ *#.*//' | tr '\n' ' ')"
