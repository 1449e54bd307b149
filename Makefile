# Strongroom's developer tasks.  `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: run test check lint typecheck imports fmt bench docs clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml requirements.lock
	$(PIP) install -c requirements.lock -e .
	@touch $@

$(TEST_STAMP): $(STAMP) pyproject.toml requirements.lock
	$(PIP) install -c requirements.lock -e '.[test]'
	@touch $@

## Start the server on the embedded default (SQLite + ./data) at http://127.0.0.1:8750
run: $(STAMP)
	$(BIN)/strongroom serve

## Lint, type-check and import contracts, then the whole test suite (SQLite and PostgreSQL)
test: check
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

check: $(TEST_STAMP) lint typecheck imports

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

imports: $(TEST_STAMP)
	$(BIN)/lint-imports --no-cache

fmt: $(TEST_STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(TEST_STAMP)
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

docs: $(TEST_STAMP)
	$(BIN)/python scripts/docs.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .import_linter_cache
