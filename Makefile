# KNHK: `make run` serves the platform, `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-lock
export WORKFLOW_API_HOST ?= 127.0.0.1
export WORKFLOW_API_PORT ?= 8080

.PHONY: run install migrate examples demo-user test test-all lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when requirements.lock changes.
$(STAMP): requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

examples: migrate
	$(BIN)/python manage.py register_examples

demo-user: migrate
	$(BIN)/python manage.py ensure_demo_user

run: examples demo-user
	$(BIN)/python manage.py serve

test: install
	$(BIN)/pytest -m "not services and not postgres and not browser and not slow"

test-all: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .

# The HTTP benchmarks drive load with wrk (Debian package); installed here when missing and possible.
bench: install
	@command -v wrk >/dev/null || (apt-get install -y -qq wrk || (apt-get update -qq && apt-get install -y -qq wrk)) \
		>/dev/null 2>&1 || echo "wrk could not be installed; the HTTP rows will say skipped"
	@if [ -f bench/run.py ]; then $(BIN)/python bench/run.py; else echo "bench/run.py does not exist yet"; fi

clean:
	rm -rf var staticfiles
