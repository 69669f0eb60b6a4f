"""`smartmon qc | audit | trace | ledger`: quality control, audit decisions and traceability."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from smartmon.catalog.names import GOLD_QC_SCREENING


def _lake():
    from pipelines.cli_common import open_lake as lake

    return lake()


def cmd_qc(args: argparse.Namespace) -> int:
    from pyspark.sql import functions as F

    from jobs.qc import flags
    from smartmon.changes import days_of_month

    lake = _lake()
    months = args.month or None
    summary = flags.run(lake, [d for m in months for d in days_of_month(m)] if months else None)
    print(f"QC ({summary.get('days', 0)} day(s) of air data checked): {summary}")
    print(f"{'table':20s} {'rule':16s} {'level':8s} flags")
    for table, rule, level, n in flags.summary_by_rule(lake, months):
        print(f"{table:20s} {rule:16s} {level:8s} {n:,}")
    top = lake.read(GOLD_QC_SCREENING).orderBy(F.desc("score"), "station_id", "day").limit(args.top).collect()
    if top:
        print(f"screening: the {len(top)} most suspicious station-days (gold.qc_screening)")
        for i, r in enumerate(top, 1):
            print(f"  #{i:<4d} {r.station_id:8s} {r.day} score {r.score:5.2f} ({r.reason})")
    return 0


def _decision(args: argparse.Namespace, verdict: str | None):
    from smartmon.qc.audit import Decision
    from smartmon.trace import parse_time

    return Decision(args.station, args.parameter, parse_time(args.start), parse_time(args.end), verdict, args.reason, args.auditor)


def cmd_audit(args: argparse.Namespace) -> int:
    from smartmon.qc import audit

    missing = [n for n in ("station", "start", "end", "reason", "auditor") if not getattr(args, n)]
    if args.action != "list" and missing:
        print(f"smartmon audit {args.action}: missing --{' --'.join(m.replace('start', 'from').replace('end', 'to') for m in missing)}")
        return 2
    lake = _lake()
    if args.action == "list":
        rows = audit.active_marks(lake, args.station).orderBy("station_id", "ts_from").collect()
        for r in rows:
            print(f"{r.station_id:8s} {r.parameter:5s} {r.ts_from}..{r.ts_to} UTC {r.verdict:7s} by {r.auditor}: {r.reason}")
        print(f"{len(rows)} active audit decision(s)")
        return 0
    if args.action == "mark":
        result = audit.mark(lake, _decision(args, args.verdict))
    else:
        result = audit.unmark(lake, _decision(args, None))
    print(f"audit {args.action} {args.station} {args.parameter}: {result}")
    return 0


def cmd_trace(args: argparse.Namespace) -> int:
    from smartmon.trace import trace

    print(trace(_lake(), args.table, args.keys).text())
    return 0


def cmd_ledger(args: argparse.Namespace) -> int:
    from smartmon import ledger

    lake = _lake()
    if args.action == "sync":
        print(f"ledger: {ledger.sync(lake)} entries added")
        return 0
    v = ledger.verify(lake, check_files=not args.skip_files, check_bronze=not args.skip_bronze)
    print(f"ledger: {v.entries} entries, {v.files} landing files checked, head {v.head}")
    for p in v.problems:
        print(f"  FAIL {p}")
    print("ledger verify: " + ("ok" if v.ok else f"{len(v.problems)} problem(s)"))
    return 0 if v.ok else 1


def add_commands(add: Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]) -> None:
    p = add("qc", cmd_qc, "run the QC rule book (silver.qc_flags) and the falsification screening (gold.qc_screening)")
    p.add_argument("--month", action="append", help="yyyy-MM to check (repeatable; default: the days whose data or rules changed)")
    p.add_argument("--top", type=int, default=10, help="screening rows to show")
    p = add("audit", cmd_audit, "record manual audit decisions: mark | unmark | list")
    p.add_argument("action", choices=("mark", "unmark", "list"))
    p.add_argument("--station", help="station_id, e.g. 1001A")
    p.add_argument("--parameter", default="*", help="pm25 | pm10 | so2 | no2 | co | o3 | * (default: all)")
    p.add_argument("--from", dest="start", help="first hour, ISO; Beijing time unless a zone is given")
    p.add_argument("--to", dest="end", help="last hour (inclusive), ISO; Beijing time unless a zone is given")
    p.add_argument("--verdict", choices=("invalid", "valid"), default="invalid", help="mark only (default invalid)")
    p.add_argument("--reason", help="why")
    p.add_argument("--auditor", help="who decides")
    p = add("trace", cmd_trace, "trace a value from gold or silver down to the landing file line or HJ 212 frame")
    p.add_argument("table", help="gold.aqi_hourly | silver.air_hourly | silver.water_obs | silver.hj212_values")
    p.add_argument("keys", nargs="+", help="STATION (or MN) TIME, time ISO in Beijing time unless a zone is given")
    p = add("ledger", cmd_ledger, "the tamper-evident ingest ledger: verify | sync")
    p.add_argument("action", choices=("verify", "sync"))
    p.add_argument("--skip-files", action="store_true", help="do not re-hash the landing files")
    p.add_argument("--skip-bronze", action="store_true", help="do not count bronze rows per batch")
