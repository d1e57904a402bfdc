# Every target runs the set-up first (tools/setup.sh: Debian packages as root, the pinned virtualenv
# in .cache/venv, the collections the tests use), so each works on a fresh clone.
#   make demo     start the IMDS emulator and gather facts from it, as on an Azure VM
#   make test     everything CI runs (see the README, "For contributors")
#   make quick    the unit tests and the quick end-to-end checks, for the edit-test loop
#   make matrix   the unit and end-to-end tests plus ansible-test sanity on every ansible-core line
SHELL := /bin/bash
VENV := .cache/venv
PY := $(VENV)/bin/python
# Tests that cannot find a piece they need (../shared, the set-up's collections) fail instead of skipping.
export IMDS_AZURE_TESTS_STRICT := 1

.PHONY: setup demo test quick pytest units sanity docs-lint docs lint molecule matrix matrix-edges build \
	importer ee changelog bench fuzz mutation clean

setup:
	@bash tools/setup.sh

demo: setup
	@$(PY) tools/demo.py

test: setup pytest sanity docs-lint docs lint build importer ee molecule matrix-edges
	@echo "make test: all passed"

pytest: setup
	$(PY) -m pytest tests

# The edit-test loop: the unit tests (property tests with their short default runs) and the end-to-end
# checks marked quick (a module, a Windows host, the inventory through ansible-playbook/-inventory).
quick: setup
	$(PY) -m pytest tests/unit -q -m "not fuzz"
	$(PY) -m pytest tests/functional -q -m quick

units: setup
	bash tools/units.sh

sanity: setup
	bash tools/sanity.sh

docs-lint: setup
	bash tools/docs_lint.sh

docs: setup
	@SETUP_BROWSER=1 bash tools/setup.sh
	bash tools/docs.sh

lint: setup
	bash tools/lint.sh

molecule: setup
	bash tools/molecule.sh

# Every supported ansible-core line (about 10 minutes a line here); `tools/matrix.sh 2.18` for one.
matrix: setup
	bash tools/matrix.sh

# The oldest and the newest line (the pinned one is what pytest and sanity above run).
matrix-edges: setup
	MATRIX_QUICK=1 bash tools/matrix.sh 2.16 2.21

# The collection tarball (in .cache/build), as `ansible-galaxy collection build` makes it.
build: setup
	bash tools/build.sh

importer: setup
	bash tools/importer.sh

ee: setup
	bash tools/ee.sh

# Fold every fragment in changelogs/fragments into the 0.2.0 release (CHANGELOG.rst, changelog.yaml).
changelog: setup
	bash tools/changelog.sh

bench: setup
	$(PY) tests/bench/bench_facts.py
	$(PY) tests/bench/bench_inventory.py

fuzz: setup
	IMDS_AZURE_FUZZ_EXAMPLES=20000 $(PY) -m pytest tests -m fuzz -q --hypothesis-profile=fuzz

mutation: setup
	bash tools/mutation.sh

clean:
	rm -rf .cache tests/output docs/docsite/build
