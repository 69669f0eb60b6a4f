"""Table maintenance: compaction (OPTIMIZE; Z-order on request) and VACUUM.

MERGE-heavy nightly jobs leave many small files; readers (delta-rs, Polars, the sharing
server) pay for every one. OPTIMIZE rewrites them without changing contents. Its cost must
follow the night's data, not the table: only partitions holding more than COMPACT_ABOVE files
are compacted, and only their small files (below SMALL_FILE_BYTES) are rewritten, so a month
partition that grows by a day's files each night is not rewritten whole each night. Z-order
(which rewrites every file of a partition) runs only when asked (`smartmon maintenance
--zorder`), never in the nightly; the day-scoped reads need files that follow time, which the
day-by-day writes give. VACUUM then
removes files no version within the retention still needs (default 7 days, Delta's own
safety floor), so time travel keeps working over that window; a table younger than the
retention has nothing it could delete and is not vacuumed yet. Which tables need anything is
read from their logs (delta-rs on a local lake), so the tables that need nothing cost no Spark job. The sharing server's per-area
cache (`<lake>/_sharing/cache`) is pruned by the same retention, and bronze's staging folders
(`<lake>/_staging`) that a killed ingest left behind once a day old.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import unquote

from delta.tables import DeltaTable
from pyspark.errors.exceptions.captured import CapturedException

from jobs.bronze.handoff import prune_stale, stage_root
from smartmon import catalog, metastore
from smartmon.config import is_local_uri, local_dir
from smartmon.io import Lake, with_retry
from smartmon.jobspec import WHOLE_TABLE, Job

log = logging.getLogger(__name__)
DEFAULT_RETENTION_HOURS = 168
VACUUM_EVERY_HOURS = 24 * 7
COMPACT_ABOVE = 16  # files in one partition (about two weeks of nightly writes to a month partition)
SMALL_FILE_BYTES = 32 * 1024 * 1024  # files at least this large are left as they are


@dataclass(frozen=True)
class Maintained:
    table: str
    files_removed: int
    files_added: int
    vacuumed: int


def _metric(row, name: str) -> int:
    metrics = row["operationMetrics"] or {}
    return int(metrics.get(name, 0) or 0)


@dataclass(frozen=True)
class TableState:
    """What maintenance decides by, read from the Delta log: the live files, how long ago the
    last VACUUM ran (None: never) and the age of the oldest commit the log keeps."""

    files: tuple[str, ...]
    last_vacuum_hours: float | None
    age_hours: float


def table_state(lake: Lake, fqn: str) -> TableState:
    """The table's state from its log: by delta-rs on a local lake (milliseconds, no Spark
    job: a nightly visits some thirty tables that mostly need nothing), else through Spark."""
    now_ms = time.time() * 1000
    if is_local_uri(lake.cfg.lake):
        from deltalake import DeltaTable as RsTable

        dt = RsTable(str(local_dir(lake.path(fqn))))
        commits = dt.history()
        vacuums = [c["timestamp"] for c in commits if c.get("operation") == "VACUUM END"]
        oldest = min(c["timestamp"] for c in commits)
        return TableState(tuple(dt.file_uris()), (now_ms - max(vacuums)) / 3.6e6 if vacuums else None,
                          (now_ms - oldest) / 3.6e6)
    files = lake.spark.read.format("delta").load(lake.path(fqn)).inputFiles()
    row = DeltaTable.forPath(lake.spark, lake.path(fqn)).history().selectExpr(
        "max(CASE WHEN operation = 'VACUUM END' THEN unix_millis(timestamp) END) AS vacuumed",
        "min(unix_millis(timestamp)) AS oldest").first()
    return TableState(tuple(files), None if row["vacuumed"] is None else (now_ms - row["vacuumed"]) / 3.6e6,
                      (now_ms - row["oldest"]) / 3.6e6)


def crowded_partitions(state: TableState, fqn: str, above: int = COMPACT_ABOVE) -> list[str]:
    """Predicates of the partitions holding more than `above` live files ("true" for an
    unpartitioned table that does)."""
    spec = catalog.get(fqn)
    counts: dict[str, int] = {}
    for f in state.files:
        parent = f.rsplit("/", 1)[0]
        counts[parent] = counts.get(parent, 0) + 1
    crowded = [d for d, n in counts.items() if n > above]
    if not spec.partition_by:
        return ["true"] if crowded else []
    out = []
    for d in sorted(crowded):
        parts = dict(seg.split("=", 1) for seg in d.split("/") if "=" in seg)
        terms = [f"`{c}` = '{unquote(parts[c])}'" for c in spec.partition_by if c in parts]
        if terms:
            out.append(" AND ".join(terms))
    return out


def vacuum_due(state: TableState, retention_hours: float, every_hours: float) -> bool:
    """Every `every_hours`; a table never vacuumed only once its oldest commit is older than the
    retention: before that no file can have been removed long enough ago to be deleted (a
    first night's thirty VACUUMs would each find nothing)."""
    if state.last_vacuum_hours is None:
        return state.age_hours >= retention_hours
    return state.last_vacuum_hours >= every_hours


def maintain(lake: Lake, fqn: str, *, zorder: bool = False, retention_hours: int = DEFAULT_RETENTION_HOURS,
             vacuum_every_hours: float = VACUUM_EVERY_HOURS, force: bool = False) -> Maintained:
    """Compact the crowded partitions' small files (force: every partition); Z-order them where
    the table declares it when asked; VACUUM (LITE: from the log, no directory listing, which
    costs a minute per table here) when due (force: now). A table needing neither costs a look
    at its log."""
    spec = catalog.get(fqn)
    state = table_state(lake, fqn)
    removed = added = deleted = 0
    targets = ["true"] if force else crowded_partitions(state, fqn)
    vacuum = force or vacuum_due(state, retention_hours, vacuum_every_hours)
    if not targets and not vacuum:
        log.debug("%s: nothing to compact or vacuum (%d files)", fqn, len(state.files))
        return Maintained(fqn, 0, 0, 0)
    table = DeltaTable.forPath(lake.spark, lake.path(fqn))
    conf = lake.spark.conf
    previous = conf.get("spark.databricks.delta.optimize.minFileSize", None)
    conf.set("spark.databricks.delta.optimize.minFileSize", str(SMALL_FILE_BYTES))
    try:
        for where in targets:
            before = table.history(1).first()["version"]
            opt = table.optimize() if where == "true" else table.optimize().where(where)
            if zorder and spec.zorder:
                with_retry(lambda opt=opt: opt.executeZOrderBy(*spec.zorder), what=f"optimize {fqn}")
            else:
                with_retry(opt.executeCompaction, what=f"optimize {fqn}")
            last = table.history(1).first()
            if last["version"] != before:
                removed += _metric(last, "numRemovedFiles")
                added += _metric(last, "numAddedFiles")
    finally:
        if previous is None:
            conf.unset("spark.databricks.delta.optimize.minFileSize")
        else:
            conf.set("spark.databricks.delta.optimize.minFileSize", previous)
    if vacuum:
        sql = f"VACUUM delta.`{lake.path(fqn)}` LITE RETAIN {int(retention_hours)} HOURS"
        try:
            with_retry(lambda: lake.spark.sql(sql).collect(), what=f"vacuum {fqn}")
        except CapturedException as exc:
            if not metastore.is_held(exc):
                raise
            # SQL on a path asks the metastore whether `delta` is a database; held by another
            # process, it cannot answer: the API's VACUUM (full: it lists the folder) needs no catalog
            log.warning("%s: metastore held by another process: full VACUUM by path instead of LITE", fqn)
            with_retry(lambda: table.vacuum(float(retention_hours)), what=f"vacuum {fqn}")
        vac = table.history(1).first()
        deleted = _metric(vac, "numDeletedFiles") if vac["operation"] == "VACUUM END" else 0
    log.info("%s: optimize removed %d added %d files; vacuum deleted %d", fqn, removed, added, deleted)
    return Maintained(fqn, removed, added, deleted)


def run(lake: Lake, layers: tuple[str, ...] = ("silver", "gold"), *, zorder: bool = False,
        retention_hours: int = DEFAULT_RETENTION_HOURS, force: bool = False) -> dict[str, int]:
    """Every existing table of the layers; bronze is append-only and left as written."""
    done = [maintain(lake, s.fqn, zorder=zorder, retention_hours=retention_hours, force=force)
            for s in catalog.all_tables() if s.layer in layers and lake.exists(s.fqn)]
    pruned = prune_sharing_cache(lake, retention_hours)
    staging = stage_root(lake.cfg)
    stale = prune_stale(staging) if staging else 0
    return {"tables": len(done), "files_removed": sum(m.files_removed for m in done),
            "files_added": sum(m.files_added for m in done), "files_vacuumed": sum(m.vacuumed for m in done),
            "sharing_cache_files_pruned": pruned, "staging_folders_pruned": stale}


def prune_sharing_cache(lake: Lake, retention_hours: float = DEFAULT_RETENTION_HOURS) -> int:
    """Files the sharing server cached for versions older than the retention (a local lake only:
    the sharing server serves a lake on this file system)."""
    from smartmon.sharing.provider import STATE_DIR
    from smartmon.sharing.prune import prune

    if not is_local_uri(lake.cfg.lake):
        return 0
    stats = prune(local_dir(lake.cfg.lake) / STATE_DIR / "cache", retention_hours)
    return stats.files_removed


JOB = Job(
    name="maintenance",
    layer="maintenance",
    reads=(),
    writes=(),
    run=lambda ctx: run(ctx.lake),
    scope=WHOLE_TABLE,
    after_all=True,
    doc="OPTIMIZE of crowded partitions' small files and VACUUM of silver and gold; sharing cache and staging pruned",
)
