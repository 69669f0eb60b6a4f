"""Shared fixtures: one SparkSession with Delta for the whole run, on a temporary lake.

The process ends with os._exit once pytest has reported: delta-rs, Polars and DuckDB loaded
together sometimes abort during interpreter teardown (ENGINE_NOTES), which would turn a green
run red after the fact.
"""

from __future__ import annotations

import os
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

from smartmon import config  # noqa: E402

config.settings.cache_clear()

SHARED = config.SHARED_DATA


def pytest_configure(config: pytest.Config) -> None:
    config._smartmon_exit = 0  # type: ignore[attr-defined]


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
