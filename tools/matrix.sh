#!/usr/bin/env bash
# `make matrix`: for each supported ansible-core line, a virtualenv with that ansible-core (and the
# test requirements pinned in requirements/test.txt), then the unit and end-to-end tests (modules,
# inventory, filters, route) through that line's ansible-playbook / ansible-inventory, and
# ansible-test sanity of that line on every managed-node Python it supports that pyenv has.
#
#   tools/matrix.sh                 every line
#   tools/matrix.sh 2.16 2.21       only these lines
#   MATRIX_QUICK=1 ...              what `make test` runs on the edge lines: the tests of content that
#                                   meets ansible-core (not the demo or benchmarks), compile and import
#                                   on the oldest and newest module Python, and the sanity tests that
#                                   read plugin metadata through that ansible-core (no pylint/pep8 rerun)
#
# One summary line per ansible-core line goes to .cache/matrix/summary.txt (and stdout); outside quick
# mode the line's row of docs/docsite/rst/guide_support.rst is rewritten (tools/support_page.py).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tools/lines.sh
source "$root/tools/lines.sh"
# shellcheck source=tools/python_paths.sh
source "$root/tools/python_paths.sh"
matrix="$root/.cache/matrix"
mkdir -p "$matrix"

# Test files that do not depend on the ansible-core line (the emulator against Microsoft's schemas,
# the network guard and namespace plumbing): run once by `make pytest`, not per line.
LINE_INDEPENDENT=(tests/functional/test_emulator.py tests/functional/test_netguard.py tests/functional/test_netns.py)
# Also left out of the quick run (what `make test` runs on the edge lines), because the pinned line's
# `make pytest` already covers it and it does not meet ansible-core: the demo (one more playbook run of
# metadata_facts), the many-callers load test, third-party identity clients against the emulator, the
# pure-Python client units, and every Hypothesis property test (marker fuzz).
QUICK_SKIP=(tests/functional/test_demo.py tests/functional/test_contention.py
    tests/functional/test_identity_clients.py tests/unit/plugins/module_utils
    tests/functional/test_guide_off_azure.py)  # Molecule is installed in the pinned virtualenv only
# Sanity tests that depend on the ansible-core line (its ansible-doc, validate-modules and runtime
# schema); style tests (pylint, pep8, yamllint, shellcheck...) give the same answer on every line.
QUICK_SANITY=(ansible-doc validate-modules runtime-metadata action-plugin-docs changelog)

line_venv() {
    local line=$1 core python venv stamp pins
    if [ "$line" = "$PINNED_LINE" ]; then  # tools/setup.sh keeps this one
        echo "$root/.cache/venv"
        return 0
    fi
    core=$(line_core "$line")
    python=$(python_for "$(line_controller_python "$line")")
    venv="$matrix/$line/venv"
    stamp="$venv/.installed"
    pins=$(grep -v '^#' "$root/requirements/matrix.in" | sed '/^$/d' | while read -r name; do
        grep -i "^${name}==" "$root/requirements/test.txt" || echo "$name"
    done | tr '\n' ' ')
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "ansible-core==$core $pins" ]; then
        bash "$root/tools/install_emulator.sh" "$venv"  # the command the tests run (this checkout's)
        echo "$venv"
        return 0
    fi
    echo "matrix $line: creating $venv (ansible-core $core, $("$python" --version 2>&1))" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    # shellcheck disable=SC2086  # pins is a word list
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "ansible-core==$core" $pins 2>&1 |
        grep -v "^WARNING: Location" >&2 || true
    "$venv/bin/python" -c 'import ansible, pytest, redis, jsonschema, cryptography' >&2
    bash "$root/tools/get_pip_standin.sh" "$venv" >&2
    echo "ansible-core==$core $pins" > "$stamp"
    bash "$root/tools/install_emulator.sh" "$venv"
    echo "$venv"
}

run_tests() {
    local line=$1 venv=$2 deselect=() file
    for file in "${LINE_INDEPENDENT[@]}"; do deselect+=(--ignore "$file"); done
    if [ -n "${MATRIX_QUICK:-}" ]; then
        for file in "${QUICK_SKIP[@]}"; do deselect+=(--ignore "$file"); done
        deselect+=(-m "not fuzz")
    fi
    (cd "$root" && IMDS_AZURE_TESTS_STRICT=1 "$venv/bin/python" -m pytest tests -q -p no:cacheprovider \
        "${deselect[@]}" -o junit_family=xunit2 --junitxml "$matrix/$line/pytest.xml")
}

run_sanity() {
    local line=$1 venv=$2 pythons=() python available=() failed=0 copy
    read -r -a pythons <<< "$(line_module_pythons "$line")"
    if [ -n "${MATRIX_QUICK:-}" ] && [ ${#pythons[@]} -gt 2 ]; then
        pythons=("${pythons[0]}" "${pythons[-1]}")
    fi
    for python in "${pythons[@]}"; do
        if python_for "$python" >/dev/null 2>&1; then available+=("$python"); fi
    done
    copy=$(COPY_NAME="matrix-$line" bash "$root/tools/collection_copy.sh")
    cd "$copy"
    PATH="$venv/bin:$PATH:$(python_bin_dirs)"
    export PATH
    # compile and import on every managed-node Python of the line, for the code that runs there
    # (plugins/; the tests run on the controller only); every other test once, on the controller Python.
    for python in "${available[@]}"; do
        ansible-test sanity --venv --python "$python" --test compile --test import --color no plugins/ ||
            failed=1
    done
    local selection=()
    if [ -n "${MATRIX_QUICK:-}" ]; then
        for name in "${QUICK_SANITY[@]}"; do selection+=(--test "$name"); done
    fi
    ansible-test sanity --venv --python "$(line_controller_python "$line")" --color no "${selection[@]}" ||
        failed=1
    cd "$root"
    return $failed
}

summary="$matrix/summary.txt"
lines=("$@")
[ ${#lines[@]} -gt 0 ] || read -r -a lines <<< "$ALL_LINES"
status=0
for line in "${lines[@]}"; do
    started=$SECONDS
    venv=$(line_venv "$line")
    version=$("$venv/bin/python" -c 'import ansible.release as r; print(r.__version__)')
    echo "=== matrix $line: ansible-core $version on $("$venv/bin/python" --version 2>&1)"
    tests=failed sanity=failed
    if run_tests "$line" "$venv"; then tests=passed; fi
    if (run_sanity "$line" "$venv"); then sanity=passed; fi
    counts=$("$venv/bin/python" - "$matrix/$line/pytest.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot()
suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
get = lambda key: int(suite.get(key, 0))
print("%d tests, %d failed, %d errors, %d skipped" % (get("tests"), get("failures"), get("errors"), get("skipped")))
PY
)
    result="$(date -u +%FT%TZ) ansible-core $version ($("$venv/bin/python" --version 2>&1)): pytest $tests ($counts), sanity $sanity on $(line_module_pythons "$line"), $((SECONDS - started)) s"
    echo "$result" | tee -a "$summary"
    if [ -z "${MATRIX_QUICK:-}" ]; then
        tree=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
        "$root/.cache/venv/bin/python" "$root/tools/support_page.py" "$root/docs/docsite/rst/guide_support.rst" \
            "$line" "$version" "$(line_controller_python "$line")" "$(line_module_pythons "$line")" \
            "$(date -u '+%-d %b %Y'), tree $tree, full mode: pytest $tests ($counts), sanity $sanity on $(line_module_pythons "$line"), $((SECONDS - started)) s"
    fi
    [ "$tests" = passed ] && [ "$sanity" = passed ] || status=1
done
exit $status
