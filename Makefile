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

.PHONY: schedules setup uv venv jars jars-s3a s3-store esat sharing-client airflow-check demo test test-all test-cluster bench clean tables-doc check-tools

setup: venv jars

check-tools:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "smartmon needs Python >= 3.11 as '$(PYTHON)' (set PYTHON=python3.11 or install it)"; exit 1; }
	@command -v java >/dev/null || { echo "Java not found: install a JDK 17 (Debian: apt-get install openjdk-17-jdk-headless)"; exit 1; }
	@command -v mvn >/dev/null || { echo "Maven not found: install it (Debian: apt-get install maven); it resolves the Delta jars once"; exit 1; }

# The environment is exactly uv.lock (`uv sync --frozen`): uv itself, pinned, in a small venv of its
# own, so a machine needs nothing beyond Python, Java and Maven. UV_SYSTEM_CERTS: uv trusts the
# system's certificate store (as pip does), not only its bundled roots.
UV_VERSION := 0.13.8
UV_VENV := .venv-uv
UV ?= $(UV_VENV)/bin/uv
uv: $(UV_VENV)/.installed
$(UV_VENV)/.installed: | check-tools
	@echo "==> installing uv $(UV_VERSION) into $(UV_VENV)"
	@test -x $(UV_VENV)/bin/python || $(PYTHON) -m venv $(UV_VENV)
	@$(UV_VENV)/bin/pip install -q "uv==$(UV_VERSION)"
	@touch $@

venv: $(VENV_STAMP)
$(VENV_STAMP): pyproject.toml uv.lock $(UV_VENV)/.installed | check-tools
	@echo "==> installing $(VENV) from uv.lock (uv sync --frozen; first time: ~2 min)"
	@UV_SYSTEM_CERTS=1 $(UV) sync --frozen --extra dev --python $(PYTHON) --quiet
	@touch $@

jars: $(JARS_STAMP)
$(JARS_STAMP): infra/jvm/pom.xml | check-tools
	@echo "==> resolving Delta Lake jars with Maven into $(JARS_DIR)"
	@rm -rf $(JARS_DIR)
	@mvn -q -B -f infra/jvm/pom.xml dependency:copy-dependencies || \
	  { echo "Maven could not resolve the Delta jars (see above); check the Maven Central mirror in ~/.m2/settings.xml"; exit 1; }
	@touch $@

# S3A (hadoop-aws + the AWS SDK v2 bundle, ~690 MB) for a lake on object storage: only the cluster
# profile needs it, so `make setup` leaves it out.
JARS_S3A_DIR := infra/jvm/jars-s3a
JARS_S3A_STAMP := $(JARS_S3A_DIR)/.resolved
jars-s3a: $(JARS_S3A_STAMP)
$(JARS_S3A_STAMP): infra/jvm/s3a/pom.xml | check-tools
	@echo "==> resolving the S3A jars (hadoop-aws, AWS SDK bundle) with Maven into $(JARS_S3A_DIR)"
	@rm -rf $(JARS_S3A_DIR)
	@mvn -q -B -f infra/jvm/s3a/pom.xml dependency:copy-dependencies || \
	  { echo "Maven could not resolve the S3A jars (see above); check the Maven Central mirror in ~/.m2/settings.xml"; exit 1; }
	@touch $@

# An S3-compatible object store for the loopback cluster: moto's server, in its own environment
# (it brings Flask and boto3, which smartmon itself does not need).
S3_VENV := .venv-s3
S3_STAMP := $(S3_VENV)/.installed
MOTO_VERSION ?= 5.2.5
s3-store: $(S3_STAMP)
$(S3_STAMP): | check-tools
	@echo "==> creating $(S3_VENV) with moto[server] $(MOTO_VERSION) (the loopback cluster's object store)"
	@test -x $(S3_VENV)/bin/python || $(PYTHON) -m venv $(S3_VENV)
	@$(S3_VENV)/bin/pip install -q "moto[server]==$(MOTO_VERSION)"
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

