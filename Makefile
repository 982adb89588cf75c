# The two commands: `make run` (the tracker with demo data) and `make test` (the whole suite).
# Both set themselves up on a machine that has only Python 3.11+.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python requirements/base.txt requirements/production.txt requirements/local.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/local.txt
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python manage.py run_tracker

test: install
	$(BIN)/python -m ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/python -m ruff check .

clean:
	rm -rf $(VENV) var/tracker.sqlite3* var/broker
