"""The bronze runner: new landing files of a source -> its bronze table, refused records ->
bronze.quarantine, one manifest row per file -> bronze.ingest_batches.

Only new files are read: a file whose SHA-256 was ingested before under the same path is
skipped; the same bytes under another path are a duplicate file and are quarantined (one
record naming both paths). Every file is reconciled: records read = accepted + quarantined.
"""

from __future__ import annotations

import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import functions as F

from jobs.bronze.adapter import SourceAdapter, adapters, adapters_for
from jobs.bronze.base import first_line
from jobs.bronze.handoff import append_arrow, merge_arrow, read_arrow
from jobs.bronze.parse_tasks import parse_on_executors, with_lineage
from smartmon import catalog, ledger
from smartmon.catalog.names import (
    BRONZE_INGEST_BATCHES,
    BRONZE_INGEST_LEDGER,
    BRONZE_QUARANTINE,
)
from smartmon.errors import InputError
from smartmon.io import Lake
from smartmon.jobspec import NEW_FILES, Job, RunContext
from smartmon.lineage import batch_id_for, now_utc, quarantine, sha256_file

log = logging.getLogger(__name__)

PARSE_THREADS = min(4, os.cpu_count() or 2)

@dataclass
class FileReport:
    path: str
    sha256: str
    status: str  # ingested | empty (no record) | skipped (seen) | duplicate (same bytes elsewhere) | refused (no adapter reads it)
    read: int = 0
    accepted: int = 0
    quarantined: int = 0


@dataclass
class IngestReport:
    source: str
    batch_id: str | None
    files: list[FileReport] = field(default_factory=list)

    def total(self, what: str) -> int:
        return sum(getattr(f, what) for f in self.files)

    @property
    def lost(self) -> int:
        return self.total("read") - self.total("accepted") - self.total("quarantined")

    @property
    def refused(self) -> list[FileReport]:
        """Files refused whole: none of the source's adapters reads them."""
        return [f for f in self.files if f.status == "refused"]

    def line(self) -> str:
        new = sum(f.status in ("ingested", "empty") for f in self.files)
        refused = sum(f.status == "refused" for f in self.files)
        empty = sum(f.status == "empty" for f in self.files)
        return (
            f"{self.source:14s} files new={new} skipped={sum(f.status == 'skipped' for f in self.files)} "
            + (f"REFUSED={refused} " if refused else "") + (f"empty={empty} " if empty else "")
            + f"duplicate={sum(f.status == 'duplicate' for f in self.files)}  read={self.total('read'):,} = "
            f"bronze {self.total('accepted'):,} + quarantine {self.total('quarantined'):,}  lost={self.lost}"
        )


def discover(folder: Path, adapter: SourceAdapter) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and adapter.matches(p))


def expand(paths: list[Path], adapter: SourceAdapter, data_root: Path) -> list[Path]:
    """The adapter's files under the given paths (files as given, folders searched), or in its
    folder of the data root when no path is given."""
    if not paths:
        if not adapter.FOLDER:  # a landing-zone-only source has no folder in the data root
            return []
        folder = data_root / adapter.FOLDER
        return discover(folder, adapter) if folder.is_dir() else []
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found += discover(p, adapter)
        elif p.exists():
            found.append(p)
        else:
            raise InputError("no such file or folder", file=str(p))
    return sorted(set(found))


@dataclass(frozen=True)
class KnownFile:
    """A file ingested before: its path, bytes' hash, size and when it was ingested."""

    path: str
    sha256: str
    size: int | None
    ingested_at: float  # seconds since the epoch


def _known_files(lake: Lake, source: str) -> tuple[dict[str, str], dict[str, KnownFile]]:
    """(sha -> path, path -> the latest ingest of that path) of the source's ingested files."""
    known = read_arrow(lake, BRONZE_INGEST_BATCHES, ["file_sha256", "source_file", "file_size", "ingested_at"],
                       where={"source": [source], "status": ["ingested", "empty"]})
    # ingested_at as seconds since the epoch (written in UTC), oldest first: the latest ingest of a path wins
    micros = pc.cast(pc.cast(known["ingested_at"], pa.timestamp("us", tz="UTC")), pa.int64())
    known = known.append_column("at_us", micros).sort_by("at_us")
    by_sha = dict(zip(known["file_sha256"].to_pylist(), known["source_file"].to_pylist(), strict=True))
    by_path = {path: KnownFile(path, sha, size, at / 1e6) for path, sha, size, at in
               zip(*(known[c].to_pylist() for c in ("source_file", "file_sha256", "file_size", "at_us")), strict=True)}
    return by_sha, by_path


