# smartmon: two commands do all the set-up (see README).
#   make demo   set-up + the nightly pipeline on the embedded default (local[*], ./lake, sqlite MLflow)
#   make test   set-up + the test suite (CI runs this)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.smartmon-installed
JARS_DIR := infra/jvm/jars
JARS_STAMP := $(JARS_DIR)/.resolved
DEMO_DATE ?= 2019-01-31
PYTEST_ARGS ?=

.PHONY: setup venv jars esat demo test test-all bench clean tables-doc check-tools

setup: venv jars

check-tools:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "smartmon needs Python >= 3.11 as '$(PYTHON)' (set PYTHON=python3.11 or install it)"; exit 1; }
	@command -v java >/dev/null || { echo "Java not found: install a JDK 17 (Debian: apt-get install openjdk-17-jdk-headless)"; exit 1; }
	@command -v mvn >/dev/null || { echo "Maven not found: install it (Debian: apt-get install maven); it resolves the Delta jars once"; exit 1; }

venv: $(VENV_STAMP)
$(VENV_STAMP): pyproject.toml | check-tools
	@echo "==> creating $(VENV) and installing smartmon (first time: ~2 min)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e '.[dev]'
	@touch $@

jars: $(JARS_STAMP)
$(JARS_STAMP): infra/jvm/pom.xml | check-tools
	@echo "==> resolving Delta Lake jars with Maven into $(JARS_DIR)"
	@rm -rf $(JARS_DIR)
	@mvn -q -B -f infra/jvm/pom.xml dependency:copy-dependencies || \
	  { echo "Maven could not resolve the Delta jars (see above); check the Maven Central mirror in ~/.m2/settings.xml"; exit 1; }
	@touch $@

# EPA ESAT, the reference of the PMF benchmark and heavy test, in its own environment (it pins
# numpy/pandas/scipy versions of its own); only `make bench` and `make test-all` need it.
ESAT_VENV := .venv-esat
ESAT_STAMP := $(ESAT_VENV)/.installed
esat: $(ESAT_STAMP)
$(ESAT_STAMP): | check-tools
	@echo "==> creating $(ESAT_VENV) with EPA ESAT (the PMF reference)"
	@test -x $(ESAT_VENV)/bin/python || $(PYTHON) -m venv $(ESAT_VENV)
	@$(ESAT_VENV)/bin/pip install -q esat==2025.0.1
	@touch $@

DEMO_SIM_STATIONS ?= 300
DEMO_SIM_DAYS ?= 3
demo: setup
	$(VENV)/bin/smartmon simulate --stations $(DEMO_SIM_STATIONS) --days $(DEMO_SIM_DAYS) --provinces 11,12,13
	$(VENV)/bin/smartmon nightly --date $(DEMO_DATE)
	@for spec in infra/scenarios/*.yaml; do $(VENV)/bin/smartmon scenario run --spec $$spec --draws 50 || exit 1; done

test: setup
	$(PY) -m pytest -m "not heavy" $(PYTEST_ARGS)

test-all: setup esat
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup esat
	$(PY) -m bench.run_all

tables-doc: setup
	$(VENV)/bin/smartmon tables --markdown > TABLES.md

clean:
	rm -rf lake mlflow reports build
