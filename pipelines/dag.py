"""A small DAG runner: tasks in dependency order in one Spark session, retries of transient
failures with backoff, and every attempt recorded in gold.pipeline_runs."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pyspark.sql import Row

from smartmon import catalog
from smartmon.catalog.names import GOLD_PIPELINE_RUNS
from smartmon.errors import SmartmonError, TransientError, map_jvm_error
from smartmon.jobspec import RunContext
from smartmon.lineage import now_utc

log = logging.getLogger(__name__)


TaskFn = Callable[[RunContext], dict[str, int]]


@dataclass(frozen=True)
class Task:
    name: str
    fn: TaskFn
    deps: tuple[str, ...] = ()
    retries: int = 2


@dataclass
class TaskOutcome:
    task: str
    status: str
    attempts: int
    seconds: float
    summary: dict[str, int] = field(default_factory=dict)
    error: str | None = None


def order(tasks: Sequence[Task]) -> list[Task]:
    """Topological order, stable in declaration order; refuses unknown deps and cycles."""
    by_name = {t.name: t for t in tasks}
    for t in tasks:
        unknown = [d for d in t.deps if d not in by_name]
        if unknown:
            raise SmartmonError(f"task {t.name} depends on unknown tasks {unknown}")
    done: list[Task] = []
    seen: set[str] = set()
    visiting: set[str] = set()

    def visit(t: Task) -> None:
        if t.name in seen:
            return
        if t.name in visiting:
            raise SmartmonError(f"dependency cycle through {t.name}")
        visiting.add(t.name)
        for d in t.deps:
            visit(by_name[d])
        visiting.discard(t.name)
        seen.add(t.name)
        done.append(t)

    for t in tasks:
        visit(t)
    return done


def _is_transient(exc: BaseException) -> bool:
    mapped = map_jvm_error(exc)
    if isinstance(mapped, TransientError):
        return True
    # A Ray worker lost mid-task surfaces as one of these.
    return type(exc).__name__ in {"RayActorError", "WorkerCrashedError", "NodeDiedError", "ObjectLostError"}


Progress = Callable[[str, int, int, "TaskOutcome | None"], None]


def run_dag(tasks: Sequence[Task], ctx: RunContext, *, base_delay: float = 1.0, progress: Progress | None = None) -> list[TaskOutcome]:
    """Run every task once its deps succeeded; a failed task skips its dependants. progress is
    called as each task starts (outcome None) and ends."""
    outcomes: dict[str, TaskOutcome] = {}
    records: list[Row] = []
    ordered = order(tasks)
    for index, task in enumerate(ordered, start=1):
        failed_deps = [d for d in task.deps if outcomes[d].status != "ok"]
        if failed_deps:
            outcomes[task.name] = TaskOutcome(task.name, "skipped", 0, 0.0, error=f"upstream failed: {failed_deps}")
            records.append(_record(ctx, task.name, 0, now_utc(), now_utc(), 0, 0, "skipped", outcomes[task.name].error))
            log.warning("%s skipped: upstream %s failed", task.name, failed_deps)
            if progress:
                progress(task.name, index, len(ordered), outcomes[task.name])
            continue
        if progress:
            progress(task.name, index, len(ordered), None)
        attempt = 0
        while True:
            attempt += 1
            started = now_utc()
            t0 = time.monotonic()
            n_writes = len(ctx.lake.writes)
            try:
                log.info("[%s] %s: start (attempt %d)", ctx.run_id, task.name, attempt)
                summary = task.fn(ctx) or {}
            except Exception as exc:  # noqa: BLE001 - recorded, then retried or reported
                first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:500]
                transient = _is_transient(exc)
                status = "retried" if transient and attempt <= task.retries else "failed"
                records.append(_record(ctx, task.name, attempt, started, now_utc(), 0, 0, status, f"{type(exc).__name__}: {first_line}"))
                if status == "retried":
                    delay = base_delay * 2 ** (attempt - 1)
                    log.warning("%s: transient failure (%s); retrying in %.1fs", task.name, first_line, delay)
                    time.sleep(delay)
                    continue
                log.error("%s failed: %s", task.name, first_line, exc_info=exc)
                outcomes[task.name] = TaskOutcome(task.name, "failed", attempt, time.monotonic() - t0, error=first_line)
                if progress:
                    progress(task.name, index, len(ordered), outcomes[task.name])
                break
            rows_out = sum(w.rows_written for w in ctx.lake.writes[n_writes:])
            rows_in = int(summary.get("rows_in", 0))
            records.append(_record(ctx, task.name, attempt, started, now_utc(), rows_in, rows_out, "ok", None))
            outcomes[task.name] = TaskOutcome(task.name, "ok", attempt, time.monotonic() - t0, summary)
            log.info("%s: ok in %.1fs %s", task.name, time.monotonic() - t0, summary)
            if progress:
                progress(task.name, index, len(ordered), outcomes[task.name])
            break
    if records:
        df = ctx.lake.spark.createDataFrame(records, catalog.get(GOLD_PIPELINE_RUNS).schema)
        ctx.lake.merge(df, GOLD_PIPELINE_RUNS)
    return [outcomes[t.name] for t in ordered]


def _record(ctx: RunContext, task: str, attempt: int, started, ended, rows_in: int, rows_out: int, status: str, error: str | None) -> Row:
    return Row(
        run_id=ctx.run_id,
        run_date=ctx.run_date,
        task=task,
        attempt=attempt,
        started_at=started,
        ended_at=ended,
        rows_in=rows_in,
        rows_out=rows_out,
        status=status,
        error=error,
    )
