# segment-reports: run `make help` for the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SR := $(BIN)/segment-reports
# Demo data: 90 days of a web and a mobile source up to DEMO_END (UTC), then one
# more day. A fixed end gives the same data on every machine, every day.
DEMO_EVENTS ?= 200000
DEMO_END ?= 2026-10-31
DEMO_SOURCES := --source production:web --source ios:mobile
# make bench SIZE=1000000 [BENCH_ARGS='--project-dir ../other-checkout']
SIZE ?= 1000000
BENCH_ARGS ?=
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
	$(SR) settings set segment_schemas '[production, ios]'
	$(SR) settings set internal_domains '[harbordb.example]'
	$(SR) generate $(DEMO_SOURCES) --events $(DEMO_EVENTS) --days 90 \
		--end $(DEMO_END) --seed 42
	$(SR) run
	$(SR) generate $(DEMO_SOURCES) --days 1 --seed 42
	@# the incremental build, with one milestone announced through a throwaway
	@# RabbitMQ (skipped, saying how to install it, without rabbitmq-server)
	$(BIN)/python -m segment_reports.demo_milestone
	$(SR) preview
	@# the runs just made; the demo's data ends at DEMO_END, so its sources show stale
	$(SR) status --runs 3 || true
	$(SR) warehouse status

test: setup ## Run every test (starts its own throwaway PostgreSQL)
	$(BIN)/pytest -q -n 2 --dist loadfile --durations=25 $(PYTEST_ARGS)

lint: setup ## Lint Python (ruff) and SQL (sqlfluff, one process per core)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint --processes 0 models macros tests

format: setup ## Fix formatting (ruff format, sqlfluff fix)
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix --processes 0 models macros tests

bench: setup ## Time the builds, their floor and BI queries: make bench SIZE=1000000
	$(SR) bench --events $(SIZE) $(BENCH_ARGS)

clean: ## Stop the local warehouse and remove it, the virtualenv and dbt's output
	-test -x $(SR) && $(SR) warehouse down
	rm -rf .warehouse target logs .bench $(VENV)
