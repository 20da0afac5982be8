# One-command setup: every target creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test check lint typecheck pytest bench eval clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(STAMP)

## run: the Telegram bot when a token is configured, else the console chat
run: $(STAMP)
	@if $(BIN)/etown-bot has-token >/dev/null 2>&1; then \
		exec $(BIN)/etown-bot run; \
	else \
		echo "No Telegram token configured (TELEGRAM_BOT_TOKEN or telegram.token): starting the console chat."; \
		exec $(BIN)/etown-bot shell; \
	fi

## test: lint, type-check and the test suite
test: lint typecheck pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

pytest: $(DEV_STAMP)
	$(BIN)/python -m pytest -q

## check: validate the knowledge base
check: $(STAMP)
	$(BIN)/etown-bot check

## eval: quality on the labelled dev set
eval: $(STAMP)
	$(BIN)/etown-bot eval --cases tests/data/eval.yaml

## bench: speed and quality benchmarks with side-by-side baselines
bench: $(DEV_STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache
