"""The nightly DAG: every job of the platform in dependency order, in one Spark session.

Tasks are added here as the jobs land; each is a thin call of a job's run().
"""

from __future__ import annotations

from datetime import date

from features import air_forecast
from jobs import maintenance
from jobs.gold import (
    aggregates,
    air_moving,
    aqi_daily,
    aqi_hourly,
    evaluation,
    forecasts,
    water_class,
)
from jobs.qc import flags as qc_flags
from jobs.silver import stations
from jobs.silver.pipeline import SILVER_JOBS, conform, ingest_sources
from pipelines.dag import RunContext, Task, TaskOutcome, run_dag
from smartmon.catalog.names import (
    FEATURES_AIR_FORECAST,
    GOLD_AIR_MOVING,
    GOLD_AQI_DAILY,
    GOLD_AQI_HOURLY,
    GOLD_FORECASTS,
    GOLD_WATER_CLASS,
    SILVER_AIR_HOURLY,
    SILVER_METEO_HOURLY,
    SILVER_QC_FLAGS,
    SILVER_STATIONS,
    SILVER_WATER_OBS,
)
from smartmon.io import Lake
from smartmon.lineage import now_utc


def _stations(ctx: RunContext) -> dict[str, int]:
    return stations.run(ctx.lake)


def _ingest(ctx: RunContext) -> dict[str, int]:
    reports = ingest_sources(ctx.lake)
    for r in reports:
        print("  ingest", r.line())
    lost = sum(r.lost for r in reports)
    if lost:
        raise RuntimeError(f"reconciliation: {lost} records neither in bronze nor in quarantine")
    return {"rows_in": sum(r.total("read") for r in reports), "files_new": sum(f.status == "ingested" for r in reports for f in r.files)}


def _silver(job: str):
    def task(ctx: RunContext) -> dict[str, int]:
        return conform(ctx.lake, job)

    task.__name__ = f"conform_{job.split('.')[1]}"
    return task


def _scenarios(ctx: RunContext) -> dict[str, int]:
    from experiments.standing_scenarios import run_standing

    return run_standing(ctx.lake, ctx.run_date)


def _reports(ctx: RunContext) -> dict[str, int]:
    from pipelines import nightly_reports

    return nightly_reports.run(ctx.lake.cfg.lake, ctx.run_date)


TASKS: tuple[Task, ...] = (
    Task(SILVER_STATIONS, _stations),
    Task("bronze.ingest", _ingest, (SILVER_STATIONS,)),
    *(Task(name, _silver(name), ("bronze.ingest", *job.after)) for name, job in SILVER_JOBS.items()),
    Task(SILVER_QC_FLAGS, lambda ctx: qc_flags.run(ctx.lake), tuple(SILVER_JOBS)),
    Task(GOLD_AQI_HOURLY, lambda ctx: aqi_hourly.run(ctx.lake), (SILVER_AIR_HOURLY, SILVER_QC_FLAGS)),
    Task(GOLD_AIR_MOVING, lambda ctx: air_moving.run(ctx.lake), (SILVER_AIR_HOURLY, SILVER_QC_FLAGS)),
    Task(GOLD_AQI_DAILY, lambda ctx: aqi_daily.run(ctx.lake), (GOLD_AIR_MOVING,)),
    Task("gold.eval", lambda ctx: evaluation.run(ctx.lake), (GOLD_AQI_DAILY,)),
    Task("gold.aggregates", lambda ctx: aggregates.run(ctx.lake), (GOLD_AQI_DAILY,)),
    Task(GOLD_WATER_CLASS, lambda ctx: water_class.run(ctx.lake), (SILVER_WATER_OBS, SILVER_QC_FLAGS)),
    Task(FEATURES_AIR_FORECAST, lambda ctx: air_forecast.run(ctx.lake), (SILVER_AIR_HOURLY, SILVER_METEO_HOURLY, SILVER_QC_FLAGS)),
    # the champions' forecasts for the latest issue; skips a target that has no champion yet (`smartmon train`)
    Task(GOLD_FORECASTS, lambda ctx: forecasts.run(ctx.lake), (FEATURES_AIR_FORECAST,)),
    # the standing scenarios (infra/scenarios/) over the days ending on the run date
    Task("gold.scenarios", _scenarios, tuple(SILVER_JOBS) + (SILVER_QC_FLAGS,)),
    # consultation reports of the configured areas (pipelines/nightly_reports.py), read with delta-rs
    Task("reports", _reports, (GOLD_AQI_DAILY, "gold.eval", "gold.aggregates", GOLD_WATER_CLASS, GOLD_FORECASTS,
                               "gold.scenarios", SILVER_QC_FLAGS)),
    Task("maintenance", lambda ctx: maintenance.run(ctx.lake),
         (GOLD_AQI_HOURLY, "gold.eval", "gold.aggregates", GOLD_WATER_CLASS, GOLD_FORECASTS, "gold.scenarios", "reports")),
)


def run_nightly(lake: Lake, run_date: date) -> list[TaskOutcome]:
    run_id = f"nightly-{run_date.isoformat()}-{now_utc():%Y%m%dT%H%M%S}"
    return run_dag(TASKS, RunContext(lake=lake, run_date=run_date, run_id=run_id))
