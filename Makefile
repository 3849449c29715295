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
# Then the start-up, portal and relay end-to-end tests again, with Synapse made to answer like
# conduwuit (bridge/sandbox/homeserver_profile.py lists the differences and their sources).
PROFILE_TESTS := tests/test_startup.py tests/test_portal_startup.py tests/test_portals.py \
	tests/test_portal_updates.py tests/test_bridge_e2e.py tests/test_relay_d2m.py \
	tests/test_relay_m2d.py tests/test_relay_replies.py \
	tests/test_homeserver_profiles.py::test_the_session_homeserver_answers_as_its_profile
test: $(INSTALLED) lint
	$(VENV)/bin/python -m pytest
	BRIDGE_TEST_HOMESERVER_PROFILE=conduwuit $(VENV)/bin/python -m pytest $(PROFILE_TESTS)

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy bridge

format: $(INSTALLED)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info
