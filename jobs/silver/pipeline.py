"""Silver jobs conform the bronze batches they have not conformed yet.

A silver job declares the silver table it conforms (`conforms`); the bronze tables it reads
are those of the source adapters that feed that table (each adapter's FEEDS), found when the
graph is built, so a new source needs no edit here. `silver.conformed_batches` records which
batch each job has conformed, so a failed night is completed by the next.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from jobs.bronze.adapter import feeding
from jobs.bronze.handoff import merge_arrow, read_arrow
from smartmon.catalog.names import (
    BRONZE_INGEST_BATCHES,
    BRONZE_QUARANTINE,
    SILVER_CONFORMED_BATCHES,
)
from smartmon.io import Lake
from smartmon.jobspec import NEW_BATCHES, Job, RunContext
from smartmon.lineage import now_utc

log = logging.getLogger(__name__)

Conformer = Callable[[Lake, dict[str, list[str]] | None], dict[str, int]]


def pending_batches(lake: Lake, job: str, adapters: tuple[str, ...]) -> dict[str, list[str]]:
    """adapter -> ids of its ingested batches that `job` has not conformed yet (both bookkeeping
    tables read by delta-rs on a local lake: every silver job asks this every night)."""
    done = read_arrow(lake, SILVER_CONFORMED_BATCHES, ["batch_id"], where={"job": [job]})["batch_id"]
    batches = read_arrow(lake, BRONZE_INGEST_BATCHES, ["source", "batch_id"], where={"source": adapters, "status": ["ingested"]})
    todo = batches.filter(pc.invert(pc.is_in(batches["batch_id"], value_set=done.combine_chunks()))).group_by(["source", "batch_id"]).aggregate([])
    out: dict[str, list[str]] = {}
    for source, batch in zip(todo["source"].to_pylist(), todo["batch_id"].to_pylist(), strict=True):
        out.setdefault(source, []).append(batch)
    return out


def conform(lake: Lake, job: str, table: str, run: Conformer) -> dict[str, int]:
    """Run a conformer on the batches of `table`'s feeding adapters that `job` has not conformed."""
    adapters = tuple(a.NAME for a in feeding(table))
    todo = pending_batches(lake, job, adapters) if adapters else {}
    if not todo:
        log.info("%s: no new bronze batches", job)
        return {"rows_in": 0}
    summary = run(lake, todo)
    at = now_utc()
    rows = [{"job": job, "batch_id": b, "conformed_at": at} for ids in todo.values() for b in ids]
    merge_arrow(lake, pa.Table.from_pylist(rows), SILVER_CONFORMED_BATCHES)
    summary["batches"] = len(rows)
    return summary


def silver_job(table: str, run: Conformer, *, reads: tuple[str, ...] = (), writes: tuple[str, ...] | None = None,
               name: str | None = None, transform: Callable[..., object] | None = None, doc: str = "",
               records: tuple[str, ...] = ()) -> Job:
    """The declaration of a job that conforms the new batches of `table`'s feeds with `run`.

    The job is named after the table unless said; it writes the table (or `writes`); `reads`
    are the tables it reads besides its feeds' bronze tables, which the graph adds."""
    job_name = name or table

    def runner(ctx: RunContext) -> dict[str, int]:
        return conform(ctx.lake, job_name, table, run)

    return Job(
        name=job_name,
        layer="silver",
        reads=reads,
        writes=writes or (table,),
        run=runner,
        scope=NEW_BATCHES,
        records=(BRONZE_INGEST_BATCHES, SILVER_CONFORMED_BATCHES, BRONZE_QUARANTINE, *records),
        transform=transform,
        extra={"conforms": table},
        doc=doc,
    )
