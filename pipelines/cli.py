"""The `smartmon` command. Each subcommand is a thin wrapper around a job or a pipeline."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta

from pipelines import (
    cli_devices,
    cli_gold,
    cli_ml,
    cli_qc,
    cli_report,
    cli_scenario,
    cli_share,
    cli_sim,
    cli_trace,
)
from pipelines.cli_common import open_lake, parse_date, run_nights
from smartmon.catalog.names import GOLD_PIPELINE_RUNS, SILVER_STATIONS
from smartmon.errors import SmartmonError

log = logging.getLogger("smartmon")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname).1s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    for noisy in ("py4j", "urllib3", "alembic", "matplotlib", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_quiet_py4j_retries)


def _quiet_py4j_retries(record: logging.LogRecord) -> bool:
    """py4j logs a full traceback through the root logger each time it reconnects to the JVM
    (it does after Ray starts in the same process) and then retries successfully: keep those
    INFO records out of the CLI's output; real failures still raise."""
    return not (record.levelno <= logging.INFO and "/py4j/" in record.pathname.replace("\\", "/"))


# ------------------------------------------------------------------------------ subcommands
def cmd_tables(args: argparse.Namespace) -> int:
    from pipelines.catalog_doc import catalog_markdown, catalog_text

    sys.stdout.write(catalog_markdown() if args.markdown else catalog_text() + "\n")
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    import pandas as pd
    from pyspark.errors import AnalysisException, ParseException

    from smartmon import metastore

    # pyspark logs every analysis error with the JVM's stack; the command prints its first line itself
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    lake = open_lake()
    named = metastore.register_all(lake.spark, lake.cfg)
    if named.named:
        log.info("named %d of the lake's %d tables in the metastore", named.named, named.present)
    started = time.monotonic()
    try:
        # through Arrow with Arrow-backed columns: integers with nulls stay integers
        frame = lake.spark.sql(args.query).limit(args.limit + 1).toArrow().to_pandas(types_mapper=pd.ArrowDtype)
    except (AnalysisException, ParseException) as exc:
        hint = "" if named.available else (" (another process holds this lake's embedded metastore, which admits one at a "
                                           "time: try again when it ends; docs/catalog.md shows readers that need no metastore)")
        print(f"smartmon sql: {str(exc).strip().splitlines()[0]}{hint}", file=sys.stderr)
        return 1
    more = len(frame) > args.limit
    frame = frame.head(args.limit)
    if args.csv:
        sys.stdout.write(frame.to_csv(index=False))
    elif not frame.empty or len(frame.columns):
        with pd.option_context("display.max_columns", None, "display.width", 200, "display.max_colwidth", 40):
            print(frame.to_string(index=False))
    shown = f"first {args.limit} rows (--limit)" if more else f"{len(frame)} row{'s' if len(frame) != 1 else ''}"
    print(f"-- {shown}, {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 0


def cmd_stations(args: argparse.Namespace) -> int:
    from jobs.silver import stations

    lake = open_lake()
    summary = stations.run(lake, force=args.force)
    print(f"{SILVER_STATIONS} at {lake.path(SILVER_STATIONS)}: {summary}")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jobs.bronze.adapter import adapters_for, sources
    from jobs.bronze.ingest import ingest, reconcile
    from pipelines.definitions import graph
    from smartmon.jobspec import RunContext

    if not args.all and not args.source:
        print("smartmon ingest: give a SOURCE or --all", file=sys.stderr)
        return 2
    known = sources()
    if args.source and args.source not in known:
        print(f"smartmon ingest: unknown source {args.source!r}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    lake = open_lake()
    chosen = list(known) if args.all else [args.source]
    reports = []
    for source in chosen:
        if args.paths:
            reports += ingest(lake, source, [Path(p) for p in args.paths])
        else:
            reports += ingest(lake, source)
            landing = lake.cfg.landing_dir() / source
            if landing.is_dir():
                reports += ingest(lake, source, [landing])
    print("bronze:")
    for r in reports:
        print("  " + r.line())
    refused = [f for r in reports for f in r.refused]
    for f in refused:
        print(f"  REFUSED {f.path}: no {args.source or 'source'} adapter recognises it (quarantined whole)", file=sys.stderr)
    if not args.bronze_only:
        print("silver:")
        fed = {t for s in chosen for a in adapters_for(s) for t in a.FEEDS}
        g = graph()
        todo = {s.job.name for s in g.steps if s.job.extra.get("conforms") in fed}
        todo |= {u for name in list(todo) for u in g.upstream(name) if g.jobs[u].layer == "silver"}
        ctx = RunContext(lake=lake, run_date=date.today(), run_id="ingest")
        for step in g.steps:
            if step.job.name in todo:
                print(f"  {step.job.name:24s} {step.job.run(ctx)}")
    print("reconciliation (from the tables: read = bronze + quarantine):")
    names = None if args.all else list(known[args.source])
    for source, read, bronze, quar, lost in reconcile(lake, names):
        print(f"  {source:16s} read={read:,} bronze={bronze:,} quarantine={quar:,} lost={lost}")
    return 0 if all(r.lost == 0 for r in reports) and not refused else 1


def cmd_hj212_receiver(args: argparse.Namespace) -> int:
    from jobs.bronze.hj212_receiver import run

    return run(args)


def cmd_nightly(args: argparse.Namespace) -> int:
    from pipelines.definitions import graph

    if args.only and args.start:
        raise SmartmonError("give --only JOB or --from JOB, not both")
    steps = graph().select(args.only or (), args.start)
    if args.to and not args.date:
        raise SmartmonError("a backfill is --date D1 --to D2")
    if args.plan:
        if args.json:
            from pipelines.definitions import plan_json

            print(plan_json(args.date, steps))
        else:
            print(graph().plan_text(args.date, steps))
        return 0
    if not args.date:
        raise SmartmonError("give --date D (or --date D1 --to D2 for a backfill)")
    return run_nights(_days(args.date, args.to) if args.to else [args.date], args.only or (), args.start)


def cmd_run(args: argparse.Namespace) -> int:
    return run_nights([args.date], args.job, None)


def _days(first: date, last: date) -> list[date]:
    if last < first:
        raise SmartmonError(f"--to {last} is before --date {first}")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def cmd_status(args: argparse.Namespace) -> int:
    from pyspark.sql import functions as F

    from pipelines.summary import STATUS_NO_RUN, run_verdict

    lake = open_lake()
    what = f"for {args.date}" if args.date else "yet"
    if not lake.exists(GOLD_PIPELINE_RUNS):
        print(f"no runs recorded {what}: run `smartmon nightly --date YYYY-MM-DD`")
        return STATUS_NO_RUN
    runs = lake.read(GOLD_PIPELINE_RUNS)
    if args.date:
        runs = runs.where(F.col("run_date") == F.lit(args.date))
    rows = (
        runs.orderBy(F.col("started_at").desc())
        .limit(max(1, args.limit))
        .select("run_id", "task", "attempt", "status", "started_at", "ended_at", "rows_out", "error")
        .collect()
    )
    if not rows:
        print(f"no runs recorded {what}: run `smartmon nightly --date {args.date or 'YYYY-MM-DD'}`")
        return STATUS_NO_RUN
    latest = rows[0].run_id
    for r in rows:
        took = (r.ended_at - r.started_at).total_seconds() if r.ended_at and r.started_at else 0
        print(f"{r.run_id:40s} {r.task:26s} #{r.attempt} {r.status:8s} {took:6.1f}s rows_out={r.rows_out} {r.error or ''}")
    if args.date:
        # A night may run as one process or as one per job (Airflow, `nightly --only`): each
        # task's latest attempt of the day decides, whichever run it was in.
        from pyspark.sql import Window

        newest = Window.partitionBy("task").orderBy(F.col("started_at").desc(), F.col("attempt").desc())
        last = runs.withColumn("n", F.row_number().over(newest)).where("n = 1").select("task", "status").collect()
    else:
        last = runs.where(F.col("run_id") == latest).select("task", "status").collect()
    code = run_verdict(r.status for r in last)
    failed = sorted({r.task for r in last if r.status == "failed"})
    tasks = len({r.task for r in last})
    print(f"latest run {latest}: {tasks} task{'s' if tasks != 1 else ''}, "
          + (f"failed: {', '.join(failed)}" if failed else "none failed"))
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smartmon",
        description="smartmon: national environmental-monitoring lakehouse (Spark + Delta + H3, Ray, MLflow).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--profile", help="profile name or file (default: $SMARTMON_PROFILE or local)")
    parser.add_argument("--lake", help="lake root URI (overrides the profile and $SMARTMON_LAKE)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # the job and source names come from the declarations (pipelines.definitions, jobs.bronze.adapter)
    from jobs.bronze.adapter import sources
    from pipelines.definitions import graph

    jobs = list(graph().order)

    def add(name: str, fn: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--lake", dest="lake_sub", help="lake root URI (same as the global --lake)")
        p.set_defaults(fn=fn)
        return p

    p = add("tables", cmd_tables, "print the table catalog (every table, its columns, keys and properties)")
    p.add_argument("--markdown", action="store_true", help="print TABLES.md instead")
    p = add("sql", cmd_sql, "run a Spark SQL query on the lake's tables by name (bronze|silver|gold|features.<table>) "
            "and print the result")
    p.add_argument("query", help='e.g. "SELECT count(*) FROM gold.aqi_daily"')
    p.add_argument("--limit", type=int, default=50, help="print at most this many rows (default 50)")
    p.add_argument("--csv", action="store_true", help="print CSV instead of an aligned table")
    p = add("stations", cmd_stations, "build silver.stations (the national station registry) from the station lists")
    p.add_argument("--force", action="store_true", help="rebuild even if the lists have not changed")
    p = add("ingest", cmd_ingest, "ingest a source (or --all) into bronze, conform new batches into silver, reconcile")
    p.add_argument("source", nargs="?", help=" | ".join(sources()))
    p.add_argument("paths", nargs="*", help="files or folders (default: the source's folder in the data root)")
    p.add_argument("--all", action="store_true", help="every source, from the data root and the landing zone")
    p.add_argument("--bronze-only", action="store_true", help="stop after bronze")
    p = add("hj212-receiver", cmd_hj212_receiver, "receive HJ 212 frames over TCP into the landing zone: devices "
            "authenticated against the device registry, acknowledged once durable, published for bronze")
    from jobs.bronze.hj212_receiver import add_arguments as hj212_receiver_arguments

    hj212_receiver_arguments(p)
    p = add("nightly", cmd_nightly, "run the night's jobs for a date (all, --only some, or --from one on), a backfill "
            "(--date D1 --to D2), or print the plan (--plan)")
    p.add_argument("--date", type=parse_date, help="run date (Beijing day), YYYY-MM-DD; the first day of a backfill with --to")
    p.add_argument("--to", type=parse_date, help="last date of a backfill, inclusive")
    p.add_argument("--only", action="append", metavar="JOB", choices=jobs, help="run only this job (repeatable)")
    p.add_argument("--from", dest="start", metavar="JOB", choices=jobs, help="run this job and every job downstream of it")
    p.add_argument("--plan", action="store_true", help="print the jobs in order with what each reads, writes and touches; run nothing")
    p.add_argument("--json", action="store_true", help="with --plan: one JSON list of objects (name, reads, writes, after, ...)")
    p = add("run", cmd_run, "run one or more jobs of the graph for a date (the same as nightly --only)")
    p.add_argument("job", nargs="+", metavar="JOB", choices=jobs, help="job name, as `smartmon nightly --plan` lists them")
    p.add_argument("--date", type=parse_date, required=True, help="run date (Beijing day), YYYY-MM-DD")
    p = add("status", cmd_status, "show the last recorded pipeline task runs; exit 1 if the latest run has a failed "
            "task (with --date: if the latest attempt of any task of that day failed), 3 if there is none")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--date", type=parse_date, help="only runs for this run date (the latest of them decides the exit code)")
    cli_qc.add_commands(add)
    cli_gold.add_commands(add)
    cli_ml.add_commands(add)
    cli_trace.add_commands(add)
    cli_sim.add_commands(add)
    cli_scenario.add_commands(add)
    cli_share.add_commands(add)
    cli_report.add_commands(add)
    cli_devices.add_commands(add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "fn", None):
        parser.print_help()
        return 2
    _setup_logging(args.verbose)
    if args.profile:
        os.environ["SMARTMON_PROFILE"] = args.profile
    lake = getattr(args, "lake_sub", None) or args.lake
    if lake:
        os.environ["SMARTMON_LAKE"] = lake
    try:
        return args.fn(args)
    except SmartmonError as exc:
        print(f"smartmon: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
