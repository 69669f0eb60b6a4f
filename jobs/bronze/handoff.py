"""Parsed Arrow rows -> a bronze table, by the cheapest road the deployment allows.

When the lake is a local folder and Spark runs on this machine, the rows are appended by
delta-rs straight from Arrow (`append_arrow`): no copy through the JVM, no second pass. The table
is created by Spark from its declaration first (its properties and protocol), delta-rs only
appends, with the batch as its idempotent transaction, so a re-run after a crash does not append
twice; a table whose protocol delta-rs cannot write falls back to Spark. Elsewhere (a cluster,
an object store) the rows go to Spark as a DataFrame. The small bookkeeping tables every ingest
and silver job reads and writes (the ingest manifest, the ledger, the conformed batches) take the
same road (`read_arrow`, `merge_arrow`): a Spark job each would cost more than the work.

On the DataFrame road, `createDataFrame` of an Arrow table sends every batch through the Python driver into the JVM
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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import reduce
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from smartmon.config import Settings, is_local_uri, local_dir
from smartmon.errors import TableError
from smartmon.io import Lake, WriteResult, check_columns

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
    table = without_null_type(table)
    folder = root / uuid.uuid4().hex
    folder.mkdir(parents=True)
    try:
        for i, start in enumerate(range(0, table.num_rows, PART_ROWS)):
            pq.write_table(table.slice(start, PART_ROWS), folder / f"part-{i:05d}.parquet")
        log.debug("staged %d rows in %s", table.num_rows, folder)
        yield spark.read.parquet(str(folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def without_null_type(table: pa.Table) -> pa.Table:
    """Arrow's null type (an all-empty column) as text: Parquet and Delta have no column type
    for it, and the table's declared type then casts it, as it casts createDataFrame's NullType."""
    return table.cast(pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in table.schema]))


def arrow_schema(lake: Lake, fqn: str) -> pa.Schema:
    """The table's schema as Arrow, in its column order (timestamps in UTC, as Delta stores them)."""
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(lake.spark.read.format("delta").load(lake.path(fqn)).schema, timezone="UTC")


def append_arrow(lake: Lake, table: pa.Table, fqn: str, txn: tuple[str, int]) -> WriteResult:
    """Append Arrow rows to a bronze table: by delta-rs on a local lake, else through Spark.

    txn=(app id, version): Delta's idempotent-transaction marker, as Lake.append sets it, so a
    batch already committed is not appended again."""
    from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake

    spec = lake.ensure(fqn)
    if not (lake.cfg.is_local and is_local_uri(lake.cfg.lake)):
        with arrow_frame(lake.spark, table, None) as frame:
            return lake.append(frame, fqn, txn=txn)
    path = str(local_dir(lake.path(fqn)))
    check_columns(spec, table.column_names)
    target = arrow_schema(lake, fqn)
    data = without_null_type(table).select(target.names).cast(target)
    dt = DeltaTable(path)
    done = dt.transaction_version(txn[0])
    if done is not None and done >= txn[1]:
        log.info("%s: batch %s already appended (idempotent transaction)", fqn, txn[0])
        result = WriteResult(fqn, "NOOP", dt.version())
    else:
        try:
            write_deltalake(path, data, mode="append",
                            commit_properties=CommitProperties(app_transactions=[Transaction(txn[0], txn[1])]))
        except Exception as exc:  # noqa: BLE001 - a protocol delta-rs cannot write: Spark can
            if "protocol" not in str(exc).lower() and "feature" not in str(exc).lower():
                raise TableError(f"{fqn}: delta-rs append failed: {exc}") from exc
            log.warning("%s: delta-rs cannot write this table (%s): appending through Spark", fqn, exc)
            with arrow_frame(lake.spark, table, stage_root(lake.cfg)) as frame:
                return lake.append(frame, fqn, txn=txn)
        result = WriteResult(fqn, "WRITE", DeltaTable(path).version(), rows_inserted=data.num_rows)
    lake.writes.append(result)
    log.info("%s %s v%d: +%d rows (delta-rs)", fqn, result.operation, result.version, result.rows_inserted)
    return result


