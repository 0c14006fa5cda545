# The two set-up commands: `make demo` (the main job on the sandbox + DuckDB) and `make test`.
# Both create .venv from requirements.lock on first use; python3 with venv/pip is all they need.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-lock
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home

.PHONY: setup demo test test-fast lint check-defs dev dev-lms dg-dev bench bench-models lock clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The dbt manifest, parsed once here rather than on every definitions load (lms_assets/tenant/models/project.py).
MANIFEST := lms_assets/dbt/target/manifest.json
$(MANIFEST): $(STAMP) $(shell find lms_assets/dbt -path '*/target' -prune -o \( -name '*.sql' -o -name '*.yml' \) -print)
	$(PY) -c 'from lms_assets.tenant.models.project import prepare; print("dbt manifest:", prepare())'

setup: $(STAMP) $(MANIFEST)

$(DAGSTER_HOME)/dagster.yaml: deploy/dagster.dev.yaml
	mkdir -p $(DAGSTER_HOME)
	cp deploy/dagster.dev.yaml $@

demo: setup $(DAGSTER_HOME)/dagster.yaml
	$(PY) -W ignore -m lms_assets.demo

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# The inner loop: no subprocess CLIs, browser or PostgreSQL (markers in pyproject.toml).
test-fast: setup
	$(PY) -m pytest -m "not slow and not postgres" $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

# dg reads [tool.dg] in pyproject.toml; VIRTUAL_ENV tells it the project's venv is the active one.
check-defs: setup
	LMS_STRICT_TENANTS=1 VIRTUAL_ENV=$(CURDIR)/$(VENV) $(VENV)/bin/dg check defs

dev: setup $(DAGSTER_HOME)/dagster.yaml
	@$(PY) -m lms_assets.sandbox --profile realistic --port 8765 & SANDBOX=$$!; \
	trap 'kill $$SANDBOX 2>/dev/null' EXIT INT TERM; \
	$(PY) -m lms_assets.pools; \
	SOURCES__LMS__USERNAME=sandbox SOURCES__LMS__PASSWORD=sandbox-password \
	  $(VENV)/bin/dagster dev -h 127.0.0.1 -p 3000

# The UI on your own LMS: its settings and secrets from .dlt/ or SOURCES__LMS__* in the environment, no sandbox.
# check_connection runs first and says what to fix (the UI opens either way). PORT=3000 by default.
PORT ?= 3000
dev-lms: setup $(DAGSTER_HOME)/dagster.yaml
	-$(PY) -m lms_assets.check_connection
	$(PY) -m lms_assets.pools
	$(VENV)/bin/dagster dev -h 127.0.0.1 -p $(PORT)

dg-dev: setup $(DAGSTER_HOME)/dagster.yaml
	@$(PY) -m lms_assets.sandbox --profile realistic --port 8765 & SANDBOX=$$!; \
	trap 'kill $$SANDBOX 2>/dev/null' EXIT INT TERM; \
	SOURCES__LMS__USERNAME=sandbox SOURCES__LMS__PASSWORD=sandbox-password VIRTUAL_ENV=$(CURDIR)/$(VENV) \
	  $(VENV)/bin/dg dev -h 127.0.0.1 -p 3000

bench: setup
	$(PY) -m bench.run $(BENCH_ARGS)

# What a model run costs: the sensor's daily update and the compliance rebuild (bench/models.py).
bench-models: setup
	$(PY) -m bench.models $(BENCH_ARGS)

# Re-pin requirements.lock after changing pyproject.toml's dependencies.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e '.[postgres,dev]'
	(echo "# Pinned versions a fresh machine gets (make lock regenerates it from pyproject.toml)."; \
	 .lock-venv/bin/pip freeze --exclude-editable) > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) data lms_assets/dbt/target lms_assets/dbt/logs