def record_manifest(lake: Lake, manifest: list[tuple]) -> None:
    """The batch's manifest rows (in the table's column order) into bronze.ingest_batches, then
    the batch chained into the ledger."""
    names = catalog.get(BRONZE_INGEST_BATCHES).column_names
    merge_arrow(lake, pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in manifest]), BRONZE_INGEST_BATCHES)
    ledger.sync(lake)


def unchanged_since_ingest(path: Path, known: KnownFile | None) -> bool:
    """Whether a file is the one ingested under its path, told without reading it: same size and
    last modified before that ingest began. Hashing every file of the landing zone each night
    would cost what the landing zone holds, not what the night brings. A file rewritten in place
    gets a later modification time and is hashed and read again (tools that rewrite a file and
    set its time back, e.g. `cp -p` of other bytes, would slip through: deliveries are new files)."""
    if known is None or known.size is None:
        return False
    st = path.stat()
    return st.st_size == known.size and st.st_mtime < known.ingested_at


def ingest_adapter(lake: Lake, adapter: SourceAdapter, files: list[Path]) -> IngestReport:
    spark = lake.spark
    known, known_paths = _known_files(lake, adapter.NAME)
    seen_now: dict[str, str] = {}
    todo: list[tuple[Path, str]] = []
    reports: list[FileReport] = []
    dup_rows = []
    # arrival order: of two deliveries of one value in a batch, the later file's wins in silver
    for path in sorted(files, key=lambda p: (p.stat().st_mtime_ns, str(p))):
        before = known_paths.get(str(path))
        if unchanged_since_ingest(path, before):
            reports.append(FileReport(str(path), before.sha256, "skipped"))
            continue
        sha = sha256_file(path)
        earlier = known.get(sha) or seen_now.get(sha)
        if earlier == str(path):
            reports.append(FileReport(str(path), sha, "skipped"))
            continue
        if earlier:
            reason = f"duplicate file: same SHA-256 as {earlier}, already ingested"
            log.warning("%s: %s", path, reason)
            reports.append(FileReport(str(path), sha, "duplicate", read=1, quarantined=1))
            dup_rows.append((str(path), None, str(path), reason))
            continue
        seen_now[sha] = str(path)
        todo.append((path, sha))
    if not todo and not dup_rows:
        return IngestReport(adapter.NAME, None, reports)

    batch = batch_id_for(adapter.NAME, [sha for _, sha in todo] + [r[0] for r in dup_rows])
    ingested_at = now_utc()
    rejects = list(dup_rows)
    versions: dict[str, int] = {}

    def account(i: int, path: Path, sha: str, read: int, refused: list[tuple[int | None, str, str]]) -> None:
        rejects.extend((str(path), line, raw, reason) for line, raw, reason in refused)
        if not read:
            log.warning("%s: no record in the file (empty, or a header alone): recorded as empty", path)
        reports.append(FileReport(str(path), sha, "ingested" if read else "empty", read, read - len(refused), len(refused)))
        if refused:
            log.warning("%s:%s: %s (%d refused in this file)", path, refused[0][0], refused[0][2], len(refused))
        if i % 10 == 0 or i == len(todo):
            log.info("%s: parsed %d/%d files", adapter.NAME, i, len(todo))

    if todo and lake.cfg.parses_on_executors:
        lake.ensure(adapter.BRONZE)
        schema = spark.read.format("delta").load(lake.path(adapter.BRONZE)).schema
        with parse_on_executors(spark, adapter, schema, [str(p) for p, _ in todo], batch, ingested_at) as (rows, outcomes):
            for i, ((path, sha), done) in enumerate(zip(todo, outcomes, strict=True), start=1):
                account(i, path, sha, done.read, done.rejects)
            if any(r.accepted for r in reports):
                versions[adapter.BRONZE] = lake.append(rows, adapter.BRONZE, txn=(batch, 0)).version
    elif todo:
        tables = []
        # Arrow's CSV reader releases the GIL: files parse side by side on the driver's cores.
        with ThreadPoolExecutor(max_workers=PARSE_THREADS) as pool:
            results = pool.map(adapter.parse, [path for path, _ in todo])
            for i, ((path, sha), parsed) in enumerate(zip(todo, results, strict=True), start=1):
                tables.append(with_lineage(parsed.rows, adapter.NAME, str(path), batch, ingested_at))
                account(i, path, sha, parsed.records_read, parsed.rejects)
        tables = [t for t in tables if t.num_rows]
        if tables:
            data = pa.concat_tables(tables, promote_options="default")
            del tables
            versions[adapter.BRONZE] = append_arrow(lake, data, adapter.BRONZE, txn=(batch, 0)).version
    if rejects:
        q = spark.createDataFrame(rejects, "source_file string, source_line bigint, raw_payload string, reason string")
        q = q.withColumn("source", F.lit(adapter.NAME)).withColumn("batch_id", F.lit(batch)).withColumn("ingested_at", F.lit(ingested_at))
        versions[BRONZE_QUARANTINE] = quarantine(lake, q, stage=f"bronze:{adapter.NAME}").version
    manifest = [
        (batch, adapter.NAME, r.path, r.sha256, Path(r.path).stat().st_size, r.read, r.accepted, r.quarantined,
         adapter.BRONZE, json.dumps(versions, sort_keys=True), r.status, ingested_at, i)
        for i, r in enumerate(r for r in reports if r.status != "skipped")
    ]
    record_manifest(lake, manifest)
    report = IngestReport(adapter.NAME, batch, reports)
    log.info(report.line())
    return report


