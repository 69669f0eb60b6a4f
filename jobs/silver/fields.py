"""Typed columns out of a bronze 'fields' map (header -> text), with row-level refusals.

The mapped feeds (station lists, registries, utility and yearbook exports) keep every value as
text under its original header; a silver job names the headers it needs and their types. A row
whose required field is missing, or whose typed field does not parse, is refused whole, the
reason naming the header and the value."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.silver.conform import LINEAGE_COLS, bronze_rows, refusals
from smartmon import catalog
from smartmon.io import Lake
from smartmon.lineage import quarantine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Field:
    header: str
    type: str = "string"  # string | double | int | date (yyyy-MM-dd)
    required: bool = True


def _typed(text: Column, typ: str) -> Column:
    if typ == "date":
        return F.try_to_timestamp(text, F.lit("yyyy-MM-dd")).cast("date")
    if typ == "string":
        return text
    return text.try_cast("double").cast(typ) if typ == "int" else text.try_cast(typ)


def extract(rows: DataFrame, columns: dict[str, Field]) -> tuple[DataFrame, DataFrame]:
    """(typed rows with lineage, refusals shaped for smartmon.lineage.quarantine)."""
    texts = {name: F.trim(F.col("fields")[f.header]) for name, f in columns.items()}
    problems = []
    for name, f in columns.items():
        t = texts[name]
        missing = t.isNull() | (t == "")
        bad = ~missing & _typed(t, f.type).isNull() if f.type != "string" else F.lit(False)
        if f.required:
            problems.append(F.when(missing, F.lit(f"missing {f.header}")))
        problems.append(F.when(bad, F.concat(F.lit(f"not a {f.type} in {f.header}: '"), t, F.lit("'"))))
    reason = F.concat_ws("; ", F.array_compact(F.array(*problems)))
    staged = rows.select("*", reason.alias("_reason"))
    good = staged.where(F.col("_reason") == "").select(
        *[_typed(texts[n], f.type).alias(n) for n, f in columns.items()], *LINEAGE_COLS
    )
    bad_rows = staged.where(F.col("_reason") != "")
    payload = F.to_json(F.col("fields"))
    return good, refusals(bad_rows, F.col("_reason"), payload)


def write(lake: Lake, rows: DataFrame, refused: DataFrame, table: str) -> dict[str, int]:
    """MERGE rows into a silver table (one row per key: a feed repeating a key keeps one) and
    the refusals into bronze.quarantine; the job's summary."""
    result = lake.merge(rows.dropDuplicates(list(catalog.get(table).keys)), table)
    q = quarantine(lake, refused, stage=table)
    summary = {"rows_out": result.rows_written, "quarantined": q.rows_inserted}
    log.info("%s: %s", table, summary)
    return summary


def admin_codes(county: str = "county_code") -> list[Column]:
    """province_code and city_code derived from a GB/T 2260 county code (the feeds give the county)."""
    return [F.concat(F.substring(county, 1, 2), F.lit("0000")).alias("province_code"),
            F.concat(F.substring(county, 1, 4), F.lit("00")).alias("city_code")]


def conform_feed(lake: Lake, batches: dict[str, list[str]] | None, bronze_table: str, adapter: str, columns: dict[str, Field],
                 table: str, *, layout: str | None = None, shape: Callable[[DataFrame], DataFrame] | None = None) -> dict[str, int]:
    """The whole silver job of a mapped feed: its pending bronze rows (of one layout), typed by
    columns, shaped (derived columns, H3), merged into table; refusals quarantined."""
    bronze = bronze_rows(lake, bronze_table, adapter, batches)
    if bronze is None:
        return {"rows_in": 0}
    rows, refused = extract(bronze if layout is None else bronze.where(F.col("layout") == layout), columns)
    return write(lake, shape(rows) if shape else rows, refused, table)
