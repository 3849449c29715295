# `make demo` shows the whole bridge at work; `make run` starts the bridge with the embedded
# SQLite database; `make test` runs every test.
# Both create the virtual environment in .venv on first use and reinstall when pyproject changes.

VENV ?= .venv
PYTHON ?= python3
CONFIG ?= config.yaml
INSTALLED := $(VENV)/.installed

.PHONY: demo run install test lint format clean

# A sample Discord community migrated to a local Synapse, live both ways; Ctrl-C stops it.
demo: $(INSTALLED)
	$(VENV)/bin/python -m bridge demo

run: $(INSTALLED)
	$(VENV)/bin/python -m bridge -c $(CONFIG)

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test,sandbox]'
	touch $@

# Lint first (ruff, mypy), then the whole suite: SQLite and PostgreSQL, a real Synapse and the
# Discord emulator. PostgreSQL comes from BRIDGE_TEST_POSTGRES_URL (default 127.0.0.1:5432).
test: $(INSTALLED) lint
	$(VENV)/bin/python -m pytest

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy bridge

format: $(INSTALLED)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info
