"""The ingest ledger: every batch's manifest chained by SHA-256.

`sync` appends an entry for every batch in bronze.ingest_batches not yet in the ledger (the
ingest runner calls it after each batch). `verify` recomputes the chain and checks it against
the manifests, the landing files and the bronze tables, naming everything that differs. The
head hash it prints can be published or stored elsewhere: with it, even removing the latest
entries is detected.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from pyspark.sql import functions as F

from smartmon.catalog.names import BRONZE_INGEST_BATCHES, BRONZE_INGEST_LEDGER
from smartmon.io import Lake
from smartmon.lineage import now_utc, sha256_file

log = logging.getLogger(__name__)
GENESIS = "0" * 64
LEDGER_TXN = "smartmon-ingest-ledger"  # Delta app id of the ledger's appends (version: the last seq)
MANIFEST_FIELDS = ("source_file", "file_sha256", "file_size", "records_read", "records_accepted",
                   "records_quarantined", "bronze_table", "delta_versions", "status")


def entry_hash(prev_hash: str, manifest: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{manifest}".encode()).hexdigest()


def _manifests(lake: Lake) -> dict[str, tuple[str, str, object]]:
    """batch_id -> (source, canonical manifest JSON, first ingested_at) from bronze.ingest_batches."""
    from jobs.bronze.handoff import read_arrow

    rows = read_arrow(lake, BRONZE_INGEST_BATCHES, ["batch_id", "source", "ingested_at", *MANIFEST_FIELDS]).to_pylist()
    by_batch: dict[str, list[dict]] = {}
    for r in rows:
        by_batch.setdefault(r["batch_id"], []).append(r)
    out = {}
    for batch, rs in by_batch.items():
        files = sorted(({k: r[k] for k in MANIFEST_FIELDS} for r in rs), key=lambda f: (f["source_file"], f["file_sha256"]))
        doc = {"batch_id": batch, "source": rs[0]["source"], "files": files}
        out[batch] = (rs[0]["source"], json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str),
                      min(r["ingested_at"] for r in rs))
    return out


def sync(lake: Lake) -> int:
    """Chain the batches not yet in the ledger (oldest first); returns entries added. The last
    seq is the append's idempotent transaction: a sync that lost a race to another appends nothing."""
    from jobs.bronze.handoff import append_arrow, read_arrow

    ledger = sorted(read_arrow(lake, BRONZE_INGEST_LEDGER, ["seq", "batch_id", "entry_hash"]).to_pylist(), key=lambda r: r["seq"])
    have = {r["batch_id"] for r in ledger}
    todo = sorted(((b, m) for b, m in _manifests(lake).items() if b not in have), key=lambda x: (x[1][2], x[0]))
    if not todo:
        return 0
    seq, prev = (ledger[-1]["seq"], ledger[-1]["entry_hash"]) if ledger else (0, GENESIS)
    rows, at = [], now_utc()
    for batch, (source, manifest, _) in todo:
        seq += 1
        h = entry_hash(prev, manifest)
        rows.append({"seq": seq, "batch_id": batch, "source": source, "manifest": manifest, "prev_hash": prev,
                     "entry_hash": h, "recorded_at": at})
        prev = h
    append_arrow(lake, pa.Table.from_pylist(rows), BRONZE_INGEST_LEDGER, txn=(LEDGER_TXN, seq))
    log.info("ledger: %d entries added, head %s at seq %d", len(rows), prev[:16], seq)
    return len(rows)


@dataclass
class Verification:
    entries: int = 0
    files: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(lake: Lake, check_files: bool = True, check_bronze: bool = True) -> Verification:
    v = Verification()
    ledger = lake.read(BRONZE_INGEST_LEDGER).orderBy("seq").collect()
    manifests = _manifests(lake)
    prev = GENESIS
    for i, e in enumerate(ledger, start=1):
        v.entries += 1
        if e.seq != i:
            v.problems.append(f"ledger entry {i} is missing (found seq {e.seq} next): an entry was removed")
        if e.prev_hash != prev:
            v.problems.append(f"ledger entry {e.seq} ({e.batch_id}): prev_hash does not match entry {e.seq - 1}: the chain was altered")
        if entry_hash(e.prev_hash, e.manifest) != e.entry_hash:
            v.problems.append(f"ledger entry {e.seq} ({e.batch_id}): manifest altered (hash mismatch)")
        prev = e.entry_hash
        current = manifests.get(e.batch_id)
        if current is None:
            v.problems.append(f"batch {e.batch_id}: in the ledger (entry {e.seq}) but its manifest rows are gone from bronze.ingest_batches")
        elif current[1] != e.manifest:
            v.problems.append(f"batch {e.batch_id}: bronze.ingest_batches differs from ledger entry {e.seq}")
        doc = json.loads(e.manifest)
        for f in doc["files"]:
            if not check_files or f["status"] != "ingested":
                continue
            v.files += 1
            path = Path(f["source_file"])
            if not path.exists():
                v.problems.append(f"{path}: landing file removed (ledger entry {e.seq})")
            elif path.stat().st_size != f["file_size"] or sha256_file(path) != f["file_sha256"]:
                v.problems.append(f"{path}: landing file changed since ingest (SHA-256 differs from ledger entry {e.seq})")
    v.head = prev
    chained = {e.batch_id for e in ledger}
    for batch in sorted(set(manifests) - chained):
        v.problems.append(f"batch {batch}: in bronze.ingest_batches but not in the ledger (run `smartmon ledger sync`)")
    if check_bronze:
        v.problems += _bronze_counts(lake, ledger)
    return v


def _bronze_counts(lake: Lake, ledger: list) -> list[str]:
    """Rows per batch in each bronze table against the accepted counts the ledger recorded."""
    expected: dict[str, dict[str, int]] = {}
    for e in ledger:
        for f in json.loads(e.manifest)["files"]:
            if f["status"] == "ingested" and f["records_accepted"]:
                expected.setdefault(f["bronze_table"], {}).setdefault(e.batch_id, 0)
                expected[f["bronze_table"]][e.batch_id] += int(f["records_accepted"])
    problems = []
    for table, want in expected.items():
        have = {r.batch_id: int(r["count"]) for r in lake.read(table).where(F.col("batch_id").isin(list(want)))
                .groupBy("batch_id").count().collect()}
        for batch, n in want.items():
            if have.get(batch, 0) != n:
                problems.append(f"{table}: batch {batch} has {have.get(batch, 0):,} rows, the ledger recorded {n:,}")
    return problems
