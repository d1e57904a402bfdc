#!/usr/bin/env bash
# Mutation testing (mutmut 3.8) of the eight pure-logic files against the unit tests, then the score
# per file (tools/mutation_score.py). Not part of `make test`: about 20 minutes on two cores.
#
# mutmut mutates a copy of the sources in ./mutants and runs the tests from there, so the run
# happens in .cache/mutation, on a copy laid out as ansible_collections/imds/azure: mutmut puts
# mutants/ first on sys.path, so `ansible_collections.imds.azure...` imports the mutated files.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work="$root/.cache/mutation"
collections="$root/.cache/collections/ansible_collections"
files=(
    plugins/module_utils/_transport.py
    plugins/module_utils/_transport_errors.py
    plugins/module_utils/_client.py
    plugins/module_utils/_answer_errors.py
    plugins/module_utils/_retry.py
    plugins/plugin_utils/_fact_records.py
    plugins/plugin_utils/_route_parse.py
    plugins/plugin_utils/_route_plan.py
    plugins/plugin_utils/_group_names.py
)
# MUTATION_FILES="plugins/module_utils/_retry.py ..." limits a run to some of them.
if [ -n "${MUTATION_FILES:-}" ]; then read -ra files <<< "$MUTATION_FILES"; fi

rm -rf "$work"
# mutmut names a mutant after the module path of its file, so the copy keeps the collection's import path.
copy="$work/ansible_collections/imds/azure"
mutated="$work/mutants/ansible_collections/imds/azure"
mkdir -p "$copy" "$mutated/.cache/collections/ansible_collections"
cd "$root"
git ls-files -co --exclude-standard -z -- plugins tests meta galaxy.yml | xargs -0 cp --parents -t "$copy"
# The tests look for the shared IMDS facts beside the checkout, and for the other collections in its .cache.
ln -s "$root/../shared" "$work/mutants/ansible_collections/imds/shared"
for name in ansible community; do
    ln -s "$collections/$name" "$mutated/.cache/collections/ansible_collections/$name"
done

{
    echo "[mutmut]"
    echo "source_paths ="
    printf '    ansible_collections/imds/azure/%s\n' "${files[@]}"
    echo "also_copy ="
    printf '    ansible_collections/imds/azure/%s\n' plugins tests meta galaxy.yml
    echo "pytest_add_cli_args_test_selection = ansible_collections/imds/azure/tests/unit"
    # That test loads ansible-core's jsonfile cache plugin, whose collection finder cannot work with
    # mutants/ansible_collections first on sys.path; it exercises no mutated file.
    # One argument a line: mutmut passes each line to pytest as one argv entry.
    echo "pytest_add_cli_args ="
    printf '    %s\n' -p no:cacheprovider --hypothesis-profile=mutation --deselect \
        ansible_collections/imds/azure/tests/unit/plugins/plugin_utils/test_fact_cache.py::test_jsonfile_both_layouts_newest_wins_and_nothing_changes
} > "$work/setup.cfg"

cd "$work"
# Property tests with their own settings read IMDS_AZURE_FUZZ_EXAMPLES (helpers/fuzz.py has a profile).
PATH="$root/.cache/venv/bin:$PATH" IMDS_AZURE_FUZZ_EXAMPLES=12 mutmut run --max-children "${MUTATION_JOBS:-2}" > "$work/run.log" 2>&1 || {
    tail -40 "$work/run.log"
    exit 1
}
"$root/.cache/venv/bin/python" "$root/tools/mutation_score.py" "$work/mutants/ansible_collections/imds/azure" "${files[@]}"
