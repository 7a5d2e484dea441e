# segment-reports: run `make help` for the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SR := $(BIN)/segment-reports
# Demo data: about 90 days of a web source plus a mobile source, then one more day.
DEMO_EVENTS ?= 200000
DEMO_VARS := {segment_schemas: [production, ios]}
# make bench SIZE=1000000
SIZE ?= 1000000
PYTEST_ARGS ?=

.PHONY: help setup demo test lint format bench clean

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-8s\033[0m %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"
	$(BIN)/pip install --quiet --only-binary :all: -c constraints.txt -e '.[dev]'
	touch $@

setup: $(BIN)/.installed ## Create the virtualenv with the pinned dependencies
	@test -f profiles.yml || cp profiles.example.yml profiles.yml

demo: setup ## Start the local warehouse, load demo data, build every model, show reports
	$(SR) warehouse up
	$(SR) warehouse reset --yes
	$(SR) generate --source production:web --source ios:mobile \
		--events $(DEMO_EVENTS) --days 90 --seed 42
	$(SR) run --vars '$(DEMO_VARS)'
	$(SR) generate --source production:web --source ios:mobile --days 1 --seed 42
	$(SR) run --vars '$(DEMO_VARS)'
	$(SR) preview

test: setup ## Run every test (starts its own throwaway PostgreSQL)
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: setup ## Lint Python (ruff) and SQL (sqlfluff)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint models macros tests

format: setup ## Fix formatting (ruff format, sqlfluff fix)
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix models macros tests

bench: setup ## Time a full and an incremental build: make bench SIZE=1000000
	$(SR) bench --events $(SIZE)

clean: ## Stop the local warehouse and remove it, the virtualenv and dbt's output
	-test -x $(SR) && $(SR) warehouse down
	rm -rf .warehouse target logs .bench $(VENV)
