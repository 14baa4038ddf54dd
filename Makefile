# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: setup run test lint reliability bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]' --config-settings editable_mode=compat
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

setup: $(STAMP)

## Start the whole system on the embedded default with the demo year.
run: setup
	$(BIN)/yearwheel dev --demo

## Lint, type-check and run every test suite.
test: setup lint
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

## The reliability suite alone (faults on real processes, hostile input, database keys), with
## the API down for the issue's full 30 s; `make test` runs it too, with a 10 s outage.
reliability: setup
	YEARWHEEL_RELIABILITY_API_OUTAGE=30 $(BIN)/pytest -m reliability

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf .yearwheel .pytest_cache .mypy_cache .ruff_cache
