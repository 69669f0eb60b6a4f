"""The standing scenarios (infra/scenarios/*.yaml) as a job of the night: each spec's period is
moved to end on the run date and run on Ray (experiments/standing_scenarios.py)."""

from __future__ import annotations

from experiments.scenario_inputs import READS
from smartmon.catalog.names import GOLD_SCENARIO_RESULTS
from smartmon.jobspec import Job, RunContext, day_window


def _run(ctx: RunContext) -> dict[str, int]:
    # Ray and the scenario code load only when the job runs, not when the graph is read.
    from experiments.standing_scenarios import run_standing

    return run_standing(ctx.lake, ctx.run_date)


JOB = Job(
    name="gold.scenarios",
    layer="scenarios",
    reads=READS,
    writes=(GOLD_SCENARIO_RESULTS,),
    run=_run,
    scope=day_window(3),
    doc="the standing carbon, water and control scenarios over the days ending on the run date",
)