def _rs_path(lake: Lake, fqn: str) -> str | None:
    """The table's folder when delta-rs on this machine writes it (a local lake, Spark here), else None."""
    return str(local_dir(lake.path(fqn))) if lake.cfg.is_local and is_local_uri(lake.cfg.lake) else None


def read_arrow(lake: Lake, fqn: str, columns: list[str], where: Mapping[str, Sequence[object]] | None = None) -> pa.Table:
    """Columns of a small bookkeeping table (the ingest manifest, the ledger) as Arrow, only the
    rows whose `where` columns take one of the given values: by delta-rs on a local lake (a few
    milliseconds where a Spark job costs the better part of a second, and every ingest reads
    them), elsewhere through Spark, the filter applied before anything reaches the driver."""
    from deltalake import DeltaTable

    spec = lake.ensure(fqn)
    if unknown := sorted((set(columns) | set(where or ())) - set(spec.column_names)):
        raise TableError(f"{fqn} has no columns {unknown}")
    path = _rs_path(lake, fqn)
    if path is not None:
        where = where or {}
        table = DeltaTable(path).to_pyarrow_table(columns=list(dict.fromkeys([*columns, *where])))
        terms = [pc.is_in(table[c], value_set=pa.array(list(values), type=table[c].type)) for c, values in where.items()]
        return (table.filter(reduce(pc.and_, terms)) if terms else table).select(columns)
    frame = lake.read(fqn)
    for c, values in (where or {}).items():
        frame = frame.where(F.col(c).isin(list(values)))
    return frame.select(*columns).toArrow()


def _merge_by_spark(lake: Lake, table: pa.Table, fqn: str) -> WriteResult:
    with arrow_frame(lake.spark, table, None) as frame:
        return lake.merge(frame, fqn)


def merge_arrow(lake: Lake, table: pa.Table, fqn: str) -> WriteResult:
    """MERGE Arrow rows into a small bookkeeping table on its declared keys, as Lake.merge does
    (new keys inserted; a matched row updated only where a value differs): by delta-rs on a
    local lake, else Lake.merge through Spark."""
    from deltalake import DeltaTable

    spec = lake.ensure(fqn)
    check_columns(spec, table.column_names)
    path = _rs_path(lake, fqn)
    if path is None:
        return _merge_by_spark(lake, table, fqn)
    target = arrow_schema(lake, fqn)
    data = without_null_type(table).select(target.names).cast(target)
    on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in spec.keys)
    changed = " OR ".join(f"(t.`{c}` IS DISTINCT FROM s.`{c}`)" for c in spec.column_names if c not in spec.keys) or "false"
    dt = DeltaTable(path)
    before = dt.version()
    try:
        metrics = (dt.merge(data, predicate=on, source_alias="s", target_alias="t")
                   .when_matched_update_all(predicate=changed).when_not_matched_insert_all().execute())
    except Exception as exc:  # noqa: BLE001 - a protocol delta-rs cannot write: Spark can
        if "protocol" not in str(exc).lower() and "feature" not in str(exc).lower():
            raise TableError(f"{fqn}: delta-rs merge failed: {exc}") from exc
        log.warning("%s: delta-rs cannot write this table (%s): merging through Spark", fqn, exc)
        return _merge_by_spark(lake, table, fqn)
    version = DeltaTable(path).version()
    inserted, updated = int(metrics.get("num_target_rows_inserted", 0)), int(metrics.get("num_target_rows_updated", 0))
    result = WriteResult(fqn, "MERGE" if version != before else "NOOP", version, rows_inserted=inserted, rows_updated=updated)
    lake.writes.append(result)
    log.info("%s %s v%d: +%d ~%d rows (delta-rs)", fqn, result.operation, version, inserted, updated)
    return result


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
