"""Pruning the sharing server's per-area cache (smartmon.sharing.cache) by the lake's retention.

Cached files outlive the table versions they were made for: without pruning the cache grows by
every version of every shared table for every scoped area. Pure file operations (no Delta
reader), so the nightly's maintenance can run it beside Spark.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_MANIFEST = re.compile(r"^v(\d+)(?:-s(\d+))?\.json$")


@dataclass
class PruneStats:
    manifests_removed: int = 0
    files_removed: int = 0
    bytes_removed: int = 0
    files_kept: int = 0


def prune(cache_dir: Path, retention_hours: float, now: float | None = None) -> PruneStats:
    """Delete cached manifests and Parquet files no longer served, once older than the retention.

    Per table and area the newest manifest (highest table version, then stations version) is
    always kept with every file it lists; older manifests go when older than the retention, and
    a file goes when no kept manifest lists it and it is older than the retention (files being
    written now, and zero-row files a next version would reuse, are young and stay). Half-written
    `.tmp-*` files older than an hour are leftovers of a killed server and go too."""
    now = time.time() if now is None else now
    cutoff = now - retention_hours * 3600
    stats = PruneStats()
    if not cache_dir.is_dir():
        return stats
    for area_dir in sorted(p for p in cache_dir.glob("*/*") if p.is_dir()):
        manifests = sorted(((int(m[1]), int(m[2] or -1)), p) for p in area_dir.glob("v*.json") if (m := _MANIFEST.match(p.name)))
        kept = []
        for i, (_, path) in enumerate(manifests):
            if i == len(manifests) - 1 or path.stat().st_mtime >= cutoff:
                kept.append(path)
            else:
                path.unlink(missing_ok=True)
                stats.manifests_removed += 1
        served = {Path(e["relpath"]).name for path in kept for e in _entries(path)}
        for f in area_dir.iterdir():
            if not f.is_file() or f.suffix == ".json" and _MANIFEST.match(f.name):
                continue
            st = f.stat()
            stale = f.name.startswith(".tmp-") and st.st_mtime < now - 3600
            if stale or (f.suffix == ".parquet" and f.name not in served and st.st_mtime < cutoff):
                f.unlink(missing_ok=True)
                stats.files_removed += 1
                stats.bytes_removed += st.st_size
            elif f.suffix == ".parquet":
                stats.files_kept += 1
    log.info("sharing cache %s: %d manifest(s) and %d file(s) (%d bytes) pruned, %d file(s) kept",
             cache_dir, stats.manifests_removed, stats.files_removed, stats.bytes_removed, stats.files_kept)
    return stats


def _entries(manifest: Path) -> list[dict]:
    try:
        return json.loads(manifest.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return []  # a damaged manifest is rebuilt on next use; its files then count as unlisted
