# Retention Desk. `make run` serves the desk with demo data; `make test` runs every check.
# Both set themselves up on a machine that has only Python 3 and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_COMPILE_BYTECODE := 1
export UV_LINK_MODE := copy

# The uv to use: on PATH, else one that .ci/ensure-uv installs into var/tools (never into the
# system's Python; it says what to install when it cannot). Looked up once, when a target first
# needs it: `make help` does not.
UV = $(eval UV := $$(shell .ci/ensure-uv))$(or $(UV),$(error no uv: .ci/ensure-uv said why above))
PY = $(UV) run --frozen python

.PHONY: help uv env run test lint typecheck pytest bench messages clean

help:
	@echo "make run    - set up, load demo data once, serve http://127.0.0.1:8000 with worker and beat"
	@echo "make test   - ruff, mypy and the whole pytest suite"
	@echo "make bench  - benchmark at quick scale (BENCH_SCALE=full for 1M subscribers / 20M events)"

uv:
	@$(UV) --version >/dev/null

env: uv
	@$(UV) sync --frozen --quiet

run: env
	@export DEBUG=true && \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py seed_demo --if-empty && \
	$(PY) manage.py seed_offers && \
	$(PY) manage.py demo_users && \
	$(PY) manage.py seed_cases --if-empty && \
	$(PY) manage.py seed_outreach && \
	$(PY) manage.py seed_hardship && \
	$(PY) manage.py risk_train --if-none && \
	exec $(UV) run --frozen honcho -f Procfile.dev start

test: env lint typecheck pytest

lint:
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

typecheck:
	TESTING=true $(UV) run --frozen mypy .

pytest:
	$(UV) run --frozen pytest $(PYTEST_ARGS)

# One database per scale, so a quick run never reloads over the full-scale data.
BENCH_SCALE ?= quick
bench: env
	BENCH_DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/desk_bench_$(BENCH_SCALE)} \
	TESTING=true $(PY) manage.py bench --scale $(BENCH_SCALE) $(BENCH_ARGS)

messages: env
	$(PY) manage.py makemessages --all --no-obsolete --ignore=.venv --ignore=var --ignore=tests
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf var/desk.sqlite3* var/broker var/staticfiles
