"""Ingest to silver: bronze adapters for every source, then each silver job on the bronze
batches it has not conformed yet."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import functions as F

from jobs.bronze.ingest import SOURCES, IngestReport, ingest
from jobs.silver import (
    air_hourly,
    county_stats,
    emission_sources,
    energy_use,
    hj212_values,
    hydrology,
    land_use,
    meteo_hourly,
    power_use,
    source_emissions,
    speciation,
    station_lists,
    water_obs,
)
from smartmon.catalog.names import (
    BRONZE_INGEST_BATCHES,
    SILVER_AIR_HOURLY,
    SILVER_CONFORMED_BATCHES,
    SILVER_COUNTY_STATS,
    SILVER_EMISSION_SOURCES,
    SILVER_ENERGY_USE,
    SILVER_HJ212_VALUES,
    SILVER_LAND_USE,
    SILVER_METEO_HOURLY,
    SILVER_POWER_USE,
    SILVER_RIVER_SECTIONS,
    SILVER_SECTION_FLOW,
    SILVER_SOURCE_EMISSIONS,
    SILVER_SPECIATION,
    SILVER_STATIONS,
    SILVER_WATER_OBS,
)
from smartmon.io import Lake
from smartmon.lineage import now_utc

log = logging.getLogger(__name__)

Run = Callable[[Lake, dict[str, list[str]] | None], dict[str, int]]


@dataclass(frozen=True)
class SilverJob:
    """A silver job: the bronze adapters whose batches it conforms, its run(), the table it writes
    (its name unless said) and the silver jobs it needs first."""

    adapters: tuple[str, ...]
    run: Run
    writes: str | None = None
    after: tuple[str, ...] = ()


# job name -> job, in an order that respects `after`
SILVER_JOBS: dict[str, SilverJob] = {
    "silver.station_lists": SilverJob(("station-lists",), station_lists.run, writes=SILVER_STATIONS),
    SILVER_AIR_HOURLY: SilverJob(("cnemc-archive", "uci-beijing", "kdd2018", "provincial-air", "county-air", "township-sensors"),
                                   air_hourly.run, after=("silver.station_lists",)),
    SILVER_METEO_HOURLY: SilverJob(("uci-beijing", "kdd2018-meo"), meteo_hourly.run),
    SILVER_WATER_OBS: SilverJob(("water-auto",), water_obs.run),
    SILVER_HJ212_VALUES: SilverJob(("hj212",), hj212_values.run),
    SILVER_SPECIATION: SilverJob(("epa-pmf",), speciation.run),
    SILVER_EMISSION_SOURCES: SilverJob(("enterprises",), emission_sources.run),
    SILVER_SOURCE_EMISSIONS: SilverJob(("hj212",), source_emissions.run, after=(SILVER_HJ212_VALUES, SILVER_EMISSION_SOURCES)),
    SILVER_POWER_USE: SilverJob(("power-use",), power_use.run),
    SILVER_ENERGY_USE: SilverJob(("energy-use",), energy_use.run),
    SILVER_RIVER_SECTIONS: SilverJob(("hydrology",), hydrology.run_sections),
    SILVER_SECTION_FLOW: SilverJob(("hydrology",), hydrology.run_flow),
    SILVER_LAND_USE: SilverJob(("land-use",), land_use.run),
    SILVER_COUNTY_STATS: SilverJob(("statistics",), county_stats.run),
}


def table_of(job: str) -> str:
    return SILVER_JOBS[job].writes or job


def ingest_sources(lake: Lake, sources: list[str] | None = None, paths: list[Path] | None = None) -> list[IngestReport]:
    """Bronze for the given sources (default all) from paths, the data root and the landing zone."""
    if lake.read(SILVER_STATIONS).limit(1).count() == 0:
        from jobs.silver import stations

        log.info("silver.stations is empty: building the station registry first")
        stations.run(lake)
    reports = []
    for source in sources or list(SOURCES):
        reports += ingest(lake, source, paths)
        landing = lake.cfg.landing_dir() / source
        if not paths and landing.is_dir():
            reports += ingest(lake, source, [landing])
    return reports


def pending_batches(lake: Lake, job: str, adapters: tuple[str, ...]) -> dict[str, list[str]]:
    batches = lake.read(BRONZE_INGEST_BATCHES).where(F.col("source").isin(*adapters)).where("status = 'ingested'")
    done = lake.read(SILVER_CONFORMED_BATCHES).where(F.col("job") == job).select("batch_id")
    todo = batches.select("source", "batch_id").distinct().join(done, "batch_id", "left_anti").collect()
    out: dict[str, list[str]] = {}
    for r in todo:
        out.setdefault(r.source, []).append(r.batch_id)
    return out


def conform(lake: Lake, job: str) -> dict[str, int]:
    adapters, run = SILVER_JOBS[job].adapters, SILVER_JOBS[job].run
    todo = pending_batches(lake, job, adapters)
    if not todo:
        log.info("%s: no new bronze batches", job)
        return {"rows_in": 0}
    summary = run(lake, todo)
    rows = [(job, b, now_utc()) for ids in todo.values() for b in ids]
    lake.merge(lake.spark.createDataFrame(rows, lake.ensure(SILVER_CONFORMED_BATCHES).schema), SILVER_CONFORMED_BATCHES)
    summary["batches"] = len(rows)
    return summary
