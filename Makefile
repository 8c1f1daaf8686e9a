# Roster: `make run` serves the demo, `make test` runs every test. `make help` lists all.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
JOBS ?= 2

.DEFAULT_GOAL := help

help: ## List every target
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install Roster with its pinned dependencies

browser: ## Install Debian's Chromium (dashboard tests, never a downloaded browser) and jq (docs examples)
	@test -x /usr/bin/chromium -a -x /usr/bin/jq || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium jq >/dev/null; }

run: install ## Set up the database, seed the demo workspace and serve http://$(HOST):$(PORT)
	ROSTER_HOST=$(HOST) ROSTER_PORT=$(PORT) $(BIN)/roster init --demo
	ROSTER_HOST=$(HOST) ROSTER_PORT=$(PORT) $(BIN)/roster serve

test: install browser ## Run the whole suite (SQLite, and PostgreSQL when it answers) on JOBS processes
	$(BIN)/pytest -n $(JOBS) --dist loadfile -m "not serial" --cov --cov-report= $(PYTEST_ARGS)
	$(BIN)/pytest -m serial --cov --cov-append --cov-report=term $(PYTEST_ARGS) || test $$? -eq 5

check: install ## ruff, mypy strict, the layers contract and alembic check
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations
	$(BIN)/mypy
	$(BIN)/lint-imports
	ROSTER_DATABASE_URL=sqlite:///$$(mktemp -d)/check.db bash -c '$(BIN)/roster db upgrade && $(BIN)/alembic check'

format: install ## Rewrite the code in ruff's format and apply safe fixes
	$(BIN)/ruff format src tests bench migrations
	$(BIN)/ruff check --fix src tests bench migrations

stress: install ## The long stress and fault run on PostgreSQL (5 min of load, 3 servers); prints its summary
	ROSTER_REQUIRE_POSTGRES=1 ROSTER_STRESS_SECONDS=$${ROSTER_STRESS_SECONDS:-300} \
	ROSTER_STRESS_SERVERS=$${ROSTER_STRESS_SERVERS:-3} ROSTER_STRESS_CONCURRENCY=$${ROSTER_STRESS_CONCURRENCY:-12} \
	ROSTER_STRESS_USERS=$${ROSTER_STRESS_USERS:-10000} $(BIN)/pytest -x -s tests/stress

bench: install ## Run every benchmark (or BENCH="me bulk") and print its ratio (docs/benchmarks.md)
	$(BIN)/python -m bench $(BENCH)

screenshots: install browser ## Refresh docs/screenshots/ (users page, a Blocked profile) from the demo seed
	$(BIN)/python -m tests.e2e.admin.screenshots

clean: ## Remove the venv, caches and the local database
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage roster.db roster.db-*

.PHONY: help install browser run test check format bench clean
.PHONY: screenshots stress
