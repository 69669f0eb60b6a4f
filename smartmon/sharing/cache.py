"""Scoped snapshots: per area, the rows of each data file that lie in the area, as Parquet files.

A scoped recipient must not get the table's own files (they hold other areas' rows), so each
source file is filtered once per area into `<lake>/_sharing/cache/<table>/<area>/<id>.parquet`.
The result depends only on the source file (Delta data files are immutable), the area, the row
rule and, for rules that go through silver.stations, the stations table version; all four are
in the file id, so a new table version re-filters only its new files. A manifest per table
version (`v<version>[-s<stations version>].json`) lists the files to serve, so an unchanged
version is answered without touching Parquet at all.

Cached files outlive the versions they were made for; `smartmon.sharing.prune` (run by the
nightly's maintenance) removes what no current manifest serves once it is older than the lake's VACUUM retention, so a
recipient holding an older version's signed URLs is served for as long as time travel works.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from smartmon.sharing.areas import Area
from smartmon.sharing.errors import SharingError
from smartmon.sharing.scoping import RowRule, StationIndex, filter_rows
from smartmon.sharing.snapshots import Snapshot, SourceFile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServedFile:
    """A file handed to a recipient: lake-relative path, stable id, size, rows, partition values."""

    relpath: str
    id: str
    size: int
    rows: int | None
    partition_values: dict[str, str | None]


def original_files(snap: Snapshot) -> list[ServedFile]:
    """The table's own data files (national recipients: nothing to filter)."""
    return [ServedFile(f.relpath, hashlib.sha256(f.relpath.encode()).hexdigest()[:32], f.size, f.num_records,
                       f.partition_values) for f in snap.files]


@dataclass
class MaterialiseStats:
    files_written: int = 0
    files_reused: int = 0
    rows_in: int = 0
    rows_out: int = 0
    seconds: float = 0.0


class ScopedCache:
    def __init__(self, lake_root: Path, cache_dir: Path) -> None:
        self.lake_root = lake_root
        self.dir = cache_dir
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.last_stats = MaterialiseStats()

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def folder(self, fqn: str, area: Area) -> Path:
        return self.dir / fqn / area.key

    def files(self, snap: Snapshot, rule: RowRule, area: Area, stations: StationIndex | None) -> list[ServedFile]:
        """The scoped files of one table version for one area, materialised on first use."""
        folder = self.folder(snap.fqn, area)
        sv = f"-s{stations.version}" if rule.needs_stations and stations is not None else ""
        manifest = folder / f"v{snap.version}{sv}.json"
        with self._lock(str(manifest)):
            cached = self._read_manifest(manifest)
            if cached is not None:
                return cached
            t0 = time.perf_counter()
            stats = MaterialiseStats()
            out = [sf for f in snap.files if (sf := self._one(snap, f, rule, area, stations, folder, stats)) is not None]
            self._write_json(manifest, [asdict(f) for f in out])
            stats.seconds = time.perf_counter() - t0
            self.last_stats = stats
            log.info("materialised %s v%d for %s: %d file(s) filtered, %d reused, %d of %d row(s) kept, %.2f s",
                     snap.fqn, snap.version, area, stats.files_written, stats.files_reused, stats.rows_out, stats.rows_in, stats.seconds)
            return out

    def _one(self, snap: Snapshot, src: SourceFile, rule: RowRule, area: Area, stations: StationIndex | None,
             folder: Path, stats: MaterialiseStats) -> ServedFile | None:
        sv = stations.version if rule.needs_stations and stations is not None else -1
        fid = hashlib.sha256(f"{area.key}|{rule}|{src.relpath}|{sv}".encode()).hexdigest()[:32]
        target = folder / f"{fid}.parquet"
        if target.exists():
            rows = pq.read_metadata(target).num_rows
            stats.files_reused += 1
        else:
            table, added = self._read_source(snap, src, rule)
            kept = filter_rows(table, rule, area, stations).drop_columns(added)
            self._write_parquet(target, kept)
            rows = kept.num_rows
            stats.files_written += 1
            stats.rows_in += table.num_rows
        stats.rows_out += rows
        if rows == 0:
            return None  # kept on disk (so the next version does not re-filter it) but not served
        return ServedFile(target.relative_to(self.lake_root).as_posix(), fid, target.stat().st_size, rows, src.partition_values)

    def _read_source(self, snap: Snapshot, src: SourceFile, rule: RowRule) -> tuple[pa.Table, list[str]]:
        """A source file, with partition columns the rule reads added as constants (Delta keeps them
        out of the file); returns the table and the columns added, to drop again before writing."""
        path = self.lake_root / src.relpath
        try:
            table = pq.read_table(path)
        except (OSError, pa.ArrowInvalid) as exc:
            raise SharingError(f"{snap.fqn}: cannot read data file {path}: {exc} (vacuumed under a reader? query again)") from exc
        added = [c for c in rule.columns if c not in table.column_names and c in src.partition_values]
        for col in added:
            table = table.append_column(col, pa.array([src.partition_values[col]] * table.num_rows, pa.string()))
        return table, added

    @staticmethod
    def _read_manifest(path: Path) -> list[ServedFile] | None:
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except ValueError:
            log.warning("%s is damaged: materialising again", path)
            return None
        return [ServedFile(**e) for e in entries]

    @staticmethod
    def _write_json(path: Path, body: object) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(body, f)
        os.replace(tmp, path)

    @staticmethod
    def _write_parquet(path: Path, table: pa.Table) -> None:
        """Written beside and renamed into place: a reader never sees half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".parquet")
        os.close(fd)
        pq.write_table(table, tmp, compression="zstd", coerce_timestamps="us", allow_truncated_timestamps=True)
        os.replace(tmp, path)

