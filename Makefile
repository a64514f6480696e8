# One command surface for people and CI. The README quotes these targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The install stamp carries a hash of the dependency files, so changing them reinstalls.
DEPS_HASH := $(shell cat pyproject.toml requirements.lock | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(DEPS_HASH)
POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=

# Debian packages the tests need: Chromium for the browser tests (Playwright drives it; no
# browser download), poppler-utils to render label PDFs and read their barcodes back.
SYSTEM_TOOLS := /usr/bin/chromium /usr/bin/pdftoppm

.PHONY: setup system-packages demo serve lint test test-sqlite test-postgres lock clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "doorstep needs Python 3.11; run with PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

system-packages: $(SYSTEM_TOOLS)

$(SYSTEM_TOOLS):
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium poppler-utils

## The main job: the example network, then today simulated through doorstep's own services
## (shoppers, the planner, drivers, partner stores, the carrier), its KPIs and report, then the
## API on :8000 to click through the day. Running it again shows the day already simulated.
demo: setup
	$(BIN)/doorstep db upgrade
	$(BIN)/doorstep network import examples/chandler-az/network.geojson
	$(BIN)/doorstep demo day --orders 300
	$(BIN)/doorstep serve

serve: setup
	$(BIN)/doorstep db upgrade
	$(BIN)/doorstep serve

## Every check: lint, types, the tests on SQLite and again on PostgreSQL. The two suites run
## side by side (each on its own database; much of their time is spent waiting on servers,
## browsers and the database); each prints its report when it ends.
test: lint system-packages
	@echo "== the tests on SQLite and on PostgreSQL, side by side (about 15 minutes) =="
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

lint: setup
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test-sqlite: setup
	@echo "== tests on SQLite =="
	$(BIN)/pytest -q $(PYTEST_ARGS)

test-postgres: setup
	@echo "== tests on PostgreSQL ($(POSTGRES_URL)) =="
	DOORSTEP_TEST_DATABASE_URL=$(POSTGRES_URL) $(BIN)/pytest -q $(PYTEST_ARGS)

## Rewrite requirements.lock from a clean install of pyproject.toml's ranges
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	{ echo "# Exact versions CI tested; the README's commands install with '-c requirements.lock'."; \
	  echo "# Regenerate with 'make lock' after changing dependencies in pyproject.toml."; \
	  .venv-lock/bin/pip freeze --exclude-editable | grep -v '^doorstep'; } > requirements.lock
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
