"""Shared fixtures: one SparkSession with Delta for the whole run, on a temporary lake.

The process ends with os._exit once pytest has reported: delta-rs, Polars and DuckDB loaded
together sometimes abort during interpreter teardown (ENGINE_NOTES), which would turn a green
run red after the fact.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_LAKE_ROOT = Path(tempfile.mkdtemp(prefix="smartmon-test-lake-"))
os.environ["SMARTMON_LAKE"] = str(_LAKE_ROOT / "lake")
os.environ.setdefault("SMARTMON_DRIVER_MEMORY", "4g")
os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{_LAKE_ROOT / 'mlflow.db'}"
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["SMARTMON_MLFLOW_ARTIFACTS"] = str(_LAKE_ROOT / "mlflow-artifacts")

from smartmon import config  # noqa: E402

config.settings.cache_clear()

SHARED = config.SHARED_DATA


def pytest_configure(config: pytest.Config) -> None:
    config._smartmon_exit = 0  # type: ignore[attr-defined]


def pytest_sessionstart(session: pytest.Session) -> None:
    """The integration tests replay real days the bundled sample does not hold (UCI 2015-2017,
    CNEMC January 14-16, the simulator's reference archive): without the full data they would
    fail one by one with errors that do not say why, so the run stops here and says it."""
    root = config.default_data_root()
    if root == config.SAMPLE_DATA and not os.environ.get("SMARTMON_ALLOW_SAMPLE"):
        pytest.exit(f"the test suite needs the full datasets ({SHARED} or SMARTMON_DATA), but the data "
                    f"root is {root}: extracts enough for `make demo` only. Set SMARTMON_ALLOW_SAMPLE=1 "
                    "to run what the sample can (unit tests pass; many integration tests do not).", returncode=4)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config._smartmon_exit = int(exitstatus)  # type: ignore[attr-defined]


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(getattr(config, "_smartmon_exit", 0))


@pytest.fixture(scope="session")
def settings() -> config.Settings:
    return config.settings()


@pytest.fixture(scope="session")
def spark(settings: config.Settings) -> Iterator:
    from smartmon.spark import get_spark

    session = get_spark(settings, app_name="smartmon-tests")
    yield session


@pytest.fixture(scope="session")
def lake(spark, settings):
    from smartmon.io import Lake

    return Lake(spark, settings)


@pytest.fixture(scope="session")
def data_root(settings: config.Settings) -> Path:
    return settings.data_root


@pytest.fixture(scope="session")
def admin_ref(spark, data_root):
    from smartmon.geo.admin import read_admin_reference

    return read_admin_reference(spark, data_root)


@pytest.fixture(scope="session")
def stations_built(lake, admin_ref) -> dict[str, int]:
    """silver.stations built once per test session (other integration tests join to it)."""
    from jobs.silver import stations

    return stations.run(lake, admin_ref)


def run_silver(lake) -> dict[str, dict[str, int]]:
    """Every silver job of the graph, in order, as the nightly runs them: job -> its summary."""
    from datetime import date

    from pipelines.definitions import graph
    from smartmon.jobspec import RunContext

    ctx = RunContext(lake=lake, run_date=date(2019, 1, 31), run_id="tests")
    return {s.job.name: s.job.run(ctx) for s in graph().steps if s.job.layer == "silver"}


# What the silver jobs return when there is nothing new: the registry skipped (same lists) and
# no batch pending for any conforming job.
NOTHING_NEW = {"silver.stations": {"skipped": 1, "lists_rows_in": 0}}


def nothing_new(summaries: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {job: NOTHING_NEW.get(job, {"rows_in": 0}) for job in summaries}


CNEMC_DAYS = ["20190101", "20190102"]


@pytest.fixture(scope="session")
def landing(tmp_path_factory, data_root):
    """Copies of real files (and one with injected faults) for the ingestion tests."""
    d = tmp_path_factory.mktemp("landing")
    (d / "cnemc").mkdir()
    for day in CNEMC_DAYS:
        shutil.copy(data_root / f"china_national_aq_hourly/china_sites_{day}.csv", d / "cnemc")
    # A third day with two faults: a station code nobody knows, and a non-numeric cell.
    raw = (data_root / "china_national_aq_hourly/china_sites_20190102.csv").read_text(encoding="utf-8").split("\n")
    raw[0] = raw[0].replace(",1001A,", ",9999Z,", 1)
    fields = raw[4].split(",")
    fields[4] = "abc"  # line 5, station column 2
    raw[4] = ",".join(fields)
    (d / "cnemc" / "china_sites_20190103.csv").write_text("\n".join(raw).replace("20190102", "20190103"), encoding="utf-8")
    (d / "uci").mkdir()
    # Dongsi from 2015 on (26 of the file's 48 months): the features' point-in-time issue (June
    # 2015) and the smoke training's last 150 issues lie in it, and gold has half the months to build
    uci = (data_root / "beijing_multisite/PRSA_Data_Dongsi_20130301-20170228.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    first_2015 = next(i for i, line in enumerate(uci) if ",2015,1,1,0," in line)
    (d / "uci" / "PRSA_Data_Dongsi_20150101-20170228.csv").write_text("".join(uci[:1] + uci[first_2015:]), encoding="utf-8")
    (d / "kdd").mkdir()
    shutil.copy(data_root / "kddcup2018_beijing/api_aq_2018-04/bj_aq_2018-04-30-0_2018-04-30-23.csv", d / "kdd")
    shutil.copytree(data_root / "china_surface_water", d / "water")
    shutil.copytree(data_root / "hj212_messages", d / "hj212")
    (d / "epa").mkdir()
    for f in ("Dataset-StLouis-con.csv", "Dataset-StLouis-unc.csv"):
        shutil.copy(data_root / "epa_pmf_esat" / f, d / "epa")
    return d


SOURCES = [("cnemc-archive", "cnemc"), ("uci-beijing", "uci"), ("kdd2018", "kdd"), ("water-auto", "water"), ("hj212", "hj212"), ("epa-pmf", "epa")]


@pytest.fixture(scope="session")
def ingested(lake, stations_built, landing):
    """The landing copies ingested once per session: bronze, quarantine, silver."""
    from jobs.bronze.ingest import ingest

    reports = [r for source, sub in SOURCES for r in ingest(lake, source, [landing / sub])]
    return reports, run_silver(lake)




@pytest.fixture(scope="session")
def simulated(lake, ingested, data_root, tmp_path_factory):
    """`smartmon simulate` feeds of a Beijing network (60 stations, 1-2 April 2018, the days of the
    KDD winds the upwind tests use), ingested and conformed once: (folder, report, ingest reports)."""
    from datetime import date

    from jobs.bronze.adapter import simulated
    from jobs.bronze.ingest import ingest
    from smartmon.simulate.run import simulate

    out = tmp_path_factory.mktemp("simulated")
    report = simulate(data_root, out, stations=60, days=2, start=date(2018, 4, 1), provinces=("11",), seed=7, fault_rate=0.01)
    reports = [r for s in [m.NAME for m in simulated()] + ["hj212"] for r in ingest(lake, s, [out / s])]
    run_silver(lake)
    return out, report, reports
