"""The table registry: every table declared once, everything else derived from it.

A TableSpec gives layer, name, columns (with types and docs), natural keys, partitioning and
table properties. The I/O layer creates tables from it, `smartmon tables` prints it and
TABLES.md is generated from it for downstream readers.
"""

from __future__ import annotations

from smartmon.catalog.spec import _REGISTRY, LAYERS, LINEAGE, Col, TableSpec, register, spark_type
from smartmon.errors import TableError

__all__ = ["LAYERS", "LINEAGE", "Col", "TableSpec", "all_tables", "get", "register", "spark_type"]


def _load_all() -> None:
    # Importing the layer modules registers their tables.
    from smartmon.catalog import (  # noqa: F401
        bronze,
        bronze_feeds,
        features,
        gold,
        silver,
        silver_feeds,
    )


def get(fqn: str) -> TableSpec:
    _load_all()
    try:
        return _REGISTRY[fqn]
    except KeyError as exc:
        raise TableError(f"unknown table {fqn!r}; `smartmon tables` lists the catalog") from exc


def all_tables() -> list[TableSpec]:
    _load_all()
    order = {layer: i for i, layer in enumerate(LAYERS)}
    return sorted(_REGISTRY.values(), key=lambda s: (order[s.layer], s.name))
