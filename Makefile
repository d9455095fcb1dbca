# The two commands a newcomer needs: `make run` and `make test`.
# Works on a fresh Debian machine that has only python3 (3.11+) and make.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Local development only: production sets its own environment (see README).
DEV_ENV := DEBUG=true

.PHONY: run test install migrate lint format clean

$(PY):
	$(PYTHON) -m venv $(VENV) || ( rm -rf $(VENV) && $(PYTHON) -m venv --without-pip $(VENV) && $(VENV)/bin/python tools/bootstrap_pip.py )

$(VENV)/.installed: $(PY) pyproject.toml constraints.txt
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $@

install: $(VENV)/.installed

migrate: install
	mkdir -p var
	$(DEV_ENV) $(PY) manage.py migrate --no-input
	$(DEV_ENV) $(PY) manage.py createcachetable

run: migrate
	$(DEV_ENV) $(PY) manage.py demo_data
	@echo "Serving the portal on http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	$(DEV_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

# Browser tests run where Chromium is installed (/usr/bin/chromium) and are skipped, with a
# reason, where it is not; REQUIRE_BROWSER=1 (as in CI) turns a missing browser into a failure.
test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) var staticfiles
