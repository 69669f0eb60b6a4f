"""The nightly: the job graph's jobs for one Beijing day, in order, in one Spark session.

What runs and in which order comes from the declarations (pipelines.definitions); this module
only turns the selected steps into runner tasks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from pipelines.dag import Progress, Task, TaskOutcome, run_dag
from pipelines.definitions import Step, graph
from smartmon.io import Lake
from smartmon.jobspec import RunContext
from smartmon.lineage import now_utc


def tasks(steps: Sequence[Step]) -> list[Task]:
    return [Task(s.job.name, s.job.run, s.after, s.job.retries) for s in steps]


def run_nightly(lake: Lake, run_date: date, *, only: Iterable[str] = (), start: str | None = None,
                progress: Progress | None = None) -> list[TaskOutcome]:
    """Run the night's jobs (all, the `only` ones, or `start` and its downstream) for run_date."""
    steps = graph().select(only, start)
    run_id = f"nightly-{run_date.isoformat()}-{now_utc():%Y%m%dT%H%M%S}"
    return run_dag(tasks(steps), RunContext(lake=lake, run_date=run_date, run_id=run_id), progress=progress)
