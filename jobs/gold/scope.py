"""What the air chain's day-scoped jobs share: their inputs, their bootstrap, and reading the
valid air values of a window of Beijing days (smartmon.changes holds the change log itself).

Validity depends on the QC flags and the auditors' decisions as much as on the values, so a
product that uses valid values follows the changes of all three tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import date

from pyspark.sql import DataFrame

from smartmon import changes
from smartmon.catalog.names import GOLD_AQI_DAILY, SILVER_AIR_HOURLY, SILVER_AUDIT_LOG, SILVER_QC_FLAGS
from smartmon.changes import DayWindow, literal
from smartmon.io import Lake
from smartmon.qc.apply import valid_air

AIR_INPUTS = (SILVER_AIR_HOURLY, SILVER_QC_FLAGS, SILVER_AUDIT_LOG)


def air_days(lake: Lake) -> list[date]:
    """Every Beijing day silver.air_hourly holds (a consumer's first run builds them all)."""
    return changes.days_in(lake.read(SILVER_AIR_HOURLY).select("ts"))


def consuming_air(lake: Lake, consumer: str, days: Iterable[date] | None, *more_inputs: str
                  ) -> AbstractContextManager[changes.Pending]:
    """The days a product of valid air values builds (smartmon.changes.consuming)."""
    return changes.consuming(lake, consumer, (*AIR_INPUTS, *more_inputs), lambda: air_days(lake), days)


def consuming_daily(lake: Lake, consumer: str, days: Iterable[date] | None) -> AbstractContextManager[changes.Pending]:
    """The days whose daily AQI changed (products built from gold.aqi_daily)."""
    def every_day() -> list[date]:
        return sorted(r.day for r in lake.read(GOLD_AQI_DAILY).select("day").distinct().collect())

    return changes.consuming(lake, consumer, (GOLD_AQI_DAILY,), every_day, days)


def read_air(lake: Lake, win: DayWindow) -> DataFrame:
    """silver.air_hourly rows of the window's hours, lookback and ahead included."""
    return lake.read(SILVER_AIR_HOURLY).where(win.where())


def flags_for(lake: Lake, win: DayWindow) -> DataFrame:
    """The QC flags whose range overlaps the window (a flag's range may start months before)."""
    overlap = " OR ".join(f"(ts_to > {literal(lo)} AND ts_from <= {literal(hi)})" for lo, hi in win.ranges())
    return lake.read(SILVER_QC_FLAGS).where(overlap or "false")


def valid_in(lake: Lake, win: DayWindow) -> tuple[DataFrame, DataFrame]:
    """(the window's air rows, the same rows with QC-excluded values set to null)."""
    air = read_air(lake, win)
    return air, valid_air(air, flags_for(lake, win))
