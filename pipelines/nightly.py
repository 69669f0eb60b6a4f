"""The nightly DAG: every job of the platform in dependency order, in one Spark session.

Tasks are added here as the jobs land; each is a thin call of a job's run().
"""

from __future__ import annotations

from datetime import date

from features import air_forecast
from jobs import maintenance
from jobs.gold import aggregates, air_moving, aqi_daily, aqi_hourly, evaluation, forecasts, water_class
from jobs.qc import flags as qc_flags
from jobs.silver import stations
from jobs.silver.pipeline import SILVER_JOBS, conform, ingest_sources
from pipelines.dag import RunContext, Task, TaskOutcome, run_dag
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
    Task("silver.stations", _stations),
    Task("bronze.ingest", _ingest, ("silver.stations",)),
    *(Task(name, _silver(name), ("bronze.ingest", *job.after)) for name, job in SILVER_JOBS.items()),
    Task("silver.qc_flags", lambda ctx: qc_flags.run(ctx.lake), tuple(SILVER_JOBS)),
    Task("gold.aqi_hourly", lambda ctx: aqi_hourly.run(ctx.lake), ("silver.air_hourly", "silver.qc_flags")),
    Task("gold.air_moving", lambda ctx: air_moving.run(ctx.lake), ("silver.air_hourly", "silver.qc_flags")),
    Task("gold.aqi_daily", lambda ctx: aqi_daily.run(ctx.lake), ("gold.air_moving",)),
    Task("gold.eval", lambda ctx: evaluation.run(ctx.lake), ("gold.aqi_daily",)),
    Task("gold.aggregates", lambda ctx: aggregates.run(ctx.lake), ("gold.aqi_daily",)),
    Task("gold.water_class", lambda ctx: water_class.run(ctx.lake), ("silver.water_obs", "silver.qc_flags")),
    Task("features.air_forecast", lambda ctx: air_forecast.run(ctx.lake), ("silver.air_hourly", "silver.meteo_hourly", "silver.qc_flags")),
    # the champions' forecasts for the latest issue; skips a target that has no champion yet (`smartmon train`)
    Task("gold.forecasts", lambda ctx: forecasts.run(ctx.lake), ("features.air_forecast",)),
    # the standing scenarios (infra/scenarios/) over the days ending on the run date
    Task("gold.scenarios", _scenarios, tuple(SILVER_JOBS) + ("silver.qc_flags",)),
    # consultation reports of the configured areas (pipelines/nightly_reports.py), read with delta-rs
    Task("reports", _reports, ("gold.aqi_daily", "gold.eval", "gold.aggregates", "gold.water_class", "gold.forecasts",
                               "gold.scenarios", "silver.qc_flags")),
    Task("maintenance", lambda ctx: maintenance.run(ctx.lake),
         ("gold.aqi_hourly", "gold.eval", "gold.aggregates", "gold.water_class", "gold.forecasts", "gold.scenarios", "reports")),
)


def run_nightly(lake: Lake, run_date: date) -> list[TaskOutcome]:
    run_id = f"nightly-{run_date.isoformat()}-{now_utc():%Y%m%dT%H%M%S}"
    return run_dag(TASKS, RunContext(lake=lake, run_date=run_date, run_id=run_id))