def ingest(lake: Lake, source: str, paths: list[Path] | None = None) -> list[IngestReport]:
    """Ingest a source from the given paths, or from its folder in the data root. A file under a
    path the user named that none of the source's adapters recognises is refused whole, into
    quarantine with the reason: every file a source is given is accounted for."""
    adapters = adapters_for(source)
    reports = [ingest_adapter(lake, a, expand(paths or [], a, lake.cfg.data_root)) for a in adapters]
    if paths:
        stray = unrecognised(paths, adapters)
        if stray:
            reports.append(refuse_files(lake, adapters[0], stray, f"no {source} adapter recognises this file "
                                        f"(by name or by its header); expected: {', '.join(a.NAME for a in adapters)}"))
    return reports


def unrecognised(paths: list[Path], adapters: list[SourceAdapter]) -> list[Path]:
    """Files under the given folders that no adapter matches or claims (an adapter's optional
    `claims(path)` names the files it reads beside those it parses, e.g. EPA's uncertainty files);
    files named one by one are the adapters' to refuse by their header."""
    out = []
    for p in paths:
        if p.is_dir():
            # hidden files and the receiver's open .part files are not deliveries
            out += [f for f in sorted(p.rglob("*")) if f.is_file() and not f.name.startswith(".") and f.suffix != ".part"
                    and not any(getattr(a, "claims", a.matches)(f) for a in adapters)]
    return out


