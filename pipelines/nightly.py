"""The nightly DAG: every job of the platform in dependency order, in one Spark session.

Tasks are added here as the jobs land; each is a thin call of a job's run().
"""

from __future__ import annotations

from datetime import date

from jobs.silver import stations
from pipelines.dag import RunContext, Task, TaskOutcome, run_dag
from smartmon.io import Lake
from smartmon.lineage import now_utc


def _stations(ctx: RunContext) -> dict[str, int]:
    return stations.run(ctx.lake)


TASKS: tuple[Task, ...] = (Task("silver.stations", _stations),)


def run_nightly(lake: Lake, run_date: date) -> list[TaskOutcome]:
    run_id = f"nightly-{run_date.isoformat()}-{now_utc():%Y%m%dT%H%M%S}"
    return run_dag(TASKS, RunContext(lake=lake, run_date=run_date, run_id=run_id))
