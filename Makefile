# Two entry points, both doing all set-up themselves on a fresh machine:
#   make demo  - start the IMDS emulator and gather facts from it, as on an Azure VM
#   make test  - every test: pytest (unit, Ansible end to end, namespaces), ansible-test sanity, docs lint
SHELL := /bin/bash
VENV := .cache/venv
PY := $(VENV)/bin/python

.PHONY: setup demo test pytest sanity docs-lint bench clean

setup:
	@bash tools/setup.sh

demo: setup
	@$(PY) tools/demo.py

test: setup pytest sanity docs-lint

pytest:
	$(PY) -m pytest tests

sanity:
	bash tools/sanity.sh

docs-lint:
	bash tools/docs_lint.sh

bench: setup
	$(PY) tests/bench/bench_facts.py
	$(PY) tests/bench/bench_inventory.py

clean:
	rm -rf .cache tests/output
