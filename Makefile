# One entry point for every job. Each target creates .venv on a fresh machine first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck layers unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## The whole loop on the embedded sandbox: validate, plan, apply, plan again, drift.
run: $(STAMP)
	$(BIN)/reconciler validate
	$(BIN)/reconciler plan
	$(BIN)/reconciler apply --auto-approve
	$(BIN)/reconciler plan --detailed-exitcode
	$(BIN)/reconciler drift

## Every check: lint, types, layers, tests.
test: lint typecheck layers unit

lint: $(STAMP)
	$(BIN)/ruff check reconciler tests
	$(BIN)/ruff format --check reconciler tests

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(PY) -m tests.bench

clean:
	rm -rf $(VENV) .reconciler .pytest_cache .mypy_cache .ruff_cache
