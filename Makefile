# The two commands a newcomer needs: `make run` and `make test`.
# Works on a fresh Debian machine that has only python3 (3.11+) and make.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Local development only: production sets its own environment (see README).
DEV_ENV := DEBUG=true
# `make run` starts the development identity provider (tools/dev_idp: allauth's OpenID Connect
# provider, its own SQLite database var/dev_idp.sqlite3, migrated at start) next to the portal
# and points the campus login at it, unless OIDC_PROVIDERS is already set.
DEV_IDP_PORT ?= 8001
OIDC_PROVIDERS ?= [{"id": "campus", "label": "统一认证 Campus login (development IdP)", "server_url": "http://127.0.0.1:$(DEV_IDP_PORT)", "client_id": "ill-gateway-dev", "secret": "dev-secret"}]

.PHONY: run test install migrate lint format messages clean bench-import bench load

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
	@echo "Campus login: development identity provider on http://127.0.0.1:$(DEV_IDP_PORT)/"
	@echo "Serving the portal on http://$(HOST):$(PORT)/  (Ctrl-C stops both)"
	$(PY) -m tools.dev_idp --host 127.0.0.1 --port $(DEV_IDP_PORT) --quiet \
		--client-id ill-gateway-dev --client-secret dev-secret \
		$(foreach h,$(sort $(HOST) 127.0.0.1 localhost),--redirect-uri http://$(h):$(PORT)/accounts/oidc/campus/login/callback/) \
		& idp=$$!; \
	trap 'kill $$idp 2>/dev/null' EXIT INT TERM; \
	$(DEV_ENV) OIDC_PROVIDERS='$(OIDC_PROVIDERS)' $(PY) manage.py runserver $(HOST):$(PORT)

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

# Chinese catalogue: collect new msgids into locale/zh_Hans/…/django.po, translate them there,
# then compile. Needs GNU gettext (apt-get install gettext); the compiled .mo is committed, so
# running the portal does not.
messages: install
	$(DEV_ENV) $(PY) manage.py makemessages -l zh_Hans --no-obsolete \
		--ignore=.venv --ignore=tests --ignore=tools --ignore=var --ignore=staticfiles
	$(DEV_ENV) $(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

clean:
	rm -rf $(VENV) var staticfiles

# The legacy import's speed beside a bare PostgreSQL COPY (drops and re-creates bench_import).
bench-import: install
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bench_import} \
		$(VENV)/bin/python bench/import_legacy.py $(BENCH_ARGS)

# The load test: locust's journeys (bench/locustfile.py) against gunicorn + PostgreSQL on loopback,
# DEBUG off, on the bench's data set (default scale) in LOAD_DATABASE_URL (default .../load_test):
# reused when there, else copied from BENCH_DATABASE_URL's or built. A baseline runs first on the
# same server (as many users, as long, each step make bench's bare view), each page is reported
# beside it. Results: docs/benchmarks/load.*
# Locust lives in a venv of its own (.venv-load), pinned by constraints.txt, so its gevent never
# meets the application's.
LOAD_ARGS ?= --users 50 --duration 2m
.venv-load/bin/locust: constraints.txt
	$(PYTHON) -m venv .venv-load
	.venv-load/bin/pip install --quiet -c constraints.txt locust
	touch $@

load: install .venv-load/bin/locust
	$(PY) bench/load.py --locust .venv-load/bin/locust $(LOAD_ARGS)
# Each page's speed beside a bare Django view in the same run (bench/run.py; README "Benchmarks").
# Builds the data set once per scale in BENCH_DATABASE_URL (default .../bench), then reuses it.
# BENCH_ARGS="--readers 1000 --requests 20000 --seconds 1" for a quick run.
bench: install
	$(VENV)/bin/python bench/run.py $(BENCH_ARGS)
