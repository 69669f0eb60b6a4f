"""Parsing landing files as Spark tasks on the executors, for a cluster.

On one machine the driver parses a batch's files with Arrow's readers (threads side by side)
and hands the rows to delta-rs. On a cluster that would make the driver the bottleneck: every
byte of every file would pass through one process before the executors see a row. Here the
driver sends only the file paths (one Spark partition per file, so the files spread over the
executors); each task parses its file with the source's own adapter and returns, in one Arrow
stream, the bronze rows (already in the table's columns and types, with their lineage) and two
kinds of bookkeeping rows: one per refused record (line, raw text, reason) and one per file
(records read). The result is persisted on the executors, so the bronze append and the
driver's small collect of the bookkeeping rows read one parse, not two.

The files must be readable at the same path on every executor, as they are on the shared
volume of the Kubernetes deployment (infra/k8s/namespace.yaml, PVC smartmon-data) and on the
loopback cluster, whose worker shares the machine.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType

from jobs.bronze.adapter import SourceAdapter
from jobs.bronze.handoff import without_null_type

log = logging.getLogger(__name__)

KIND, LINE, RAW, REASON, READ = "_kind", "_line", "_raw", "_reason", "_read"
BOOKKEEPING = StructType([StructField(KIND, StringType()), StructField(LINE, LongType()), StructField(RAW, StringType()),
                          StructField(REASON, StringType()), StructField(READ, LongType())])
MAX_TASKS = 2_000  # one task per file up to here; beyond, files share tasks


def with_lineage(rows: pa.Table, source: str, source_file: str, batch: str, ingested_at: datetime) -> pa.Table:
    """The file's rows with its lineage columns (constant per file: pa.repeat, no per-row list)."""
    n = rows.num_rows
    for name, value in (("source", source), ("source_file", source_file), ("batch_id", batch)):
        rows = rows.append_column(name, pa.repeat(pa.scalar(value, pa.string()), n))
    return rows.append_column("ingested_at", pa.repeat(pa.scalar(ingested_at, pa.timestamp("us")), n))


@dataclass(frozen=True)
class FileOutcome:
    """What a task learnt of one file: records read, and the refused ones as (line, raw, reason)."""

    path: str
    read: int
    rejects: list[tuple[int | None, str, str]]


def _executor_logger() -> logging.Logger:
    """A logger that reaches the executor's stderr (its log on the worker): a Python worker has
    no logging configured, and where a file was parsed is worth finding there."""
    task_log = logging.getLogger("smartmon.bronze.task")
    if not task_log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        task_log.addHandler(handler)
        task_log.setLevel(logging.INFO)
        task_log.propagate = False
    return task_log


def _task(adapter: SourceAdapter, schema: pa.Schema, batch: str,
          ingested_at: datetime) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function each task runs over its partition of paths (shipped by cloudpickle: the
    adapter travels by reference to its module, which the executors import)."""
    data_names = [n for n in schema.names if n not in BOOKKEEPING.fieldNames()]

    def conform(table: pa.Table) -> pa.Table:
        table = without_null_type(table)
        columns = [table.column(f.name).cast(f.type) if f.name in table.column_names
                   else pa.nulls(table.num_rows, f.type) for f in schema]
        return pa.Table.from_arrays(columns, schema=schema)

    def run(paths: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        task_log = _executor_logger()
        where = f"{socket.gethostname()} pid {os.getpid()}"
        for chunk in paths:
            for path in chunk.column("path").to_pylist():
                parsed = adapter.parse(Path(path))
                rows = with_lineage(parsed.rows, adapter.NAME, path, batch, ingested_at)
                extra = [c for c in rows.column_names if c not in data_names]
                if extra:  # as check_columns refuses them on the driver's road
                    raise ValueError(f"{path}: {adapter.NAME} produced columns its bronze table does not declare: {extra}")
                rows = rows.append_column(KIND, pa.repeat(pa.scalar("row", pa.string()), rows.num_rows))
                yield from conform(rows).to_batches(max_chunksize=100_000)
                book = {KIND: ["file"] + ["reject"] * len(parsed.rejects),
                        "source_file": [path] * (1 + len(parsed.rejects)),
                        LINE: [None] + [line for line, _, _ in parsed.rejects],
                        RAW: [None] + [raw for _, raw, _ in parsed.rejects],
                        REASON: [None] + [reason for _, _, reason in parsed.rejects],
                        READ: [parsed.records_read] + [None] * len(parsed.rejects)}
                yield from conform(pa.table(book)).to_batches()
                task_log.info("parsed %s on %s (%s): %d records, %d refused", path, where, adapter.NAME,
                              parsed.records_read, len(parsed.rejects))

    return run


@contextmanager
def parse_on_executors(spark: SparkSession, adapter: SourceAdapter, bronze_schema: StructType, paths: list[str],
                       batch: str, ingested_at: datetime) -> Iterator[tuple[DataFrame, list[FileOutcome]]]:
    """(the bronze rows, each file's outcome in the order of `paths`), valid inside the block:
    the parse is persisted on the executors until the block ends. The driver never holds a
    parsed row, only the outcomes."""
    from pyspark.sql.pandas.types import to_arrow_schema

    # every column nullable: a bookkeeping row has no bronze values (Spark trusts the declared
    # nullability and would fail on a null in a non-nullable column); the append conforms them back
    out_schema = StructType([StructField(f.name, f.dataType, True) for f in bronze_schema.fields] + list(BOOKKEEPING.fields))
    arrow = to_arrow_schema(out_schema, timezone="UTC")
    # one slice per file (parallelize cuts a list exactly; a round-robin repartition need not)
    files = spark.createDataFrame(spark.sparkContext.parallelize([(p,) for p in paths], min(len(paths), MAX_TASKS)), "path string")
    parsed = files.mapInArrow(_task(adapter, arrow, batch, ingested_at), out_schema).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        book = parsed.where(F.col(KIND) != "row").select(KIND, "source_file", LINE, RAW, REASON, READ).collect()
        read = {r.source_file: r[READ] for r in book if r[KIND] == "file"}
        rejects: dict[str, list[tuple[int | None, str, str]]] = {}
        for r in book:
            if r[KIND] == "reject":
                rejects.setdefault(r.source_file, []).append((r[LINE], r[RAW], r[REASON]))
        missing = [p for p in paths if p not in read]
        if missing:
            raise RuntimeError(f"{adapter.NAME}: no outcome came back for {len(missing)} files, e.g. {missing[0]}")
        outcomes = [FileOutcome(p, int(read[p]), sorted(rejects.get(p, []), key=lambda t: t[0] or 0)) for p in paths]
        log.info("%s: %d files parsed as Spark tasks on the executors", adapter.NAME, len(paths))
        yield parsed.where(F.col(KIND) == "row").select(*bronze_schema.fieldNames()), outcomes
    finally:
        parsed.unpersist()