# The simulated sub-national network covers the last three days up to DEMO_DATE; the nightly runs
# the standing scenarios (infra/scenarios/) over those days with DEMO_DRAWS draws each, and trains
# the national forecasters with DEMO_TUNE_TRIALS Optuna trials per target (the nightly's own default
# is 6: about 95 s more on 2 cores, for a holdout within 0.002 SMAPE of the fixed parameters; bench/RESULTS.md).
# The official Delta Sharing client in its own environment, as a downstream platform has it:
# delta-sharing 1.4.2 pins pyarrow<=23.0.1, fsspec<=2026.2.0, requests<=2.33, which .venv must not be
# downgraded to. tests/integration/test_sharing.py drives it over loopback (and skips without it).
SHARING_VENV := .venv-sharing
SHARING_STAMP := $(SHARING_VENV)/.installed
sharing-client: $(SHARING_STAMP)
$(SHARING_STAMP): | check-tools
	@echo "==> creating $(SHARING_VENV) with the official delta-sharing client (the sharing tests' reader)"
	@test -x $(SHARING_VENV)/bin/python || $(PYTHON) -m venv $(SHARING_VENV)
	@$(SHARING_VENV)/bin/pip install -q delta-sharing==1.4.2
	@touch $@

# Apache Airflow 3 in its own environment (~290 MB, about a minute the first time): only to check
# that infra/schedules/airflow_nightly.py loads under Airflow; Airflow is far too heavy for .venv.
# The check itself is a `heavy` test (tests/unit/test_infra.py), so `make test-all` runs it.
AIRFLOW_VERSION ?= 3.3.2
AIRFLOW_VENV := .venv-airflow
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed
airflow-check: setup $(AIRFLOW_STAMP)
	$(PY) -m pytest tests/unit/test_infra.py -m heavy -k airflow $(PYTEST_ARGS)
$(AIRFLOW_STAMP): | check-tools
	@echo "==> creating $(AIRFLOW_VENV) with Apache Airflow $(AIRFLOW_VERSION) (loads the nightly DAG)"
	@test -x $(AIRFLOW_VENV)/bin/python || $(PYTHON) -m venv $(AIRFLOW_VENV)
	@$(AIRFLOW_VENV)/bin/pip install -q "apache-airflow==$(AIRFLOW_VERSION)"
	@touch $@

DEMO_SIM_STATIONS ?= 300
DEMO_SIM_START ?= 2019-01-29
DEMO_SIM_DAYS ?= 3
DEMO_DRAWS ?= 50
DEMO_TUNE_TRIALS ?= 0
demo: setup
	$(VENV)/bin/smartmon simulate --stations $(DEMO_SIM_STATIONS) --days $(DEMO_SIM_DAYS) --start $(DEMO_SIM_START) --provinces 11,12,13
	SMARTMON_SCENARIO_DRAWS=$(DEMO_DRAWS) SMARTMON_TUNE_TRIALS=$(DEMO_TUNE_TRIALS) $(VENV)/bin/smartmon nightly --date $(DEMO_DATE)

test: setup sharing-client
	$(PY) -m pytest -m "not heavy and not cluster" $(PYTEST_ARGS)

# A real cluster on loopback (tests/cluster/loopback.py): object store, Spark standalone master and
# worker, Ray head and worker, MLflow server; the nightly with the cluster profile against the local run.
test-cluster: setup jars-s3a s3-store
	$(PY) -m pytest tests/cluster -m cluster $(PYTEST_ARGS)

test-all: setup esat sharing-client $(AIRFLOW_STAMP)
	@command -v chromium >/dev/null || { echo "==> installing Debian's chromium (report browser check)"; S=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$S apt-get update -qq && $$S apt-get install -y -qq chromium >/dev/null || echo "no chromium: tests/integration/test_report_browser.py will be skipped"; }
	$(PY) -m pytest -m "not cluster" $(PYTEST_ARGS)

# The national nightly benchmark runs on a copy of the demo lake (the real data in, as a production
# lake is the night before): a fresh clone builds it first.
bench: setup esat
	@test -d lake/silver/air_hourly || { echo "==> no demo lake yet: running make demo first (the national benchmark copies it)"; $(MAKE) demo; }
	$(PY) -m bench.run_all

# Files generated from the declarations (a test fails when either is stale): the table catalog
# with the job graph, and the Airflow DAG's job list.
tables-doc: setup
	$(VENV)/bin/smartmon tables --markdown > TABLES.md

schedules: setup
	$(PY) -m pipelines.schedules

clean:
	rm -rf lake mlflow reports build
