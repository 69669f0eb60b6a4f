"""The source adapter contract and the registry of adapters.

A source adapter is a module (or any object) with the attributes of `SourceAdapter`: its name,
the source name users type, its bronze table, its folder in the data root, the silver tables
its rows are conformed into, and `matches`/`parse`. The registry finds every adapter module in
this package and in the plug-in modules (`SMARTMON_PLUGINS`), so a new source is one adapter
module plus its table declarations: ingest, the silver jobs, the plan, the CLI and the Airflow
DAG all read the registry.

An adapter that feeds silver.air_hourly also has `air_rows(bronze, lake)`: its bronze rows as
the wide rows of `jobs.silver.air_rows` (standard units, one column per value). An adapter that
reads files beside the ones it parses (EPA's uncertainty files) says so with `claims(path)`, so
they are not refused as unrecognised.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from jobs.bronze.base import Parsed
from smartmon.errors import GraphError, InputError
from smartmon.plugins import plugin_modules, plugin_names

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from smartmon.io import Lake


@runtime_checkable
class SourceAdapter(Protocol):
    """One format of one source, read into one bronze table."""

    NAME: str  # the adapter's name, in lineage (source column) and in the manifest
    SOURCE: str  # the source name users type; adapters of one delivery share it (kdd2018: air + meteorology)
    BRONZE: str  # its bronze table (smartmon.catalog.names)
    FOLDER: str  # its folder in the data root; "" when it arrives through the landing zone only
    FEEDS: tuple[str, ...]  # the silver tables whose jobs conform its batches

    def matches(self, path: Path) -> bool:
        """Whether a file found under a folder is this adapter's."""
        ...

    def parse(self, path: Path) -> Parsed:
        """Every record of the file: accepted rows, refused ones with line and reason."""
        ...


@runtime_checkable
class AirFeed(SourceAdapter, Protocol):
    """An adapter whose rows become silver.air_hourly rows."""

    def air_rows(self, bronze: DataFrame, lake: Lake) -> DataFrame:
        """The bronze rows as wide rows (jobs.silver.air_rows.wide or sparse_wide)."""
        ...


_NOT_ADAPTERS = {"adapter", "base", "handoff", "ingest", "hj212_receiver", "parse_tasks"}
_CACHE: dict[tuple[str, ...], dict[str, SourceAdapter]] = {}


def _candidates() -> list[object]:
    import jobs.bronze as package

    found: list[object] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name not in _NOT_ADAPTERS:
            found.append(importlib.import_module(f"{package.__name__}.{info.name}"))
    for module in plugin_modules():
        found.append(module)
        found += [v for k, v in vars(module).items() if k.isupper() and isinstance(v, SourceAdapter) and v is not module]
    return found


def adapters() -> dict[str, SourceAdapter]:
    """Adapter name -> adapter, built-in and plug-in, in name order; refuses two of one name."""
    key = plugin_names()
    if key not in _CACHE:
        out: dict[str, SourceAdapter] = {}
        for a in _candidates():
            if not isinstance(a, SourceAdapter):
                continue
            if a.NAME in out and out[a.NAME] is not a:
                raise GraphError(f"two source adapters are named {a.NAME!r}")
            out[a.NAME] = a
        _CACHE[key] = dict(sorted(out.items()))
    return _CACHE[key]


def sources() -> dict[str, tuple[str, ...]]:
    """Source names users type -> the adapters that read them."""
    out: dict[str, list[str]] = {}
    for a in adapters().values():
        out.setdefault(a.SOURCE, []).append(a.NAME)
    return {s: tuple(names) for s, names in sorted(out.items())}


def adapters_for(source: str) -> list[SourceAdapter]:
    known = sources()
    if source not in known:
        raise InputError(f"unknown source {source!r}; known: {', '.join(known)}")
    return [adapters()[n] for n in known[source]]


def feeding(table: str) -> list[SourceAdapter]:
    """The adapters whose batches the job writing `table` conforms."""
    return [a for a in adapters().values() if table in a.FEEDS]


def simulated() -> list[SourceAdapter]:
    """Adapters of the tiers and sources with no public data here: they arrive only through the
    landing zone (`smartmon simulate` writes them)."""
    return [a for a in adapters().values() if not a.FOLDER]


def names(items: Sequence[SourceAdapter]) -> list[str]:
    return [a.NAME for a in items]
