"""Batch ids, file fingerprints and the quarantine: what makes every value traceable."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from smartmon.catalog.names import BRONZE_QUARANTINE
from smartmon.io import Lake, WriteResult


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def batch_id_for(source: str, fingerprints: list[str]) -> str:
    """Deterministic: the same inputs give the same batch id, so a re-run writes the same lineage."""
    digest = hashlib.sha256((source + "\n" + "\n".join(sorted(fingerprints))).encode()).hexdigest()
    return f"{source}-{digest[:16]}"


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def record_id(*cols: Column) -> Column:
    """Natural key of a quarantined record: hash of where it came from and what it said."""
    return F.sha2(F.concat_ws("\u241f", *[F.coalesce(c.cast("string"), F.lit("")) for c in cols]), 256)


def quarantine(lake: Lake, rows: DataFrame, stage: str) -> WriteResult:
    """MERGE refused records (columns: reason, raw_payload + lineage) into bronze.quarantine."""
    data = rows.withColumn("stage", F.lit(stage)).withColumn(
        "record_id",
        record_id(F.col("stage"), F.col("source"), F.col("source_file"), F.col("source_line"), F.col("raw_payload"), F.col("reason")),
    )
    return lake.merge(data.dropDuplicates(["record_id"]), BRONZE_QUARANTINE)
