# City Vibes developer entry points. `make run` and `make test` are the README's two commands.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-test demo evaluate loadtest lint format check-migrations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.base-installed: requirements/base.txt requirements/constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/base.txt
	touch $@

$(VENV)/.test-installed: requirements/test.txt $(VENV)/.base-installed
	$(BIN)/pip install --quiet -r requirements/test.txt
	touch $@

$(VENV)/.load-installed: requirements/load.txt $(VENV)/.base-installed
	$(BIN)/pip install --quiet -r requirements/load.txt
	touch $@

install: $(VENV)/.base-installed

install-test: $(VENV)/.test-installed

## Install, migrate, load demo content, serve at http://$(HOST):$(PORT)
run: install demo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --per-city 20 --train

## Install test dependencies and run the whole suite (SQLite unless DATABASE_URL is set)
test: install-test
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Recommendation quality of every ranker on simulated users (docs/EVALUATION.md)
evaluate: install-test
	$(BIN)/python -m bench.evaluate_rankers --users 1000 --swipes 100

## Load, faults and consistency on gunicorn + the local PostgreSQL and Redis (docs/BENCHMARKS.md)
loadtest: install-test $(VENV)/.load-installed
	$(BIN)/python -m bench.loadtest $(LOADTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) media/ private/ db.sqlite3 .pytest_cache test-artifacts
