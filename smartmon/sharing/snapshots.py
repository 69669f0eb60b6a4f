"""Snapshots of lake tables read with delta-rs: version, metadata, schema and data files.

The sharing server never starts Spark: delta-rs reads the Delta log directly, which every table
of the lake allows (no deletion vectors, column mapping or type widening; a table that needs a
newer reader is refused, since the Parquet response format could not express it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyarrow as pa
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError

from smartmon.config import is_local_uri, local_dir
from smartmon.errors import ConfigError
from smartmon.sharing.errors import InvalidRequest, NotFound, SharingError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceFile:
    """One data file of a snapshot, with its lake-relative path (the Delta log's path decoded)."""

    relpath: str
    size: int
    num_records: int | None
    partition_values: dict[str, str | None]


@dataclass(frozen=True)
class Snapshot:
    fqn: str
    root: Path
    version: int
    table_id: str
    description: str | None
    partition_columns: tuple[str, ...]
    configuration: dict[str, str]
    schema_json: str
    columns: tuple[str, ...]
    files: tuple[SourceFile, ...]


def local_lake_root(lake: str) -> Path:
    """The lake root as a local folder: file serving and the sharing state need one (a mounted S3 or HDFS works)."""
    if not is_local_uri(lake):
        raise ConfigError(f"sharing serves files from a local or mounted lake, and {lake} is remote: mount it and pass --lake /mount/point")
    root = local_dir(lake).resolve()
    if not root.is_dir():
        raise ConfigError(f"lake {root} does not exist: build it first (make demo) or pass --lake PATH")
    return root


def table_root(lake_root: Path, fqn: str) -> Path:
    layer, _, name = fqn.partition(".")
    return lake_root / layer / name


def partition_value(value: Any) -> str | None:
    """Serialise a typed partition value as the protocol writes it (Delta's partition value strings)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if value.tzinfo else value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _open(root: Path, fqn: str, version: int | None, timestamp: str | None) -> DeltaTable:
    if not DeltaTable.is_deltatable(str(root)):
        raise NotFound(f"{fqn} is shared but not built in this lake yet (no Delta table at {root})")
    try:
        dt = DeltaTable(str(root)) if version is None else DeltaTable(str(root), version=version)
        if timestamp is not None:
            dt.load_as_version(_parse_timestamp(timestamp))
    except (DeltaError, OSError, ValueError) as exc:
        if version is not None or timestamp is not None:
            raise InvalidRequest(f"{fqn}: cannot load version {version if version is not None else timestamp}: {exc}") from exc
        raise SharingError(f"{fqn}: cannot read the Delta log at {root}: {exc}") from exc
    return dt


def _parse_timestamp(text: str) -> datetime:
    """The protocol's `yyyy-[m]m-[d]d hh:mm:ss[.f...]`; a value without an offset is taken as UTC."""
    try:
        head, _, frac = text.strip().replace("T", " ").replace("Z", "").partition(".")
        d, t = head.split(" ")
        y, m, dd = (int(x) for x in d.split("-"))
        hh, mi, ss = (int(x) for x in t.split(":"))
        micro = int((frac + "000000")[:6]) if frac else 0
        return datetime(y, m, dd, hh, mi, ss, micro, tzinfo=UTC)
    except ValueError as exc:
        raise InvalidRequest(f"timestamp {text!r} is not 'yyyy-mm-dd hh:mm:ss[.fff]'") from exc


def open_snapshot(lake_root: Path, fqn: str, *, version: int | None = None, timestamp: str | None = None,
                  with_files: bool = True) -> Snapshot:
    """One version of a lake table (the latest unless `version` or `timestamp` is given)."""
    root = table_root(lake_root, fqn)
    dt = _open(root, fqn, version, timestamp)
    reader = dt.protocol().min_reader_version
    if reader > 1:
        raise SharingError(f"{fqn} needs Delta reader version {reader}; the Parquet response format serves reader version 1 only")
    meta = dt.metadata()
    schema_json = dt.schema().to_json()
    columns = tuple(f.name for f in dt.schema().fields)
    files: tuple[SourceFile, ...] = ()
    if with_files:
        files = _files(dt, fqn, tuple(meta.partition_columns))
    return Snapshot(fqn, root, dt.version(), meta.id, meta.description, tuple(meta.partition_columns),
                    dict(meta.configuration or {}), schema_json, columns, files)


def _files(dt: DeltaTable, fqn: str, partition_columns: tuple[str, ...]) -> tuple[SourceFile, ...]:
    actions = pa.table(dt.get_add_actions(flatten=False))
    paths = actions.column("path").to_pylist()
    sizes = actions.column("size_bytes").to_pylist()
    counts = actions.column("num_records").to_pylist() if "num_records" in actions.column_names else [None] * len(paths)
    parts = actions.column("partition").to_pylist() if "partition" in actions.column_names else [{}] * len(paths)
    layer_table = fqn.replace(".", "/")
    out = []
    for path, size, n, pv in zip(paths, sizes, counts, parts, strict=True):
        if "://" in path or path.startswith("/"):
            raise SharingError(f"{fqn}: data file {path} lies outside the table folder (shallow clone?); cannot share it")
        values = {c: partition_value((pv or {}).get(c)) for c in partition_columns}
        out.append(SourceFile(f"{layer_table}/{unquote(path)}", int(size), None if n is None else int(n), values))
    return tuple(out)
