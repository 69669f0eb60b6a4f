"""Conformance helpers shared by the silver jobs: time conventions, numbers, refusals."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from smartmon.beijing_time import beijing_to_utc, month_local  # noqa: F401 - the silver jobs import them from here
from smartmon.catalog import LINEAGE

if TYPE_CHECKING:
    from smartmon.io import Lake

LINEAGE_COLS = [c.name for c in LINEAGE]


def invalid_number(text: Column, missing: Iterable[str] = ("",)) -> Column:
    """True where text is present, not a missing token, and not a number."""
    t = F.trim(text)
    return t.isNotNull() & ~t.isin(*missing) & t.try_cast("double").isNull()


def bronze_rows(lake: Lake, table: str, adapter: str, batches: dict[str, list[str]] | None) -> DataFrame | None:
    """The bronze rows a silver job should conform: all of them when batches is None, else the
    listed batches of this adapter, or None when it has no pending batch."""
    if batches is None:
        return lake.read(table)
    ids = batches.get(adapter)
    if not ids:
        return None
    return lake.read(table).where(F.col("batch_id").isin(ids))


def months_of(rows: DataFrame, ts: str = "ts") -> list[str]:
    """The Beijing months (the tables' partition) rows with a readable time fall in, for
    Lake.merge(within=...): a scan with a tiny aggregation, cheaper than the whole-table read
    of a MERGE that does not know its partitions."""
    found = rows.where(F.col(ts).isNotNull()).select(month_local(F.col(ts)).alias("m")).distinct().collect()
    return sorted(r.m for r in found)


def refusals(rows: DataFrame, reason: Column, payload: Column) -> DataFrame:
    """Rows refused in silver, shaped for smartmon.lineage.quarantine."""
    return rows.select(reason.alias("reason"), payload.alias("raw_payload"), *LINEAGE_COLS)


def unknown_stations(cells: DataFrame, stations: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(cells of registered stations, refusals for the rest).

    One refusal per unknown station and file (first line, number of lines): the rows stay in
    bronze, so the quarantine record points at them instead of repeating each one."""
    known = stations.select("station_id")
    ok = cells.join(F.broadcast(known), "station_id", "left_semi")
    bad = (
        cells.join(F.broadcast(known), "station_id", "left_anti")
        .groupBy("station_id", "source", "source_file", "batch_id")
        .agg(F.min("source_line").alias("source_line"), F.countDistinct("source_line").alias("n"), F.min("ingested_at").alias("ingested_at"))
    )
    return ok, refusals(
        bad,
        F.concat(F.lit("unknown station "), F.col("station_id"), F.lit(" (not in silver.stations); "),
                 F.col("n").cast("string"), F.lit(" lines of this file from this line on, kept in bronze")),
        F.col("station_id"),
    )


def melt(df: DataFrame, columns: dict[str, tuple[str, float, str | None]]) -> DataFrame:
    """Wide text columns -> long (column, text, scale, source_unit) rows, Spark-native; every
    other column of df is kept. columns: target -> (source column, scale to the standard unit,
    the source's unit where it differs)."""
    pairs = F.explode(F.array(*[
        F.struct(F.lit(target).alias("column"), F.col(src).alias("text"), F.lit(scale).alias("scale"),
                 F.lit(unit).cast("string").alias("source_unit"))
        for target, (src, scale, unit) in columns.items()
    ]))
    sources = {src for src, _, _ in columns.values()}
    return df.select("*", pairs.alias("c")).select(*[c for c in df.columns if c not in sources], "c.*")
