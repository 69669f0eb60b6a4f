"""What a delivery replaces: silver keeps values, not rows.

A delivery changes only the values it carries (Lake.merge(values=...)), and of several
deliveries of one value the latest wins. Before the rows are merged, every value they would
replace is written to silver.value_corrections with the old and the new value and the file and
line of each, so nothing a source once sent is lost; an audited row a delivery changes goes back
to preliminary, and the correction says it was audited.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from smartmon import catalog
from smartmon.catalog.names import SILVER_VALUE_CORRECTIONS
from smartmon.io import Lake, partition_predicate
from smartmon.lineage import now_utc

log = logging.getLogger(__name__)


def corrections(rows: DataFrame, target: DataFrame, table: str, keys: Sequence[str], values: Sequence[str]) -> DataFrame:
    """One row per delivered value that differs from a value the target holds (a value the target
    lacks is a fill, not a correction), in silver.value_corrections' columns but corrected_at."""
    s, t = rows.alias("s"), target.alias("t")
    joined = s.join(t, [F.col(f"s.{k}") == F.col(f"t.{k}") for k in keys])
    changed = [
        F.when(
            F.col(f"s.{c}").isNotNull() & F.col(f"t.{c}").isNotNull() & (F.col(f"s.{c}") != F.col(f"t.{c}")),
            F.struct(F.lit(c).alias("column"), F.col(f"t.{c}").cast("double").alias("old_value"),
                     F.col(f"s.{c}").cast("double").alias("new_value")),
        )
        for c in values
    ]
    return joined.select(
        F.lit(table).alias("table_name"),
        *[F.col(f"s.{k}").alias(k) for k in keys],
        F.col("t.month").alias("month"),
        F.explode(F.array_compact(F.array(*changed))).alias("c"),
        F.col("t.status").alias("old_status"),
        F.col("t.source_file").alias("old_source_file"),
        F.col("t.source_line").alias("old_source_line"),
        F.col("t.batch_id").alias("old_batch_id"),
        F.col("s.source_file").alias("new_source_file"),
        F.col("s.source_line").alias("new_source_line"),
        F.col("s.batch_id").alias("new_batch_id"),
    ).select("table_name", *keys, "month", "c.column", "c.old_value", "c.new_value", "old_status", "old_source_file",
             "old_source_line", "old_batch_id", "new_source_file", "new_source_line", "new_batch_id")


def _target(lake: Lake, table: str, months: Sequence[str], where: str | None) -> DataFrame:
    """The table's rows in the months (and the literal predicate, e.g. the delivery's hours)."""
    target = lake.read(table).where(partition_predicate(catalog.get(table), {"month": months}, alias=""))
    return target.where(where) if where else target


def has_rows(lake: Lake, table: str, months: Sequence[str], where: str | None = None) -> bool:
    """Whether the table holds any row in the months and hours (else a delivery can replace nothing)."""
    if not months:
        return False
    return bool(_target(lake, table, months, where).limit(1).collect())


def record(lake: Lake, rows: DataFrame, table: str, values: Sequence[str], months: Sequence[str],
           where: str | None = None) -> dict[str, int]:
    """Write the corrections `rows` would make to `table` (within the months they fall in), before
    they are merged; a re-run finds the values already equal and writes nothing again. The caller
    skips this for months the table does not hold yet (has_rows): nothing there to replace.
    where: a literal predicate the rows all satisfy (their hours), so only those files are read."""
    spec = catalog.get(table)
    target = _target(lake, table, months, where)
    found = corrections(rows, target, table, spec.keys, values).withColumn("corrected_at", F.lit(now_utc())).cache()
    try:
        counts = found.agg(F.count("*").alias("n"), F.sum(F.when(F.col("old_status") == "audited", 1).otherwise(0)).alias("a")).first()
        n, audited = int(counts.n or 0), int(counts.a or 0)
        if n:
            # a correction lies in its row's month, one of the months the rows fall in
            lake.merge(found, SILVER_VALUE_CORRECTIONS, within={"month": months})
            log.info("%s: %d delivered values replace earlier ones (silver.value_corrections)", table, n)
        if audited:
            log.warning("%s: %d audited values changed by a later delivery are preliminary again", table, audited)
        return {"corrected": n, "audited_reopened": audited}
    finally:
        found.unpersist()
