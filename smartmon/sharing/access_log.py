"""The sharing access log: one JSON line per request under `<lake>/_sharing/access_log/`.

JSON lines, not a Delta table: a delta-rs append of one row costs tens of milliseconds and leaves
one Parquet file and one commit per request, while a client reading one table makes several
requests (metadata, query, then a HEAD and ranged GETs per file); a line append costs
microseconds and is durable as soon as it is written. The files are
one per UTC day (`YYYY-MM-DD.jsonl`), so old days can be archived or loaded into a table in bulk
(DuckDB, Spark and pyarrow read JSON lines directly); `read_log` gives them as Arrow.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

log = logging.getLogger(__name__)

FIELDS = ("time", "recipient", "method", "path", "table", "status", "rows", "files", "bytes", "ms", "client", "error")


class AccessLog:
    def __init__(self, directory: Path) -> None:
        self.dir = Path(directory)
        self._lock = threading.Lock()

    def _file(self, when: datetime) -> Path:
        return self.dir / f"{when:%Y-%m-%d}.jsonl"

    def append(self, **record: Any) -> None:
        """Append one request; a failure to log is reported but never fails the request."""
        now = datetime.now(UTC)
        row = {k: record.get(k) for k in FIELDS}
        row["time"] = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        line = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            with self._lock:
                self.dir.mkdir(parents=True, exist_ok=True)
                fd = os.open(self._file(now), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                try:
                    os.write(fd, line)  # one write of one line: O_APPEND keeps lines whole across processes
                finally:
                    os.close(fd)
        except OSError:
            log.exception("could not write the access log in %s", self.dir)

    def files(self) -> list[Path]:
        return sorted(self.dir.glob("*.jsonl")) if self.dir.is_dir() else []

    def records(self) -> Iterable[dict]:
        """Every record, oldest first."""
        for path in self.files():
            yield from self._read(path)

    @staticmethod
    def _read(path: Path) -> list[dict]:
        """One day's records; a torn last line (a crash mid-write) is skipped."""
        out = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    log.warning("%s: skipping a damaged line", path)
        return out

    def tail(self, limit: int, recipient: str | None = None) -> list[dict]:
        """The last `limit` records (of one recipient if given), oldest first; reads back from the newest day."""
        out: list[dict] = []
        if limit <= 0:
            return out
        for path in reversed(self.files()):
            day = [r for r in self._read(path) if recipient is None or r.get("recipient") == recipient]
            out = day[-(limit - len(out)):] + out
            if len(out) >= limit:
                break
        return out


def read_log(log_: AccessLog) -> pa.Table:
    """The whole log as an Arrow table (columns FIELDS), for analysis or loading into the lake."""
    rows = list(log_.records())
    return pa.Table.from_pylist([{k: r.get(k) for k in FIELDS} for r in rows],
                                schema=pa.schema([("time", pa.string()), ("recipient", pa.string()), ("method", pa.string()),
                                                  ("path", pa.string()), ("table", pa.string()), ("status", pa.int32()),
                                                  ("rows", pa.int64()), ("files", pa.int64()), ("bytes", pa.int64()),
                                                  ("ms", pa.float64()), ("client", pa.string()), ("error", pa.string())]))
