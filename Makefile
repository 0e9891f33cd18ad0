# Handoff: the two commands a new user needs are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
comma := ,
# `make run` serves, prints and links to one address: an IPv6 host in brackets, as runserver and URLs
# want it; emails link there too unless HANDOFF_SITE_URL says otherwise.
RUN_HOST = $(patsubst [%],%,$(HOST))
RUN_ADDR = $(if $(findstring :,$(RUN_HOST)),[$(RUN_HOST)],$(RUN_HOST)):$(PORT)
RUN_SITE_URL = $(or $(HANDOFF_SITE_URL),http://$(RUN_ADDR))
RUN_ENV = HANDOFF_SITE_URL=$(RUN_SITE_URL) \
	DJANGO_ALLOWED_HOSTS=$(or $(DJANGO_ALLOWED_HOSTS),127.0.0.1$(comma)localhost$(comma)$(if $(findstring :,$(RUN_HOST)),[$(RUN_HOST)],$(RUN_HOST)))
# The suite's database: PostgreSQL when DATABASE_URL names one, else SQLite (unset or empty). On SQLite the
# tests marked `postgresql` (pyproject.toml: worker processes, row-lock races, the bench's COPY) are
# deselected, and pytest's summary counts them; CI runs the suite on both (.ci/run).
ON_POSTGRESQL = $(filter postgres://% postgresql://% pgsql://% postgis://%,$(DATABASE_URL))
PYTEST_DB_ARGS = $(if $(ON_POSTGRESQL),,-m "not postgresql")
# What the dependency audit does when PyPI's vulnerability API does not answer: warn (a loud "NOT
# AUDITED" banner) or fail. See README "Security" and .ci/audit.py.
PIP_AUDIT_UNREACHABLE ?= warn
# Dummy values: only for `check --deploy` on the production settings, never used to serve anything.
DEPLOY_CHECK_ENV := DJANGO_SETTINGS_MODULE=config.settings.production \
	DJANGO_SECRET_KEY=deploy-check-only-3vQ9xL2mT7pR4sW8yB1nK6cF0hJ5gD2aZ7uE4iO9 \
	DJANGO_ALLOWED_HOSTS=handoff.example.org HANDOFF_SITE_URL=https://handoff.example.org \
	DATABASE_URL=postgres://deploy-check@127.0.0.1:5432/deploy_check REDIS_URL=redis://127.0.0.1:6379/15 \
	HANDOFF_TOTP_KEYS=ZGVwbG95LWNoZWNrLW9ubHktbm90LWEtc2VjcmV0ISE=

.PHONY: run test test-suite test-deps lint audit check format schema worker beat migrate seed bench clean lock prod-local

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Handoff needs Python 3.11 or newer (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)

# The three lock files (made by `make lock`) name every package with its hashes, and pip installs them with
# --require-hashes: a file whose hash is not in the lock, or a dependency the lock lacks, stops the install.
# pip and setuptools first, from their own lock: the venv's own are old (pip 23.2.1: CVE-2023-5752,
# setuptools 65.5.0: CVE-2022-40897), and the other two then install with the locked pip.
$(VENV)/.bootstrap-installed: requirements-bootstrap.txt | $(PY)
	$(PIP) install --quiet --require-hashes -r requirements-bootstrap.txt
	@touch $@

$(VENV)/.runtime-installed: requirements.txt $(VENV)/.bootstrap-installed
	$(PIP) install --quiet --require-hashes -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt $(VENV)/.bootstrap-installed
	$(PIP) install --quiet --require-hashes -r requirements-dev.txt
	@touch $(VENV)/.runtime-installed $@

## lock: remake the lock files requirements-bootstrap.txt, requirements.txt and requirements-dev.txt from
## their .in files (the direct dependencies), with pip-tools in a virtualenv of its own ($(LOCK_VENV));
## pins already locked are kept: `make lock LOCK_ARGS=--upgrade` (or --upgrade-package NAME) moves them
LOCK_VENV ?= .venv-lock
LOCK_ARGS ?=
PIP_TOOLS := pip-tools==7.7.0
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "make lock resolves for Python 3.11: set PYTHON=python3.11")'
	test -x $(LOCK_VENV)/bin/python || $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --require-hashes -r requirements-bootstrap.txt
	$(LOCK_VENV)/bin/python -m pip install --quiet '$(PIP_TOOLS)'
	$(PIP_COMPILE) --output-file requirements-bootstrap.txt requirements-bootstrap.in
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in

## run: install, migrate, load the exercise library and the demo data (both idempotent) and serve
## http://$(HOST):$(PORT)
run: $(VENV)/.runtime-installed
	@$(PY) -c "$$CHECK_ADDRESS" '$(RUN_HOST)' '$(PORT)'
	$(PY) manage.py migrate --noinput
	$(PY) manage.py library_load
	$(RUN_ENV) $(PY) manage.py seed_demo
	@echo "Serving Handoff on http://$(RUN_ADDR)/ (Ctrl-C to stop)"
	$(if $(REDIS_URL),$(RUN_ENV) $(PY) manage.py runserver '$(RUN_ADDR)',$(RUN_PERIODIC))

# Without Redis there is no beat: beat's periodic tasks (the outbox sweep, the timers, the daily reviews) run
# in a second process beside the server (manage.py run_periodic), stopped with it.
RUN_PERIODIC = $(RUN_ENV) $(PY) manage.py run_periodic & periodic=$$!; \
	trap 'kill $$periodic 2>/dev/null' EXIT INT TERM; \
	$(RUN_ENV) $(PY) manage.py runserver '$(RUN_ADDR)'

# Before anything else: the port is a number and free on that host, so the address printed is served.
define CHECK_ADDRESS
import socket, sys
host, port = sys.argv[1], sys.argv[2]
if not port.isdigit() or not 0 < int(port) < 65536:
    sys.exit(f"make run: PORT={port!r} is not a port number (make run PORT=8001)")
try:
    info = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)[0]
    with socket.socket(info[0], socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(info[4])
except OSError as exc:
    sys.exit(f"make run: cannot serve on {host} port {port} ({exc.strerror or exc}): make run PORT=another")
endef
export CHECK_ADDRESS

## test: what the tests need from Debian (Chromium, redis-server), the lint and security gates, then the
## whole test suite on DATABASE_URL's PostgreSQL or, unset, on SQLite (CI runs both: .ci/run)
test: test-deps $(VENV)/.dev-installed lint audit
	$(PY) -m pytest $(PYTEST_DB_ARGS) $(PYTEST_ARGS)

## test-suite: the test suite alone (no lint): `DATABASE_URL= make test-suite` runs it on SQLite
test-suite: test-deps $(VENV)/.dev-installed
	$(PY) -m pytest $(PYTEST_DB_ARGS) $(PYTEST_ARGS)

## test-deps: Debian's chromium and redis-server, installed when root, else the command to run
test-deps:
	@bash .ci/test_deps.sh

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports --no-logo
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py check
	$(DEPLOY_CHECK_ENV) $(PY) manage.py check --deploy --fail-level WARNING
	$(VENV)/bin/bandit -c pyproject.toml -q --severity-level medium -r accounts referrals config

## audit: pip-audit of the installed requirements against PyPI's vulnerability data
audit: $(VENV)/.dev-installed
	PIP_AUDIT_UNREACHABLE=$(PIP_AUDIT_UNREACHABLE) $(PY) .ci/audit.py

format: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## schema: regenerate docs/openapi.yaml from the code (a test fails when the two drift apart)
schema: $(VENV)/.dev-installed
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py spectacular --file docs/openapi.yaml --validate --fail-on-warn

## migrate: the migrations, then the shipped exercise library (referrals/library/data.py)
migrate: $(VENV)/.runtime-installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py library_load

seed: migrate
	$(PY) manage.py seed_demo

## worker / beat: with REDIS_URL set, the Celery worker and the scheduler (outbox sweeper)
worker: $(VENV)/.runtime-installed
	$(VENV)/bin/celery -A config worker --loglevel=INFO --concurrency=2

beat: $(VENV)/.runtime-installed
	$(VENV)/bin/celery -A config beat --loglevel=INFO --schedule=var/celerybeat-schedule

## prod-local: the production layout on this machine with the production settings (HTTPS and the secrets
## relaxed, and said so): gunicorn with 3 workers on 127.0.0.1:$(PORT), 2 Celery workers, 1 beat, on the
## PostgreSQL database PROD_LOCAL_DATABASE_URL (default handoff_prod_local, created when missing) and
## REDIS_URL; Ctrl-C stops it all. PROD_LOCAL_ARGS="--seed" loads the demo data, "--smtp HOST:PORT" mails
## there (default: the console). docs/deployment.md "Run the production layout locally"
PROD_LOCAL_ARGS ?=
prod-local: $(VENV)/.runtime-installed
	$(PY) scripts/prod_local.py --port $(PORT) $(PROD_LOCAL_ARGS)

## reliability: measure the notification pipeline against real PostgreSQL (DATABASE_URL), a private
## redis-server and worker processes, and write docs/reliability.md (a few minutes)
.PHONY: reliability
reliability: $(VENV)/.dev-installed
	$(PY) scripts/measure_reliability.py $(RELIABILITY_ARGS)

## bench: build a 100,000-handoff PostgreSQL database of its own and measure (docs/benchmarks.md)
## (BENCH_ARGS="--scale 0.05 --duration 3" for a quick run; BENCH_DATABASE_URL, BENCH_REDIS_URL)
BENCH_ARGS ?=
bench: $(VENV)/.runtime-installed
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(LOCK_VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
