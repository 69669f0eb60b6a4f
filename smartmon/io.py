"""The one I/O layer: every table read and write goes through Lake, which records row counts.

Tables are path-based Delta tables at <lake>/<layer>/<name>, created on first use from the
registry's declaration. Writes are retried when another writer committed first.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructField, StructType

from smartmon import catalog, metastore
from smartmon.catalog import TableSpec
from smartmon.config import Settings, settings
from smartmon.errors import ConcurrentCommitError, TableError, map_jvm_error

log = logging.getLogger(__name__)
R = TypeVar("R")

# Lineage that changes on every run; a re-run must not count as a change of contents.
VOLATILE = frozenset({"batch_id", "ingested_at"})
# Rows of a station-hour table per file of a first load (about 40-60 MB of Parquet): a file per
# day of a 1,600-station network would be 38,000 rows, and a first load of five years of a
# small network thousands of files that each cost a task to write and the maintenance a
# compaction to undo.
ROWS_PER_FILE = 1_000_000


def time_files(rows: int, days: int, cores: int = 2) -> int:
    """How many files a load of `rows` rows over `days` days is range-partitioned into on
    time (Lake.merge's cluster_by): enough that no file holds much more than ROWS_PER_FILE
    rows and every core writes, never more than one per day (each file then holds whole days
    or a stretch of them, which the day-scoped reads skip or take whole)."""
    wanted = max(cores, -(-rows // ROWS_PER_FILE))
    return max(1, min(days, wanted))


@dataclass(frozen=True)
class WriteResult:
    table: str
    operation: str
    version: int
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_deleted: int = 0

    @property
    def rows_written(self) -> int:
        return self.rows_inserted + self.rows_updated + self.rows_deleted


_PARTITION_VALUE = re.compile(r"^[\w\-:. ]+$")


def partition_predicate(spec: TableSpec, within: Mapping[str, Iterable[str]], alias: str = "t") -> str:
    """A literal predicate on partition columns. Delta's MERGE prunes the target's files only by
    literals in its condition (t.month = s.month still reads every partition), so a MERGE that
    knows which partitions its rows fall in says so and reads those alone."""
    terms = []
    for col, values in within.items():
        if col not in spec.partition_by:
            raise TableError(f"{spec.fqn}: {col!r} is not a partition column (partitioned by {list(spec.partition_by)})")
        vals = sorted({str(v) for v in values})
        bad = [v for v in vals if not _PARTITION_VALUE.match(v)]
        if bad:
            raise TableError(f"{spec.fqn}: partition value(s) {bad[:3]} of {col} cannot be a SQL literal here")
        if not vals:
            return "false"
        prefix = f"{alias}." if alias else ""
        terms.append(f"{prefix}`{col}` IN ({', '.join(repr(v) for v in vals)})")
    return " AND ".join(terms) or "true"


def check_columns(spec: TableSpec, have: Iterable[str]) -> None:
    """Refuse rows that lack a declared column or carry an undeclared one."""
    have = set(have)
    missing = [c for c in spec.column_names if c not in have]
    extra = sorted(have - set(spec.column_names))
    if missing or extra:
        raise TableError(f"{spec.fqn}: missing columns {missing}, undeclared columns {extra}")


def with_retry(fn: Callable[[], R], *, what: str, attempts: int = 5, base_delay: float = 0.5) -> R:
    """Run fn, retrying with jittered exponential backoff when a Delta commit conflicts."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            mapped = map_jvm_error(exc)
            if not isinstance(mapped, ConcurrentCommitError) or attempt == attempts:
                if mapped is exc:
                    raise
                raise mapped from exc
            delay = base_delay * 2 ** (attempt - 1) * (1 + random.random())
            log.warning("%s: concurrent commit (%s); retry %d in %.1fs", what, mapped, attempt, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


@dataclass
class Lake:
    spark: SparkSession
    cfg: Settings = field(default_factory=settings)
    writes: list[WriteResult] = field(default_factory=list)
    _checked: set[str] = field(default_factory=set, repr=False)

    # -- paths and existence -------------------------------------------------------------
    def path(self, fqn: str) -> str:
        spec = catalog.get(fqn)
        return self.cfg.table_path(spec.layer, spec.name)

    def exists(self, fqn: str) -> bool:
        return DeltaTable.isDeltaTable(self.spark, self.path(fqn))

    def ensure(self, fqn: str) -> TableSpec:
        """Create the table from its declaration if it does not exist yet."""
        spec = catalog.get(fqn)
        if fqn in self._checked:
            return spec
        if self.exists(fqn):
            self._add_new_columns(spec)
            metastore.register(self.spark, self.cfg, spec)
            self._checked.add(fqn)
            return spec
        builder = DeltaTable.createIfNotExists(self.spark).location(self.path(fqn)).addColumns(spec.schema)
        if spec.partition_by:
            builder = builder.partitionedBy(*spec.partition_by)
        for key, value in spec.properties.items():
            builder = builder.property(key, value)
        builder = builder.comment(spec.description[:200])
        with_retry(builder.execute, what=f"create {fqn}")
        log.info("created %s at %s", fqn, self.path(fqn))
        metastore.register(self.spark, self.cfg, spec)
        self._checked.add(fqn)
        return spec

    def _add_new_columns(self, spec: TableSpec) -> None:
        """Additive schema evolution: columns declared since the table was created are added
        (nullable, at the end), so an existing lake keeps working after an upgrade."""
        current = self.spark.read.format("delta").load(self.path(spec.fqn)).schema
        have = {f.name for f in current}
        new = [c for c in spec.columns if c.name not in have]
        if not new:
            return
        # an empty append that merges the schema: the same commit as ALTER TABLE ADD COLUMNS, without
        # resolving the table through the session catalog (whose metastore another process may hold)
        widened = StructType(list(current.fields) + [StructField(c.name, catalog.spark_type(c.type), True) for c in new])
        (self.spark.createDataFrame([], widened).write.format("delta").mode("append")
         .option("mergeSchema", "true").save(self.path(spec.fqn)))
        log.warning("%s: added columns declared since it was created: %s", spec.fqn, ", ".join(c.name for c in new))

    # -- reads ------------------------------------------------------------------------------
    def read(self, fqn: str, version: int | None = None) -> DataFrame:
        self.ensure(fqn)
        reader = self.spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        return reader.load(self.path(fqn))

    def version(self, fqn: str) -> int:
        self.ensure(fqn)
        return int(self._latest(fqn)["version"])

    # -- writes -----------------------------------------------------------------------------
    def conform(self, df: DataFrame, spec: TableSpec) -> DataFrame:
        """Select and cast to the declared schema; refuse missing or undeclared columns."""
        check_columns(spec, df.columns)
        return df.select([F.col(c.name).cast(catalog.spark_type(c.type)).alias(c.name) for c in spec.columns])

    def from_pandas(self, pdf, fqn: str) -> DataFrame:
        """A pandas frame of a table's rows (driver-side results such as model outputs) as a
        Spark DataFrame in the declared column order and types, NaN as null."""
        spec = self.ensure(fqn)
        missing = [c for c in spec.column_names if c not in pdf.columns]
        if missing:
            raise TableError(f"{fqn}: missing columns {missing}")
        frame = pdf[list(spec.column_names)]
        return self.spark.createDataFrame(frame.astype(object).where(frame.notna(), None), spec.schema)

    def _latest(self, fqn: str):
        return DeltaTable.forPath(self.spark, self.path(fqn)).history(1).select("version", "operation", "operationMetrics").first()

    def _record(self, fqn: str, before: int | None = None) -> WriteResult:
        row = self._latest(fqn)
        if before is not None and row["version"] == before:
            result = WriteResult(fqn, "NOOP", before)  # nothing to write: Delta made no commit
            self.writes.append(result)
            return result
        metrics = row["operationMetrics"] or {}

        def m(*names: str) -> int:
            return sum(int(metrics.get(n, 0) or 0) for n in names)

        if row["operation"] == "MERGE":
            result = WriteResult(
                fqn,
                "MERGE",
                row["version"],
                rows_inserted=m("numTargetRowsInserted"),
                rows_updated=m("numTargetRowsUpdated"),
                rows_deleted=m("numTargetRowsDeleted"),
            )
        elif row["operation"] == "UPDATE":
            result = WriteResult(fqn, "UPDATE", row["version"], rows_updated=m("numUpdatedRows"))
        else:
            result = WriteResult(
                fqn, row["operation"], row["version"], rows_inserted=m("numOutputRows"), rows_deleted=m("numDeletedRows")
            )
        self.writes.append(result)
        log.info(
            "%s %s v%d: +%d ~%d -%d rows",
            fqn,
            result.operation,
            result.version,
            result.rows_inserted,
            result.rows_updated,
            result.rows_deleted,
        )
        return result

    def append(self, df: DataFrame, fqn: str, *, txn: tuple[str, int] | None = None) -> WriteResult:
        """Append rows. txn=(app_id, version) makes the append idempotent: Delta skips a write
        whose app id already committed that version, so a batch re-run after a crash between
        two commits does not append twice."""
        spec = self.ensure(fqn)
        data = self.conform(df, spec)
        writer = data.write.format("delta").mode("append")
        if txn:
            writer = writer.option("txnAppId", txn[0]).option("txnVersion", txn[1])
        with_retry(lambda: writer.save(self.path(fqn)), what=f"append {fqn}")
        return self._record(fqn)

    def overwrite(self, df: DataFrame, fqn: str, replace_where: str | None = None) -> WriteResult:
        """Replace the table, or only the rows matching replace_where (a SQL predicate)."""
        spec = self.ensure(fqn)
        data = self.conform(df, spec)
        writer = data.write.format("delta").mode("overwrite")
        if replace_where:
            writer = writer.option("replaceWhere", replace_where)
        with_retry(lambda: writer.save(self.path(fqn)), what=f"overwrite {fqn}")
        return self._record(fqn)

    def merge(
        self,
        df: DataFrame,
        fqn: str,
        *,
        keys: Iterable[str] | None = None,
        ignore_in_compare: Iterable[str] = VOLATILE,
        delete_missing_where: str | None = None,
        within: Mapping[str, Iterable[str]] | None = None,
        keys_unique: bool = False,
        values: Iterable[str] | None = None,
        newer: str | None = None,
        where: Callable[[str], str] | None = None,
        cluster_by: tuple[str, int, int] | None = None,
    ) -> WriteResult:
        """Upsert on the natural keys. A row is updated only if a non-volatile column changed, so
        re-running a job with the same input changes no row; the Delta log keeps the history of
        every corrected value. delete_missing_where removes target rows in that scope that the
        source no longer has (used when a source is the full truth for a scope).

        within names the partition values the source rows fall in (e.g. {"month": [...]}): only
        those partitions are read and touched, instead of the whole table. The partition must
        follow from the keys (month from ts), or a key arriving in another partition would be
        inserted twice; with delete_missing_where, only rows within are deleted.

        keys_unique is the caller's word that the source has one row per key (an aggregation by
        the keys made it). Then, when the target holds no row within the partitions, the rows
        are written by a partition overwrite instead of a MERGE: the same rows, without the
        MERGE's materialized copy of the source and its join (the first load of a month of a
        tier feed is all inserts). A commit conflict re-checks, and a partition that filled
        meanwhile goes the MERGE way.

        values names the columns merged value by value: a source null means "not delivered" and
        leaves the target's value, so a delivery changes only the values it carries (a correction
        of one pollutant keeps the others). A row is updated only when a delivered value differs;
        its other columns (lineage, status) then take the source's.

        newer names a column that orders deliveries (HJ 212's QN): a matched row is updated only
        by a source row at least as new, so a late re-send of an old frame does not win.

        where is a literal predicate on the target's own columns (given the alias to qualify
        them with, "" for none) that every source row satisfies: the days a day-scoped job
        writes (smartmon.changes.DayWindow). Like `within` it prunes the files MERGE reads (by
        their min/max statistics), bounds delete_missing_where, and lets keys_unique rows be
        written by a replaceWhere when the target has no row there yet. Without
        delete_missing_where, the source is first cut to the rows that insert or change
        something (a join with the target's rows there): Delta's MERGE rewrites every file
        holding a matched key, changed or not, so a night that re-derives yesterday's rows
        unchanged would otherwise copy yesterday's files, and with them every row copied into
        them before, night after night.

        cluster_by=(column, rows, days): rows written by that replaceWhere are range-partitioned
        on the column into time_files(rows, days) files, so a first load of many days writes
        files that each hold a stretch of time, which the day-scoped reads then skip or take whole."""
        spec = self.ensure(fqn)
        key_cols = list(keys or spec.keys)
        if not key_cols:
            raise TableError(f"{fqn} declares no keys; MERGE needs them")
        data = self.conform(df, spec)
        ignored = set(ignore_in_compare) | set(key_cols)
        compare = [c for c in spec.column_names if c not in ignored]
        on = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in key_cols)
        if within is not None:
            pruned = partition_predicate(spec, within)
            on = f"{pruned} AND {on}"
            if delete_missing_where:
                delete_missing_where = f"({delete_missing_where}) AND {pruned}"
        if where is not None:
            on = f"({where('t')}) AND {on}"
            if delete_missing_where:
                delete_missing_where = f"({delete_missing_where}) AND ({where('t')})"
        value_cols = [c for c in (values or ()) if c not in key_cols]
        if value_cols:
            changed = " OR ".join(f"(s.`{c}` IS NOT NULL AND NOT (t.`{c}` <=> s.`{c}`))" for c in value_cols)
            assignments = {c: F.expr(f"coalesce(s.`{c}`, t.`{c}`)") for c in value_cols}
            assignments |= {c: F.col(f"s.`{c}`") for c in spec.column_names if c not in key_cols and c not in value_cols}
        else:
            changed = " OR ".join(f"NOT (t.`{c}` <=> s.`{c}`)" for c in compare) or "false"
        if newer:
            changed = f"({changed}) AND (t.`{newer}` IS NULL OR s.`{newer}` >= t.`{newer}`)"
        if where is not None and not delete_missing_where:
            data = self._changed_only(data, fqn, key_cols, changed, within, where)
        target = DeltaTable.forPath(self.spark, self.path(fqn))
        before = int(self._latest(fqn)["version"])
        # the partition-write path's predicate on the table's own columns, or None when it does not apply
        bare = None
        # (with nothing in the target there, delete_missing_where has nothing to delete either)
        if keys_unique and (within is not None or where is not None):
            terms = [partition_predicate(spec, within, alias="")] if within is not None else []
            terms += [f"({where('')})"] if where is not None else []
            bare = None if "false" in terms else " AND ".join(terms)

        def run() -> None:
            if bare and self._empty_within(fqn, bare):
                if cluster_by:
                    column, n_rows, days = cluster_by
                    rows = data.repartitionByRange(time_files(n_rows, days, self.spark.sparkContext.defaultParallelism), column)
                else:
                    rows = data
                rows.write.format("delta").mode("overwrite").option("replaceWhere", bare).save(self.path(fqn))
                return
            builder = target.alias("t").merge(data.alias("s"), on)
            if value_cols:
                builder = builder.whenMatchedUpdate(condition=changed, set=assignments)
            else:
                builder = builder.whenMatchedUpdateAll(condition=changed)
            builder = builder.whenNotMatchedInsertAll()
            if delete_missing_where:
                builder = builder.whenNotMatchedBySourceDelete(condition=delete_missing_where)
            builder.execute()

        try:
            with_retry(run, what=f"merge {fqn}")
        except Exception as exc:
            if "DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE" in str(exc):
                raise TableError(f"{fqn}: the rows to merge repeat a key {key_cols}; deduplicate first") from exc
            raise
        return self._record(fqn, before)

    def _changed_only(self, data: DataFrame, fqn: str, keys: list[str], changed: str,
                       within: Mapping[str, Iterable[str]] | None, where: Callable[[str], str]) -> DataFrame:
        """The source rows whose key the target lacks, or whose values would change it."""
        spec = catalog.get(fqn)
        target = self.read(fqn).where(where(""))
        if within is not None:
            target = target.where(partition_predicate(spec, within, alias=""))
        on = F.expr(" AND ".join(f"s.`{k}` <=> t.`{k}`" for k in keys))
        joined = data.alias("s").join(target.withColumn("_present", F.lit(True)).alias("t"), on, "left")
        return joined.where(F.col("t._present").isNull() | F.expr(changed)).select("s.*")

    def _empty_within(self, fqn: str, predicate: str) -> bool:
        """No target row in the partitions (a partition-pruned look at one row)."""
        return not self.read(fqn).where(predicate).limit(1).collect()

    def update(self, fqn: str, condition: str, assignments: dict[str, str]) -> WriteResult:
        """UPDATE rows matching a SQL condition (used for status changes such as audits)."""
        self.ensure(fqn)
        target = DeltaTable.forPath(self.spark, self.path(fqn))
        before = int(self._latest(fqn)["version"])
        with_retry(lambda: target.update(condition, {k: F.expr(v) for k, v in assignments.items()}), what=f"update {fqn}")
        return self._record(fqn, before)

