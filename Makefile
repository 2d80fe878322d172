# Two commands matter: `make run` (the whole app on http://127.0.0.1:8000/) and `make test`
# (what CI runs). Everything else is a convenience.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# python3.11 when the machine has it, else python3; the install step checks it is 3.11+.
PYTHON ?= $(or $(shell command -v python3.11 2>/dev/null),python3)
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install, so pip only runs again when the dependencies change.
INSTALLED := $(VENV)/.installed
PIP_FLAGS := --quiet --disable-pip-version-check
PYTEST_ARGS ?=
# The SQLite pass ignores DATABASE_URL, so that it stays SQLite on a machine that sets one.
# The tests that start real processes (marked slow) run in the PostgreSQL pass, where the fault
# tests that need PostgreSQL run too; the benchmark's smoke run and the browser tests go in the
# SQLite pass. Side by side they keep `make test` near 8 minutes on 2 cores.
PYTEST_SQLITE = env -u DATABASE_URL $(BIN)/pytest -m "not slow or bench" $(PYTEST_ARGS)
PYTEST_POSTGRES = $(BIN)/python -m tests.postgres -m "not bench and not browser" $(PYTEST_ARGS)
CHECK_PYTHON := $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	|| { echo "error: $(PYTHON) is older than 3.11; set PYTHON=/path/to/python3.11" >&2; exit 1; }

.PHONY: help venv install run test test-sqlite test-postgres lint format clean lock bench chromium

help:
	@echo "make run      start web server, Celery worker and beat, embedded Redis, demo data"
	@echo "make test     lint, Django checks, migrations check, pytest on SQLite then PostgreSQL"
	@echo "              (PYTEST_ARGS=... to pass on; make test-sqlite / test-postgres for one)"
	@echo "make lint     ruff check + ruff format --check"
	@echo "make format   ruff format + ruff check --fix"
	@echo "make lock     regenerate constraints.txt from a fresh venv"
	@echo "make clean    remove .venv and var/"

venv install: $(INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
	@$(CHECK_PYTHON)
	@test -x $(BIN)/python || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "Installing dependencies into $(VENV)"
	@$(BIN)/python -m pip install $(PIP_FLAGS) -c constraints.txt -e ".[test,bench]"
	@touch $@

run: $(INSTALLED)
	$(BIN)/python -m recovery.devstack

# The suite runs twice, on SQLite and on PostgreSQL side by side, a pass to each of 2 cores
# (PostgreSQL: DATABASE_URL's server if it is one, else a
# throwaway embedded server: see tests/postgres.py; ALLOW_NO_POSTGRES=1 lets a machine that cannot
# run one go on, never CI). The concurrency tests really race only on PostgreSQL.
test: $(INSTALLED) chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	@echo "== pytest on SQLite and on PostgreSQL, side by side (lines prefixed by pass) =="
	@set -o pipefail; \
	{ $(PYTEST_SQLITE) 2>&1 | sed -u 's/^/[sqlite] /'; } & sqlite=$$!; \
	{ $(PYTEST_POSTGRES) 2>&1 | sed -u 's/^/[postgres] /'; } & postgres=$$!; \
	wait $$sqlite; s=$$?; wait $$postgres; p=$$?; \
	echo "== SQLite pass exited $$s, PostgreSQL pass exited $$p =="; \
	[ $$s -eq 0 ] && [ $$p -eq 0 ]

test-sqlite: $(INSTALLED) chromium
	$(PYTEST_SQLITE)

test-postgres: $(INSTALLED)
	$(PYTEST_POSTGRES)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var

# The browser tests drive Debian's Chromium (Playwright's own download does not work here).
# Installed when missing and we may (root, apt-get); otherwise they are skipped, except in CI.
chromium:
	@command -v chromium >/dev/null 2>&1 || [ -n "$$CHROMIUM" ] || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing Debian's chromium for the browser tests"; \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "warning: chromium is not installed; the browser tests will be skipped" >&2; \
		fi; }

# The benchmark (BENCHMARKS.md): its own population in a throwaway embedded PostgreSQL, the real
# processes, every figure beside its anchor and goal. BENCH_ARGS=--sqlite, --small (a 2-minute
# smoke run) or --enrollees N (also BENCH_ENROLLEES); about 20 minutes on 2 cores at 100,000.
bench: $(INSTALLED)
	$(BIN)/python manage.py bench $(BENCH_ARGS)

# Resolves pyproject's pins afresh (newest matching transitive versions) in a throwaway venv;
# constraints.txt is only replaced once the freeze succeeded.
lock:
	@$(CHECK_PYTHON)
	@set -euo pipefail; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install $(PIP_FLAGS) -e ".[test]"; \
	"$$tmp/venv/bin/python" -m pip freeze --exclude-editable > "$$tmp/constraints.txt"; \
	mv "$$tmp/constraints.txt" constraints.txt; \
	echo "constraints.txt regenerated"
