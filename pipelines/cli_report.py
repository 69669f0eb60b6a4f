"""`smartmon report`: consultation (会商) reports per tier and period, HTML + Markdown + PNG."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path


def cmd_report(args: argparse.Namespace) -> int:
    from smartmon.config import settings
    from smartmon.report import build_report

    r = build_report(settings().lake, args.tier, args.code, args.date, args.period, Path(args.out) if args.out else None)
    s = r.summary
    print(f"report {s['area']}, {s['period']} in {r.seconds:.1f} s")
    if "note" in s:
        print(f"  note: {s['note']}")
    for key in ("city_aqi", "position", "best_worst", "mean_pm25", "station_categories", "hj663", "qc_flags",
                "water_sections", "forecast"):
        if key in s:
            print(f"  {key:18s} {s[key] if not isinstance(s[key], dict) else json.dumps(s[key], ensure_ascii=False)}")
    print(f"  stations reporting {s['stations_reporting']} of {s['stations_registered']} registered")
    print(f"  html      {r.html}")
    print(f"  markdown  {r.markdown}")
    for png in r.pngs:
        print(f"  png       {png}")
    return 0


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    from pipelines.cli_common import parse_date as _date

    p = add("report", cmd_report, "consultation report (会商) of the nation, a province or a city for a day or a month: "
            "HTML and Markdown with an H3 hex map, charts, rankings, AQI, water classes, forecasts, QC, scenarios")
    p.add_argument("--tier", required=True, choices=("national", "province", "city"), help="area tier")
    p.add_argument("--code", help="GB/T 2260 code: 000000 (national, the default there), a province (130000) or a "
                   "prefecture (130100); a municipality's province code (110000) also names its city")
    p.add_argument("--date", type=_date, required=True, help="report date, YYYY-MM-DD (the month of it for --period month)")
    p.add_argument("--period", choices=("day", "month"), default="day", help="day (default) or the date's month")
    p.add_argument("--out", help="output root (default: reports/ in the repo); the report goes to "
                   "<out>/<tier>-<code>/<period>-<date>/")
