"""Tables by name: every lake table is named in the session's metastore the first time the I/O
layer meets it, so a reader's `spark.table("gold.aqi_daily")`, `spark.sql("... FROM silver.air_hourly")`
and `smartmon sql` work beside the paths.

Jobs never find data by name (the lake's paths stay the one interface of the I/O layer and of
delta-rs, DuckDB and Polars readers); names are what people type. So the metastore is allowed to be
behind: the embedded one (Derby, shipped with pyspark, no server) admits one process at a time, and a
second process on the same lake (a `smartmon sql` while the nightly runs) cannot open it. Registration
then logs one warning and the job goes on; the names catch up the next time a process meets the
table (`smartmon sql` names every table of the lake before it runs a query). A deployment with a
shared metastore service sets `spark.hadoop.hive.metastore.uris` in its profile's spark_conf.

Every table is EXTERNAL at its lake path: dropping a name never deletes data. Names are
`<layer>.<table>` exactly as the catalog spells them (`smartmon tables`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from py4j.protocol import Py4JError
from pyspark.errors.exceptions.captured import CapturedException
from pyspark.sql import SparkSession

from smartmon import catalog
from smartmon.catalog.spec import LAYERS, TableSpec
from smartmon.config import Settings

log = logging.getLogger(__name__)

LAKE_MARKER = "LAKE"  # in the metastore folder: the lake its names point into
LAKE_CONF = "spark.smartmon.metastore.lake"  # set by smartmon.spark.base_conf
RETRY_AFTER_S = 300.0  # a held metastore is tried again after this long (a failed try costs seconds)


@dataclass
class _State:
    """What one Spark application knows of its metastore (one SHOW TABLES per layer, not one
    lookup per table)."""

    known: dict[str, set[str]] = field(default_factory=dict)
    failed_at: float | None = None  # monotonic time the metastore last could not be opened
    lake_checked: bool = False

    @property
    def unavailable(self) -> bool:
        return self.failed_at is not None and time.monotonic() - self.failed_at < RETRY_AFTER_S


_STATES: dict[str, _State] = {}


def _state(spark: SparkSession) -> _State:
    return _STATES.setdefault(spark.sparkContext.applicationId, _State())


def names_lake(spark: SparkSession) -> str | None:
    """The lake whose tables this session's metastore names (None: a session smartmon did not build)."""
    return spark.conf.get(LAKE_CONF, None)


def _follow_moved_lake(spark: SparkSession, cfg: Settings) -> None:
    """A lake copied or moved with its metastore inside keeps names pointing at the old paths: the
    marker tells, and those names are dropped (EXTERNAL: the data stays) to be named again here."""
    marker = cfg.metastore_dir / LAKE_MARKER
    before = marker.read_text().strip() if marker.exists() else None
    if before == cfg.lake:
        return
    if before is not None:
        dropped = 0
        for layer in LAYERS:
            if not spark.catalog.databaseExists(layer):
                continue
            for row in spark.sql(f"SHOW TABLES IN `{layer}`").collect():
                spark.sql(f"DROP TABLE IF EXISTS `{layer}`.`{row.tableName}`")
                dropped += 1
        log.warning("metastore %s named the tables of %s; the lake is now %s: %d names dropped, named again as met",
                    cfg.metastore_dir, before, cfg.lake, dropped)
    Path(marker).parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(cfg.lake + "\n")


def register(spark: SparkSession, cfg: Settings, spec: TableSpec) -> bool:
    """Name spec's table `<layer>.<name>` at its lake path; True when it was not named before.

    Only the lake the session was built for is named (a process that opens a second lake, as some
    tests do, must not point the names elsewhere). A metastore that cannot be opened is reported
    and not tried again for RETRY_AFTER_S; see the module's doc.
    """
    if names_lake(spark) != cfg.lake:
        return False
    state = _state(spark)
    if state.unavailable:
        return False
    try:
        if not state.lake_checked:
            _follow_moved_lake(spark, cfg)
            state.lake_checked = True
        known = state.known.get(spec.layer)
        if known is None:
            if not spark.catalog.databaseExists(spec.layer):  # (IF NOT EXISTS alone makes the metastore log an error)
                spark.sql(f"CREATE DATABASE IF NOT EXISTS `{spec.layer}` COMMENT 'smartmon {spec.layer} layer'")
            known = state.known[spec.layer] = {r.tableName for r in spark.sql(f"SHOW TABLES IN `{spec.layer}`").collect()}
        if spec.name in known:
            return False
        path = cfg.table_path(spec.layer, spec.name).replace("'", "\\'")
        spark.sql(f"CREATE TABLE IF NOT EXISTS `{spec.layer}`.`{spec.name}` USING DELTA LOCATION '{path}'")
        known.add(spec.name)
        log.debug("named %s at %s", spec.fqn, path)
        return True
    except (CapturedException, Py4JError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, CapturedException) and not is_held(exc):
            log.warning("tables by name: %s not named: %s", spec.fqn, first[:300])
            return False
        state.failed_at = time.monotonic()
        log.warning("tables by name: the metastore at %s cannot be used (%s; another process may hold the embedded "
                    "metastore of this lake); tables are written by path as always and named by the next process "
                    "that meets them", cfg.metastore_dir, first[:300])
        return False


def is_held(exc: BaseException) -> bool:
    """Whether a failed statement failed for want of the metastore: then even SQL on a path
    (delta.`<path>`) fails, for the analyser asks the metastore whether `delta` is a database."""
    return "HiveMetaStoreClient" in str(exc) or "XSDB6" in str(exc)


@dataclass(frozen=True)
class Registered:
    """What register_all did: tables newly named, tables present in the lake, and whether the
    metastore could be used at all."""

    named: int
    present: int
    available: bool


def register_all(spark: SparkSession, cfg: Settings) -> Registered:
    """Name every table of the catalog present in the lake (a lake built before names, or by
    processes that could not open the metastore)."""
    from delta.tables import DeltaTable

    named = present = 0
    for spec in catalog.all_tables():
        if not DeltaTable.isDeltaTable(spark, cfg.table_path(spec.layer, spec.name)):
            continue
        present += 1
        named += register(spark, cfg, spec)
    return Registered(named, present, not _state(spark).unavailable)
