"""Lineage carried through a hash aggregation as numbers.

One row per station and hour takes an aggregation over millions of rows. Spark aggregates by
hash only when every aggregation buffer is fixed-width; a single min() over a string (the source
file, the batch id, the unit) makes it sort all the rows instead, twice (before the partial and
the final aggregation). Hashing pays on the nightly's batches; at the size where the hash map
spills it costs the same as sorting (figures in bench/RESULTS.md).

So the lineage strings are coded before the aggregation and decoded after it. The files of a
conformation are few (one code per source, file and batch, from a small distinct scan), so a
row's lineage packs into one long: file code in the high 32 bits, source line + 1 in the low
(0 = no line). min() of that long keeps one row's lineage whole (the first file, then its first
line) where independent min()s of each column could mix two rows: a station-hour sent in
two files pointed at one file's name and the other file's line. Units, likewise, become their
rank among the units present, so max() of the rank is max() of the unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

FILE_KEY = ["source", "source_file", "batch_id", "ingested_at"]
LINE_BITS = 32
LINE_MASK = (1 << LINE_BITS) - 1
PACKED = "_lineage"
UNIT = "_unit"


@dataclass(frozen=True)
class LineageCodes:
    """Codes for one conformation: files[i] is (source, source_file, batch_id, ingested_at) of
    file code i, in arrival order (the batch's time, then the file's place in the batch), so a
    greater code is a later delivery; units sorted."""

    files: tuple[tuple[str, str | None, str | None, datetime | None], ...]
    units: tuple[str, ...]


def codes_of(facts: Iterable[tuple[str, str | None, str | None, datetime | None, str | None]],
             file_order: Mapping[tuple[str, str], int] | None = None) -> LineageCodes:
    """Codes from the distinct (source, source_file, batch_id, ingested_at, source_unit) of the
    rows; file_order: (source_file, batch_id) -> the file's place in its batch (the manifest's),
    without which files of one batch follow their paths."""
    facts = list(facts)
    order = file_order or {}
    files = sorted({f[:4] for f in facts}, key=lambda f: arrival(f, order.get((f[1] or "", f[2] or ""), 0)))
    units = sorted({f[4] for f in facts if f[4] is not None})
    return LineageCodes(tuple(files), tuple(units))


FACTS = ["source", "source_file", "batch_id", "ingested_at", "source_unit"]  # what codes_of reads, in its order


def arrival(file: tuple[str, str | None, str | None, datetime | None], place: int = 0) -> tuple:
    """The order deliveries arrived in: the batch (its time, then its id for batches of one
    instant), then the file's place in the batch (bronze.ingest_batches.file_order: the ingest
    reads a batch's files by modification time), then its path and source."""
    source, source_file, batch_id, ingested_at = file
    return (ingested_at or datetime.min, batch_id or "", place, source_file or "", source)


def lineage_facts(rows: DataFrame) -> DataFrame:
    """The distinct facts codes_of needs, as a small frame to collect."""
    return rows.select(*FACTS).distinct()


def _files_frame(rows: DataFrame, codes: LineageCodes) -> DataFrame:
    return rows.sparkSession.createDataFrame(
        [(i, *f) for i, f in enumerate(codes.files)],
        "_file int, source string, source_file string, batch_id string, ingested_at timestamp",
    )


def encode(rows: DataFrame, codes: LineageCodes) -> DataFrame:
    """rows with the lineage and source_unit columns replaced by PACKED (bigint) and UNIT (int)."""
    files = F.broadcast(_files_frame(rows, codes).select("_file", *FILE_KEY))
    line = F.coalesce(F.col("source_line") + 1, F.lit(0))
    # a line beyond 32 bits would spill into the file code: refuse it (never seen: 4 G lines)
    line = F.when(line <= F.lit(LINE_MASK), line).otherwise(F.raise_error(F.lit("source_line beyond 2^32 - 2")))
    unit = F.array_position(F.array(*[F.lit(u) for u in codes.units] or [F.lit(None).cast("string")]), F.col("source_unit"))
    joined = rows.join(files, [rows[k].eqNullSafe(files[k]) for k in FILE_KEY], "left")
    keep = [rows[c] for c in rows.columns if c not in ("source", "source_file", "source_line", "batch_id", "ingested_at", "source_unit")]
    return joined.select(
        *keep,
        (F.col("_file").cast("bigint") * F.lit(1 << LINE_BITS) + line.cast("bigint")).alias(PACKED),
        F.when(unit > 0, unit.cast("int")).alias(UNIT),
    )


def decode(rows: DataFrame, codes: LineageCodes) -> DataFrame:
    """The inverse of encode after an aggregation (min of PACKED, max of UNIT)."""
    files = F.broadcast(_files_frame(rows, codes))
    line = F.col(PACKED).bitwiseAND(F.lit(LINE_MASK))
    units = F.array(*[F.lit(u) for u in codes.units] or [F.lit(None).cast("string")])
    out = rows.withColumn("_file", F.shiftright(F.col(PACKED), LINE_BITS).cast("int")).join(files, "_file", "left")
    return out.withColumn("source_line", F.when(line > 0, line - 1)).withColumn(
        "source_unit", F.when(F.col(UNIT).isNotNull(), F.element_at(units, F.col(UNIT)))
    ).drop("_file", PACKED, UNIT)
