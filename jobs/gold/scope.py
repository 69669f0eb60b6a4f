"""Which months a gold product must recompute: those whose valid air data changed.

A month's fingerprint covers its silver rows (count, latest ingest) and the QC flags that
decide validity (including audits), so new data, a corrected value, a new rule version or an
auditor's decision all trigger a recompute, and an unchanged month is left alone. Moving
windows and Beijing days cross month ends (the hour ending 00:00 on the 1st closes the last day
of the month before), so a changed month also recomputes its neighbours.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from smartmon.catalog.names import (
    GOLD_PRODUCT_RUNS,
    SILVER_AIR_HOURLY,
    SILVER_AUDIT_LOG,
    SILVER_QC_FLAGS,
)
from smartmon.io import Lake

AIR_FLAG_TABLES = (SILVER_AIR_HOURLY, SILVER_AUDIT_LOG)


def next_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y + m // 12}-{m % 12 + 1:02d}"


def prev_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y - (m == 1)}-{(m - 2) % 12 + 1:02d}"


def air_fingerprints(lake: Lake) -> DataFrame:
    """(month, fingerprint) of silver.air_hourly plus the air QC flags."""
    air = lake.read(SILVER_AIR_HOURLY).groupBy("month").agg(
        F.count("*").alias("n"), F.max("ingested_at").alias("last"), F.sum(F.xxhash64("station_id", "ts", "status")).alias("h")
    )
    flags = (
        lake.read(SILVER_QC_FLAGS)
        .where(F.col("source_table").isin(*AIR_FLAG_TABLES))
        .groupBy("month")
        .agg(F.sum(F.xxhash64("station_id", "parameter", "ts_from", "ts_to", "rule", "level", "rule_version")).alias("fh"))
    )
    return air.join(flags, "month", "left").select(
        "month", F.concat_ws("/", "n", F.col("last").cast("string"), "h", F.coalesce(F.col("fh"), F.lit(0))).alias("fingerprint")
    )


def months_to_build(lake: Lake, product: str) -> tuple[list[str], DataFrame]:
    """Changed months (and the months either side, when they have data) and the state to record."""
    state = air_fingerprints(lake).withColumn("product", F.lit(product)).cache()
    done = lake.read(GOLD_PRODUCT_RUNS).where(F.col("product") == product)
    changed = sorted(r.month for r in state.join(done, ["product", "month", "fingerprint"], "left_anti").select("month").collect())
    present = {r.month for r in state.select("month").collect()}
    months = sorted({x for m in changed for x in (prev_month(m), m, next_month(m)) if x in present})
    return months, state


def record(lake: Lake, product: str, state: DataFrame, months: list[str]) -> None:
    if months:
        lake.merge(state.where(F.col("month").isin(months)).select("product", "month", "fingerprint"), GOLD_PRODUCT_RUNS)
    state.unpersist()


def with_margin(months: list[str]) -> list[str]:
    """The months to read so windows at both ends of each month are complete."""
    return sorted({x for m in months for x in (prev_month(m), m, next_month(m))})
