# rareflow: two entry points (see README). Only python3, pip and make are needed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= rareflow-out
TEST_VENV ?= .venv-test

.PHONY: demo test test-dev test-installed typecheck install install-dev lint bench bench-plan-full clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## Set up and run the bundled U.S. baseline, ending in an HTML report under $(OUT)/
demo: install
	$(BIN)/rareflow demo --out $(OUT)

## Set up and run the whole test suite as users get it: build the wheel of this checkout,
## install it (not editable, with the dev extras) into .venv-test, and run the suite from an
## empty folder outside the checkout, so no test can lean on the working directory or src/
test: | $(BIN)/python
	PYTHON=$(PYTHON) TEST_VENV=$(TEST_VENV) bash tools/test-installed.sh

## The same suite against the editable install in .venv (quicker while editing; no wheel)
test-dev: install-dev
	$(BIN)/python -m pytest -n 2 -q tests

## The old name of `make test` (which now always tests the installed wheel)
test-installed: test

## Static types: mypy over src/ (strict on the modules listed in pyproject.toml)
typecheck: install-dev
	$(BIN)/mypy

## Benchmarks against the peers named in the issues (minutes; not part of the tests).
## The full 50x8x30x20 plan LP takes about 15 min with rareflow and 20 min with Pyomo:
## `make bench-plan-full` runs it; `make bench` uses the exact scenario compression.
lint: install-dev
	$(BIN)/ruff check src tests benchmarks tools

bench: install-dev
	$(BIN)/python benchmarks/bench_run.py
	$(BIN)/python benchmarks/bench_stocks.py
	$(BIN)/python benchmarks/bench_simulate.py
	$(BIN)/python benchmarks/bench_optimize.py --compress

bench-plan-full: install-dev
	$(BIN)/python benchmarks/bench_optimize.py

clean:
	rm -rf $(VENV) $(TEST_VENV) $(OUT) .pytest_cache .hypothesis
