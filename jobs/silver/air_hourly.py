"""silver.air_hourly: every air source conformed to one row per station and hour.

Every adapter that feeds this table (jobs.bronze.adapter.feeding) turns its bronze rows into
wide rows (its air_rows(), see jobs/silver/air_rows.py), so a new air feed is one adapter module.
One aggregation by station and hour then makes the rows (it also merges a station-hour that
arrives twice). The cells that are not a number are listed on their row in the same pass, for
the cell-by-cell refusals. Conventions (README, "Time and units"):
- cnemc-archive: date/hour in Beijing time, the value at hour h is the mean of the hour ending
  at h, so ts = that hour in UTC. Units already standard.
- uci-beijing: year/month/day/hour in Beijing time, taken with the same convention; CO arrives
  in ug/m3 and is divided by 1000.
- kdd2018: times are UTC and taken as the end of the hour; CO is already mg/m3.
- provincial-air, county-air, township-sensors: see jobs/silver/air_tiers.py.
Non-numeric values are refused cell by cell (the rest of the row lands); rows of stations not
in silver.stations are refused.
"""

from __future__ import annotations

import logging
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.bronze.adapter import AirFeed, feeding
from jobs.silver import corrections, packed_lineage
from jobs.silver.air_rows import VALUE_COLS, sparse_wide
from jobs.silver.conform import (
    LINEAGE_COLS,
    bronze_rows,
    month_local,
    refusals,
    unknown_stations,
)
from jobs.silver.packed_lineage import FACTS, LineageCodes, codes_of, lineage_facts
from jobs.silver.pipeline import silver_job
from smartmon import changes
from smartmon.beijing_time import beijing_day
from smartmon.catalog.names import (
    BRONZE_INGEST_BATCHES,
    BRONZE_QUARANTINE,
    SILVER_AIR_HOURLY,
    SILVER_CHANGED_DAYS,
    SILVER_STATION_ALIASES,
    SILVER_STATIONS,
)
from smartmon.changes import DayWindow
from smartmon.errors import GraphError
from smartmon.io import Lake
from smartmon.lineage import quarantine

log = logging.getLogger(__name__)

def bad_cells(rows: DataFrame) -> DataFrame:
    """One refusal per cell that is not a number (the bad column of wide/sparse_wide rows)."""
    cells = rows.where(F.col("bad").isNotNull()).select(F.explode("bad").alias("b"), "station_id", *LINEAGE_COLS)
    return refusals(
        cells,
        F.concat(F.lit("non-numeric value for "), F.col("b.column"), F.lit(" at station "), F.col("station_id")),
        F.col("b.text"),
    )


def bad_times(rows: DataFrame) -> DataFrame:
    """One refusal per station and line whose time does not read (rows or cells)."""
    bad = rows.where(F.col("ts").isNull()).groupBy("station_id", *LINEAGE_COLS).agg(F.count("*").alias("n"))
    return refusals(bad, F.lit("time not readable"), F.col("station_id"))


def to_rows(cells: DataFrame) -> DataFrame:
    """Long cells -> one row per station and hour."""
    return rows_of(sparse_wide(cells))


def rows_of(wide_rows: DataFrame, codes: LineageCodes | None = None) -> DataFrame:
    """Wide rows (flat feeds, or cells as sparse rows) -> one row per station and hour: a single
    hash aggregation, no join of the rows. A value delivered more than once takes the latest
    delivery's (arrival order: batch, file, line: the packed lineage code), a value a delivery
    lacks is not a null that wins; the row's lineage is its latest delivery's, source_unit the
    greatest. codes: the rows' lineage codes (packed_lineage), collected here when not given."""
    wide_rows = wide_rows.where(F.col("ts").isNotNull())
    if codes is None:
        codes = codes_of(lineage_facts(wide_rows).collect())
    order = F.col(packed_lineage.PACKED)
    aggs: list[Column] = [F.max_by(F.col(c), F.when(F.col(c).isNotNull(), order)).alias(c) for c in VALUE_COLS]
    aggs += [F.max(order).alias(packed_lineage.PACKED), F.max(packed_lineage.UNIT).alias(packed_lineage.UNIT)]
    rows = packed_lineage.decode(packed_lineage.encode(wide_rows, codes).groupBy("station_id", "ts").agg(*aggs), codes)
    return rows.withColumn("month", month_local(F.col("ts"))).withColumn("status", F.lit("preliminary"))


