"""gold.aqi_hourly: real-time AQI per station and hour by HJ 633, from silver.air_hourly.

Inputs: SO2, NO2, CO, O3 1 h values with the 1 h tables; PM10 and PM2.5 1 h values with the
24 h tables (HJ 633 has no 1 h table for particles). Above-range rules: SO2 1 h above 800 uses
the SO2 24 h IAQI (2012) or 200 (2026). The rule set follows the Beijing date of the averaging
hour unless pinned. What the CNEMC archive's published AQI uses was checked against the data
(tests/integration/test_gold_aqi.py, README "AQI agreement").
"""

from __future__ import annotations

import logging
from datetime import date

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.gold import scope
from smartmon import changes
from smartmon.beijing_time import beijing_day
from smartmon.catalog.names import (
    GOLD_AQI_HOURLY,
    SILVER_AIR_HOURLY,
    SILVER_AUDIT_LOG,
    SILVER_CHANGE_MARKS,
    SILVER_CHANGED_DAYS,
    SILVER_QC_FLAGS,
)
from smartmon.changes import DayWindow
from smartmon.io import Lake
from smartmon.jobspec import Job, by_day
from smartmon.standards.aqi import (
    CORE_POLLUTANTS,
    HJ633_2012,
    HJ633_2026,
    HOURLY_TABLES,
    RULE_SETS,
    category_columns,
    combine_columns,
    iaqi_column,
    rule_set_column,
)

log = logging.getLogger(__name__)
POLLUTANTS = CORE_POLLUTANTS  # the real-time AQI's inputs: HJ 633's six
PRODUCT = GOLD_AQI_HOURLY
TABLES = HOURLY_TABLES


def rule_set_by_date(ts: Column) -> Column:
    """The rule set of the hour's Beijing date (the hour ending at 00:00 belongs to the day before)."""
    return rule_set_column(beijing_day(ts))


def aqi_hourly(air: DataFrame, rule_set: str | None = None, partial_rule: bool = True) -> DataFrame:
    """silver.air_hourly rows (QC-excluded values already null, n_excluded set; see
    smartmon.qc.apply.valid_air) -> gold.aqi_hourly rows (pure transform; also the forecasts'
    hourly AQI, combined without the partial rule: smartmon.standards.aqi.combine_columns)."""
    if rule_set is not None and rule_set not in RULE_SETS:
        raise ValueError(f"unknown rule set {rule_set!r}: use one of {RULE_SETS}")
    df = air.withColumn("rule_set", F.lit(rule_set) if rule_set else rule_set_by_date(F.col("ts")))
    rs = F.col("rule_set")
    for p in POLLUTANTS:
        df = df.withColumn(f"iaqi_{p}", iaqi_column(F.col(p), TABLES[p], rs))
    above_so2 = F.col("so2").isNotNull() & F.col("iaqi_so2").isNull()
    df = df.withColumn(
        "iaqi_so2",
        F.when(above_so2 & (rs == HJ633_2026), F.lit(200))
        .when(above_so2, iaqi_column(F.col("so2_24h"), "so2_24h", HJ633_2012))
        .otherwise(F.col("iaqi_so2")),
    )
    combined = combine_columns({p: F.col(f"iaqi_{p}") for p in POLLUTANTS}, rs, aqi_stored_as="aqi", partial_rule=partial_rule)
    df = (df.withColumn("n_pollutants", combined.n_pollutants).withColumn("aqi", combined.aqi)
          .withColumn("primary_pollutant", combined.primary_pollutant))
    level, name, colour = category_columns(F.col("aqi"))
    return df.select(
        "station_id", "ts", "rule_set", "month", "aqi", "primary_pollutant",
        level.alias("level"), name.alias("category"), colour.alias("colour"),
        *[f"iaqi_{p}" for p in POLLUTANTS], "n_pollutants",
        (F.col("n_excluded") if "n_excluded" in air.columns else F.lit(0)).cast("int").alias("n_excluded"),
    )


def run(lake: Lake, rule_set: str | None = None, days: list[date] | None = None, run_id: str = "") -> dict[str, int]:
    """Gold AQI from the valid silver values (ERROR-flagged values left out and counted), for
    the days whose air values, flags or audits changed, or the given days (a pinned rule set
    adds rows beside the by-date ones)."""
    consumer = PRODUCT if rule_set is None else f"{PRODUCT}:{rule_set}"
    with scope.consuming_air(lake, consumer, days) as p:
        win = DayWindow.of(p.days)
        summary = {"days": len(win.days), "rows_out": 0, "values_excluded": 0}
        if not win:
            return summary
        _, valid = scope.valid_in(lake, win)
        rows = aqi_hourly(valid, rule_set).cache()
        # one pass builds the cache and sizes the write's files
        total, excluded = rows.agg(F.count("*"), F.sum("n_excluded")).first()
        excluded = excluded or 0
        result = lake.merge(rows, PRODUCT, keys_unique=True, where=lambda a: win.where(widen=False, alias=a),
                            cluster_by=("ts", total, len(win.days)))
        rows.unpersist()
        log.info("gold.aqi_hourly: %d values excluded by ERROR QC flags in %s", excluded, win.describe())
        if result.rows_written and rule_set is None:
            changes.note(lake, PRODUCT, win.days, run_id)
        summary.update(rows_out=result.rows_written, values_excluded=int(excluded))
    return summary


JOB = Job(
    name=GOLD_AQI_HOURLY,
    layer="gold",
    reads=(SILVER_AIR_HOURLY, SILVER_QC_FLAGS, SILVER_AUDIT_LOG),
    writes=(GOLD_AQI_HOURLY,),
    run=lambda ctx: run(ctx.lake, run_id=ctx.run_id),
    scope=by_day(),
    transform=aqi_hourly,
    records=(SILVER_CHANGED_DAYS, SILVER_CHANGE_MARKS),
    doc="real-time AQI by HJ 633",
)
