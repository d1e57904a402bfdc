# Two entry points, both doing all set-up themselves on a fresh machine:
#   make demo  - start the IMDS emulator and gather facts from it, as on an Azure VM
#   make test  - every test: pytest (unit, Ansible end to end, namespaces), ansible-test sanity,
#                docs lint, ansible-lint and syntax checks, Molecule for the imds_route role
SHELL := /bin/bash
VENV := .cache/venv
PY := $(VENV)/bin/python

.PHONY: setup demo test pytest sanity docs-lint lint molecule bench clean

setup:
	@bash tools/setup.sh

demo: setup
	@$(PY) tools/demo.py

test: setup pytest sanity docs-lint lint molecule

pytest:
	$(PY) -m pytest tests

sanity:
	bash tools/sanity.sh

docs-lint:
	bash tools/docs_lint.sh

lint:
	bash tools/lint.sh

molecule:
	bash tools/molecule.sh

bench: setup
	$(PY) tests/bench/bench_facts.py
	$(PY) tests/bench/bench_inventory.py

clean:
	rm -rf .cache tests/output
