# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: setup browser run test lint reliability bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]' --config-settings editable_mode=compat
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

setup: $(STAMP)

## Debian's Chromium for the browser tests (tests/web drive it through Playwright's
## executable_path; never `playwright install`). Without it they skip, saying why.
CHROMIUM := /usr/lib/chromium/chromium
browser:
	@test -x $(CHROMIUM) || (apt-get update -qq && \
		apt-get install -y -qq -o DPkg::Lock::Timeout=600 chromium >/dev/null) || \
		echo "Chromium could not be installed; the browser tests (tests/web) will skip"

## Start the whole system on the embedded default with the demo year.
run: setup
	$(BIN)/yearwheel dev --demo

## Lint, type-check and run every test suite.
test: setup browser lint
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

## The reliability suite alone (faults on real processes, hostile input, database keys), with
## the API down for a full 30 s; `make test` runs it too, with a 10 s outage.
reliability: setup
	YEARWHEEL_RELIABILITY_API_OUTAGE=30 $(BIN)/pytest -m reliability

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf .yearwheel .pytest_cache .mypy_cache .ruff_cache
