"""Parsed Arrow rows -> a Spark DataFrame, by the cheapest road the deployment allows.

`createDataFrame` of an Arrow table sends every batch through the Python driver into the JVM
in one thread; for a large batch of a tier feed (10 M rows) that is most of bronze's time.
When Spark runs in this process's machine (`local[*]`) and the lake is a local folder, the
rows are written as Parquet files by Arrow's C++ writer into the lake's `_staging` folder
instead and Spark reads them back in parallel; the folder goes when the write is done,
whether it succeeded or not. Small batches and clusters keep `createDataFrame` (executors on
other machines cannot read the driver's disk).
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession

from smartmon.config import Settings, is_local_uri, local_dir

log = logging.getLogger(__name__)

STAGE_MIN_ROWS = 500_000  # below this, createDataFrame costs less than writing and listing files
PART_ROWS = 1_000_000  # rows per staged file: Spark reads the files in parallel


def stage_root(cfg: Settings) -> Path | None:
    """Where to stage, or None when the driver's disk is not the executors' disk."""
    if cfg.is_local and is_local_uri(cfg.lake):
        return local_dir(cfg.lake) / "_staging"
    return None


@contextmanager
def arrow_frame(spark: SparkSession, table: pa.Table, root: Path | None) -> Iterator[DataFrame]:
    """The table as a DataFrame, valid inside the block (staged files are removed on exit)."""
    if root is None or table.num_rows < STAGE_MIN_ROWS:
        yield spark.createDataFrame(table)
        return
    # Parquet has no column type for Arrow's null (an all-empty column): give it text, which the
    # table's declared type then casts, as it casts createDataFrame's NullType.
    table = table.cast(pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in table.schema]))
    folder = root / uuid.uuid4().hex
    folder.mkdir(parents=True)
    try:
        for i, start in enumerate(range(0, table.num_rows, PART_ROWS)):
            pq.write_table(table.slice(start, PART_ROWS), folder / f"part-{i:05d}.parquet")
        log.debug("staged %d rows in %s", table.num_rows, folder)
        yield spark.read.parquet(str(folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def prune_stale(root: Path, older_than_hours: float = 24.0) -> int:
    """Staging folders a killed process left behind (the block's own cleanup did not run);
    a live ingest stages for minutes, so a day-old folder is nobody's. Returns folders removed."""
    if not root.is_dir():
        return 0
    cutoff = time.time() - older_than_hours * 3600
    stale = [d for d in root.iterdir() if d.is_dir() and d.stat().st_mtime < cutoff]
    for d in stale:
        shutil.rmtree(d, ignore_errors=True)
        log.info("removed a stale staging folder %s", d)
    return len(stale)
