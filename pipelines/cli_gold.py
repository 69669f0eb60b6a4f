"""`smartmon gold | ranking | agreement | maintenance`: gold products and table upkeep."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from smartmon.catalog.names import (
    GOLD_AIR_MOVING,
    GOLD_AQI_DAILY,
    GOLD_AQI_HOURLY,
    GOLD_EVAL_ANNUAL,
    GOLD_EVAL_MONTHLY,
    GOLD_MOVING_AGREEMENT,
    GOLD_WATER_CLASS,
)


def _lake():
    from pipelines.cli_common import open_lake as lake

    return lake()


def cmd_gold(args: argparse.Namespace) -> int:
    from jobs.gold import (
        aggregates,
        air_moving,
        aqi_daily,
        aqi_hourly,
        evaluation,
        water_class,
    )
    from smartmon.changes import days_of_month

    lake = _lake()
    days = [d for m in args.month for d in days_of_month(m)] if args.month else None
    steps = [
        (GOLD_AQI_HOURLY, lambda: aqi_hourly.run(lake, args.rule_set, days)),
        (GOLD_AIR_MOVING, lambda: air_moving.run(lake, days)),
        (GOLD_AQI_DAILY, lambda: aqi_daily.run(lake, days, args.rule_set)),
    ]
    if args.rule_set is None:  # evaluations and aggregates follow the rules of each date
        steps += [("gold.eval", lambda: evaluation.run(lake, days)), ("gold.aggregates", lambda: aggregates.run(lake, days)),
                  (GOLD_WATER_CLASS, lambda: water_class.run(lake))]
    for name, step in steps:
        print(f"{name:18s} {step()}")
    return 0


def cmd_ranking(args: argparse.Namespace) -> int:
    from pyspark.sql import functions as F

    lake = _lake()
    table = GOLD_EVAL_ANNUAL if len(args.period) == 4 else GOLD_EVAL_MONTHLY
    rows = lake.read(table).where((F.col("scope") == args.scope) & (F.col("period") == args.period) & F.col("rank").isNotNull())
    ranked = rows.orderBy("rank").collect()
    if not ranked:
        print(f"no ranked {args.scope} rows for {args.period} in {table}")
        return 1
    valid = sum(1 for r in ranked if r.valid)
    print(f"{args.scope} ranking {args.period} by comprehensive index ({len(ranked)} ranked, {valid} with complete data; 1 = cleanest)")
    print(f"{'rank':>4s} {'code':8s} {'name':12s} {'index':>6s} {'primary':8s} {'PM2.5':>6s} {'good %':>6s} {'days':>4s}")
    shown = ranked if args.top <= 0 or 2 * args.top >= len(ranked) else ranked[: args.top] + [None] + ranked[-args.top:]
    for r in shown:
        if r is None:
            print("   ...")
            continue
        good = f"{100 * r.good_share:5.1f}" if r.good_share is not None else "-"
        print(f"{r['rank']:4d} {r.code:8s} {(r.name or '')[:12]:12s} {r.comprehensive_index:6.2f} {r.primary_pollutant or '-':8s} "
              f"{r.pm25 if r.pm25 is not None else float('nan'):6.0f} {good:>6s} {r.n_days:4d}{'' if r.valid else ' (incomplete)'}")
    return 0


def cmd_agreement(args: argparse.Namespace) -> int:
    from pyspark.sql import functions as F

    lake = _lake()
    rows = lake.read(GOLD_MOVING_AGREEMENT)
    if args.month:
        rows = rows.where(F.col("month").isin(args.month))
    agg = rows.groupBy("source", "measure", "window").agg(*[F.sum(c).alias(c) for c in ("n_compared", "n_equal", "n_equal_or_tie")])
    print(f"{'source':14s} {'measure':10s} {'window':9s} {'compared':>10s} {'equal':>7s} {'eq|tie':>7s}")
    for r in agg.orderBy("source", "measure", "window").collect():
        print(f"{r.source:14s} {r.measure:10s} {r.window:9s} {r.n_compared:10,d} {100 * r.n_equal / r.n_compared:6.2f}% "
              f"{100 * r.n_equal_or_tie / r.n_compared:6.2f}%")
    return 0


def cmd_maintenance(args: argparse.Namespace) -> int:
    from jobs import maintenance

    summary = maintenance.run(_lake(), tuple(args.layer or ("silver", "gold")), zorder=args.zorder,
                              retention_hours=args.retention_hours, force=args.force)
    print(f"maintenance: {summary}")
    return 0


def add_commands(add: Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]) -> None:
    p = add("gold", cmd_gold, "build the gold products (AQI, moving values, daily AQI, evaluation, aggregates, water classes)")
    p.add_argument("--month", action="append", help="yyyy-MM to build (repeatable; default: the days whose valid data changed)")
    p.add_argument("--rule-set", choices=("HJ633-2012", "HJ633-2026"), help="pin the AQI rule set (rows beside the by-date ones)")
    p = add("ranking", cmd_ranking, "print the HJ 663 ranking of a period (gold.eval_monthly / gold.eval_annual)")
    p.add_argument("--period", required=True, help="yyyy-MM or yyyy")
    p.add_argument("--scope", default="city", choices=("station", "city", "province"))
    p.add_argument("--top", type=int, default=10, help="show the best and worst N (0: all)")
    p = add("agreement", cmd_agreement, "moving values computed vs published by the source (gold.moving_agreement)")
    p.add_argument("--month", action="append", help="yyyy-MM (repeatable; default all)")
    p = add("maintenance", cmd_maintenance, "OPTIMIZE crowded partitions and VACUUM the silver and gold tables")
    p.add_argument("--layer", action="append", choices=("silver", "gold"), help="layer (repeatable; default both)")
    p.add_argument("--zorder", action="store_true", help="Z-order where a table declares it (rewrites every file of the partitions compacted)")
    p.add_argument("--retention-hours", type=int, default=168, help="VACUUM retention (default 168 = 7 days)")
    p.add_argument("--force", action="store_true", help="compact and vacuum every table now (default: only where needed, vacuum weekly)")
