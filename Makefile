# `make demo` shows the whole bridge at work; `make run` starts the bridge with the embedded
# SQLite database; `make test` runs every test.
# Both create the virtual environment in .venv on first use and reinstall when pyproject changes.

VENV ?= .venv
PYTHON ?= python3
CONFIG ?= config.yaml
INSTALLED := $(VENV)/.installed

.PHONY: demo run install test browser lint format clean bench

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
	$(VENV)/bin/python -m bridge.web.assets  # the migration page's charts (npm registry)
	touch $@

# Lint first (ruff, mypy), then the whole suite: SQLite and PostgreSQL, a real Synapse and the
# Discord emulator. PostgreSQL comes from BRIDGE_TEST_POSTGRES_URL (default 127.0.0.1:5432).
# Then the tests whose behaviour can depend on the homeserver's answers again, with Synapse
# made to answer like conduwuit (bridge/sandbox/homeserver_profile.py lists the differences
# and their sources; tests/fixtures/homeserver.py says which tests are left out and why).
# Three workers (pytest-xdist), each with its own Synapse and emulator, a test module per
# worker at a time: the tests mostly wait (on Synapse, outages, restarts; the CPUs were busy
# under half the time with two), so three finish in about 10 minutes on 2 cores instead of 14.
PYTEST := $(VENV)/bin/python -m pytest -n 3 --dist loadfile
test: $(INSTALLED) lint browser
	$(PYTEST)
	BRIDGE_TEST_HOMESERVER_PROFILE=conduwuit $(PYTEST)

# The migration page's test drives Debian's chromium headless: installed when missing and we
# are root; otherwise that test skips (and fails when CI is set).
browser:
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
		{ apt-get update -qq && apt-get install -y --no-install-recommends chromium; }

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy bridge

format: $(INSTALLED)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Every benchmark in bench/, one after another (each starts what it needs on loopback and
# ends with its headline line; the Synapse ones take a few minutes).
bench: $(INSTALLED)
	$(VENV)/bin/python bench/markdown_speed.py
	$(VENV)/bin/python bench/import_ceiling.py
	$(VENV)/bin/python bench/live_ceiling.py
	$(VENV)/bin/python bench/relay_load.py
	$(VENV)/bin/python bench/scale.py
	$(VENV)/bin/python bench/import_throughput.py
	$(VENV)/bin/python bench/relay_latency.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info