def file_order(lake: Lake, batch_ids: set[str]) -> dict[tuple[str, str], int]:
    """(source_file, batch_id) -> the file's place in its batch, from the manifest."""
    if not batch_ids:
        return {}
    rows = (lake.read(BRONZE_INGEST_BATCHES).where(F.col("batch_id").isin(*sorted(batch_ids)))
            .select("source_file", "batch_id", "file_order").collect())
    return {(r.source_file, r.batch_id): r.file_order or 0 for r in rows}


def run(lake: Lake, batches: dict[str, list[str]] | None = None, run_id: str = "") -> dict[str, int]:
    """Conform new bronze batches (all bronze when batches is None) into silver.air_hourly.

    Bronze is read three times: the months and files of the rows (times only, the values'
    parsing pruned away), the write, and the refusals. The parsed rows are not cached: building
    the cache costs what the two saved reads do, and it holds gigabytes on a large batch."""
    parts: list[DataFrame] = []
    for adapter in feeding(SILVER_AIR_HOURLY):
        if not isinstance(adapter, AirFeed):
            raise GraphError(f"source adapter {adapter.NAME} feeds {SILVER_AIR_HOURLY} but has no air_rows()")
        if (rows := bronze_rows(lake, adapter.BRONZE, adapter.NAME, batches)) is not None:
            parts.append(adapter.air_rows(rows, lake))
    if not parts:
        return {"rows_in": 0}
    parsed = reduce(DataFrame.unionByName, parts)
    known, unknown = unknown_stations(parsed, lake.read(SILVER_STATIONS))
    known = known.where(F.col("ts").isNotNull())
    # one small scan for all three: the months the rows fall in, the facts of their lineage codes
    # and how many delivered rows (at least the station-hours) the write's files are sized by
    facts = (known.groupBy(month_local(F.col("ts")).alias("month"), beijing_day(F.col("ts")).alias("day"), *FACTS)
             .count().collect())
    months = sorted({r.month for r in facts})
    # the delivery's hours: MERGE and the corrections read only the files holding them
    win = DayWindow.of(r.day for r in facts)
    codes = codes_of((tuple(r[c] for c in FACTS) for r in facts), file_order(lake, {r.batch_id for r in facts if r.batch_id}))
    rows = rows_of(known, codes)
    # Values, not rows: what the delivery replaces is kept first (silver.value_corrections), then
    # only the delivered values change. status is the auditors' (smartmon audit): the same values
    # arriving again keep it; a corrected value sets the row back to preliminary.
    # (a month's first load replaces nothing: the rows are computed once, by the write)
    hours = win.predicate(widen=False)
    reloading = corrections.has_rows(lake, SILVER_AIR_HOURLY, months, hours)
    if reloading:
        rows = rows.cache()
    fixed = corrections.record(lake, rows, SILVER_AIR_HOURLY, VALUE_COLS, months, hours) if reloading else {"corrected": 0, "audited_reopened": 0}
    result = lake.merge(rows, SILVER_AIR_HOURLY, within={"month": months}, keys_unique=True, values=VALUE_COLS,
                        where=lambda a: win.predicate(widen=False, alias=a), cluster_by=("ts", sum(r["count"] for r in facts), len(win.days)))
    if reloading:
        rows.unpersist()
    q = quarantine(lake, bad_cells(parsed).unionByName(bad_times(parsed)).unionByName(unknown), stage=SILVER_AIR_HOURLY)
    # noted whatever the MERGE wrote: a run that crashed after its MERGE committed and before this
    # note finds its rows already there (nothing written) on the re-run, and must still note them
    changes.note(lake, SILVER_AIR_HOURLY, win.days, run_id)
    summary = {"rows_out": result.rows_written, "days": len(win.days), "quarantined": q.rows_inserted if q.table == BRONZE_QUARANTINE else 0, **fixed}
    log.info("silver.air_hourly: %s", summary)
    return summary


JOB = silver_job(SILVER_AIR_HOURLY, run, reads=(SILVER_STATIONS, SILVER_STATION_ALIASES), transform=rows_of,
                 records=(SILVER_CHANGED_DAYS,))
