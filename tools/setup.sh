#!/usr/bin/env bash
# Idempotent set-up for a fresh machine, run by every `make` target:
#   - Debian packages the tests use (redis-server, iproute2, shellcheck, openssl), when running as
#     root; chromium too with SETUP_BROWSER=1 (only `make docs` opens a browser);
#   - a virtualenv in .cache/venv with the pinned versions of requirements/test.txt;
#   - community.general and ansible.windows, unpacked from the `ansible` package on PyPI
#     (Galaxy is not reachable here), plus a link that makes this checkout imds.azure;
#   - the oldest ansible.windows imds.azure supports (galaxy.yml) and the newest, each from the
#     `ansible` package that ships it, in .cache/ansible-windows/VERSION: the Windows route double
#     reads win_powershell's real rules from each (tests/doubles/win_powershell.py);
#   - the IMDS emulator (emulator/, a package of its own) installed editable into that virtualenv,
#     so the tests run this checkout's azure-imds-emulator command;
#   - a local stand-in for the get-pip.py that ansible-test would download.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache="$root/.cache"
venv="$cache/venv"
collections="$cache/collections/ansible_collections"
ansible_package_version=12.3.0
mkdir -p "$cache"

install_debian_packages() {
    local missing=()
    command -v redis-server >/dev/null || missing+=(redis-server)
    command -v ip >/dev/null || missing+=(iproute2)
    command -v shellcheck >/dev/null || missing+=(shellcheck)
    command -v openssl >/dev/null || missing+=(openssl)
    if [ -n "${SETUP_BROWSER:-}" ]; then command -v chromium >/dev/null || missing+=(chromium); fi
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: not root, cannot install ${missing[*]}; tests that need them will be skipped" >&2
        return 0
    fi
    echo "setup: apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    }
}

pick_python() {
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null &&
            "$candidate" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 14))'; then
            command -v "$candidate"
            return 0
        fi
    done
    echo "setup: need Python 3.11 to 3.13 for ansible-core 2.19" >&2
    return 1
}

install_venv() {
    local stamp="$venv/.installed"
    if [ -f "$stamp" ] && cmp -s "$stamp" "$root/requirements/test.txt"; then
        return 0
    fi
    echo "setup: creating $venv"
    rm -rf "$venv"
    "$(pick_python)" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$root/requirements/test.txt" 2>&1 |
        grep -v "^WARNING: Location" || true
    "$venv/bin/python" -c 'import ansible, pytest, cryptography, redis, jsonschema' # fail loudly if pip did not
    cp "$root/requirements/test.txt" "$stamp"
}

install_collections() {
    local stamp="$collections/.ansible-$ansible_package_version"
    if [ ! -f "$stamp" ]; then
        echo "setup: unpacking collections from ansible==$ansible_package_version"
        mkdir -p "$cache/downloads"
        "$venv/bin/python" -m pip download -q --disable-pip-version-check --no-deps \
            "ansible==$ansible_package_version" -d "$cache/downloads" 2>&1 | grep -v "^WARNING: Location" || true
        "$venv/bin/python" "$root/tools/extract_collections.py" \
            "$cache/downloads/ansible-$ansible_package_version-py3-none-any.whl" "$collections" \
            community.general ansible.windows
        touch "$stamp"
    fi
    mkdir -p "$collections/imds"
    ln -sfn "$root" "$collections/imds/azure"
}

# ansible.windows release -> the `ansible` package on PyPI that ships it (ansible-build-data's
# 9/ansible-9.0.1.deps and 14/ansible-14.5.0.deps). 2.1.0 is the oldest in any package for
# ansible-core 2.16 (ansible 9); ansible 14 needs Python 3.12, only its wheel is unpacked here.
windows_releases=("2.1.0 9.0.1 3.11" "3.8.0 14.5.0 3.12")

install_ansible_windows_releases() {
    local entry release package python target
    for entry in "${windows_releases[@]}"; do
        read -r release package python <<<"$entry"
        target="$cache/ansible-windows/$release"
        [ -f "$target/.from-ansible-$package" ] && continue
        echo "setup: unpacking ansible.windows $release from ansible==$package"
        mkdir -p "$cache/downloads"
        "$venv/bin/python" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
            --python-version "$python" "ansible==$package" -d "$cache/downloads" 2>&1 | grep -v "^WARNING: Location" || true
        rm -rf "$target"
        "$venv/bin/python" "$root/tools/extract_collections.py" \
            "$cache/downloads/ansible-$package-py3-none-any.whl" "$target/ansible_collections" ansible.windows
        grep -q "\"version\": \"$release\"" "$target/ansible_collections/ansible/windows/MANIFEST.json" || {
            echo "setup: ansible==$package does not ship ansible.windows $release" >&2
            return 1
        }
        touch "$target/.from-ansible-$package"
    done
}

install_emulator() {
    bash "$root/tools/install_emulator.sh" "$venv"
}

install_get_pip_standin() {
    bash "$root/tools/get_pip_standin.sh" "$venv"
}

install_debian_packages
install_venv
install_collections
install_ansible_windows_releases
install_emulator
install_get_pip_standin