def refuse_files(lake: Lake, adapter: SourceAdapter, files: list[Path], reason: str) -> IngestReport:
    """Each file into quarantine as one record (its first line as the payload) and the manifest
    with status refused, so the reconciliation counts it: read 1 = quarantined 1. A file refused
    before (same path, same bytes) is reported again but written once."""
    shas = [sha256_file(f) for f in files]
    refused = read_arrow(lake, BRONZE_INGEST_BATCHES, ["source_file", "file_sha256"],
                         where={"source": [adapter.NAME], "status": ["refused"]})
    seen = set(zip(refused["source_file"].to_pylist(), refused["file_sha256"].to_pylist(), strict=True))
    for f in files:
        log.error("%s: file refused: %s", f, reason)
    again = [FileReport(str(f), sha, "refused", 1, 0, 1) for f, sha in zip(files, shas, strict=True) if (str(f), sha) in seen]
    new = [(f, sha) for f, sha in zip(files, shas, strict=True) if (str(f), sha) not in seen]
    if not new:
        return IngestReport(adapter.NAME, None, again)
    files, shas = [f for f, _ in new], [s for _, s in new]
    batch = batch_id_for(adapter.NAME, ["refused", *shas])
    ingested_at = now_utc()
    rows = [(str(f), None, (first_line(f, "latin-1") or "")[:500], f"file refused: {reason}") for f in files]
    q = lake.spark.createDataFrame(rows, "source_file string, source_line bigint, raw_payload string, reason string")
    q = q.withColumn("source", F.lit(adapter.NAME)).withColumn("batch_id", F.lit(batch)).withColumn("ingested_at", F.lit(ingested_at))
    version = quarantine(lake, q, stage=f"bronze:{adapter.NAME}").version
    manifest = [(batch, adapter.NAME, str(f), sha, f.stat().st_size, 1, 0, 1, adapter.BRONZE,
                 json.dumps({BRONZE_QUARANTINE: version}), "refused", ingested_at, i)
                for i, (f, sha) in enumerate(zip(files, shas, strict=True))]
    record_manifest(lake, manifest)
    return IngestReport(adapter.NAME, batch, again + [FileReport(str(f), sha, "refused", 1, 0, 1) for f, sha in zip(files, shas, strict=True)])


def reconcile(lake: Lake, sources: list[str] | None = None) -> list[tuple[str, int, int, int, int]]:
    """(source, read, in bronze, in quarantine, lost) counted from the tables themselves: the
    manifest's records_read against bronze rows and quarantine rows per ingested file. Only the
    given sources when named (each source costs a few Spark jobs)."""
    batches = lake.read(BRONZE_INGEST_BATCHES).where("status <> 'skipped'")
    out = []
    for adapter in adapters().values():
        if sources is not None and adapter.NAME not in sources:
            continue
        mine = batches.where(F.col("source") == adapter.NAME)
        read = mine.agg(F.sum("records_read")).first()[0] or 0
        if not read:
            continue
        files = [r.source_file for r in mine.where("status = 'ingested'").select("source_file").collect()]
        bronze = lake.read(adapter.BRONZE).where(F.col("source_file").isin(files)).count() if files else 0
        quar = lake.read(BRONZE_QUARANTINE).where(F.col("source") == adapter.NAME).where(F.col("stage").startswith("bronze")).count()
        out.append((adapter.NAME, int(read), bronze, quar, int(read) - bronze - quar))
    return out


def ingest_job(adapter: SourceAdapter) -> Job:
    """The declaration of one adapter's bronze job: its new files in the data root and in the
    landing zone (<landing>/<source>/), into its bronze table."""

    def runner(ctx: RunContext) -> dict[str, int]:
        lake = ctx.lake
        reports = [ingest_adapter(lake, adapter, expand([], adapter, lake.cfg.data_root))]
        landing = lake.cfg.landing_dir() / adapter.SOURCE
        if landing.is_dir():
            reports.append(ingest_adapter(lake, adapter, expand([landing], adapter, lake.cfg.data_root)))
            stray = unrecognised([landing], adapters_for(adapter.SOURCE))
            if stray:  # quarantined whole and logged; the night goes on
                reports.append(refuse_files(lake, adapters_for(adapter.SOURCE)[0], stray,
                                            f"no {adapter.SOURCE} adapter recognises this file (by name or by its header)"))
        lost = sum(r.lost for r in reports)
        if lost:
            raise InputError(f"reconciliation of {adapter.NAME}: {lost} records neither in bronze nor in quarantine")
        return {"rows_in": sum(r.total("read") for r in reports),
                "files_new": sum(f.status == "ingested" for r in reports for f in r.files),
                "files_refused": sum(len(r.refused) for r in reports)}

    return Job(
        name=f"ingest.{adapter.NAME}",
        layer="bronze",
        reads=(),
        writes=(adapter.BRONZE,),
        run=runner,
        scope=NEW_FILES,
        transform=adapter.parse,
        records=(BRONZE_INGEST_BATCHES, BRONZE_QUARANTINE, BRONZE_INGEST_LEDGER),
        doc=f"{adapter.SOURCE}: new files of {adapter.FOLDER or 'the landing zone'} into {adapter.BRONZE}",
    )
