# Handoff: the two commands a new user needs are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint check format worker beat migrate seed clean

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Handoff needs Python 3.11 or newer (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(PY)
	$(PIP) install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install --quiet -r requirements-dev.txt
	@touch $(VENV)/.runtime-installed $@

## run: install, migrate, load the demo data (idempotent) and serve http://$(HOST):$(PORT)
run: $(VENV)/.runtime-installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "Serving Handoff on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	$(PY) manage.py runserver $(HOST):$(PORT)

## test: the lint gate, then the whole test suite
test: $(VENV)/.dev-installed lint
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py check

format: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrate: $(VENV)/.runtime-installed
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

## worker / beat: with REDIS_URL set, the Celery worker and the scheduler (outbox sweeper)
worker: $(VENV)/.runtime-installed
	$(VENV)/bin/celery -A config worker --loglevel=INFO --concurrency=2

beat: $(VENV)/.runtime-installed
	$(VENV)/bin/celery -A config beat --loglevel=INFO --schedule=var/celerybeat-schedule

## reliability: measure the notification pipeline against real PostgreSQL (DATABASE_URL), a private
## redis-server and worker processes, and write docs/reliability.md (a few minutes)
.PHONY: reliability
reliability: $(VENV)/.dev-installed
	$(PY) scripts/measure_reliability.py $(RELIABILITY_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
