"""The nightly's consultation reports: the day's report of every configured area, and the month's
on the last day of a month (the monthly 会商 material).

Areas come from $SMARTMON_REPORTS, comma-separated tier[:code] (default: the nation, Beijing
province and Beijing city, the three tiers of 国-省-市); reports go under $SMARTMON_REPORTS_DIR
(default reports/ in the repo). The reports read the lake with delta-rs, not Spark."""

from __future__ import annotations

import logging
import os
from datetime import date, timedelta
from pathlib import Path

from smartmon.catalog.names import REPORTS
from smartmon.errors import ConfigError
from smartmon.jobspec import Job, RunContext, day_window
from smartmon.report.data import READS

log = logging.getLogger(__name__)
DEFAULT_AREAS = "national,province:110000,city:110100"


def areas(text: str | None = None) -> list[tuple[str, str]]:
    """(tier, code) pairs from the setting, refusing a malformed entry by name."""
    out = []
    for item in (text or os.environ.get("SMARTMON_REPORTS") or DEFAULT_AREAS).split(","):
        tier, _, code = item.strip().partition(":")
        if tier not in ("national", "province", "city") or (tier != "national" and not (code.isdigit() and len(code) == 6)):
            raise ConfigError(f"SMARTMON_REPORTS entry {item.strip()!r}: expected national, province:CODE or city:CODE (6 digits)")
        out.append((tier, code or "000000"))
    return out


def periods(day: date) -> list[str]:
    """Every night the day; on a month's last day the month as well."""
    return ["day", "month"] if (day + timedelta(days=1)).month != day.month else ["day"]


def run(lake_root: str, day: date, out_root: Path | None = None) -> dict[str, int]:
    from smartmon.report import build_report

    out_root = out_root or (Path(os.environ["SMARTMON_REPORTS_DIR"]) if os.environ.get("SMARTMON_REPORTS_DIR") else None)
    n = 0
    for tier, code in areas():
        for period in periods(day):
            r = build_report(lake_root, tier, code, day, period, out_root)
            log.info("report %s %s %s %s: %s (%.1f s)", tier, code, period, day, r.html, r.seconds)
            n += 1
    return {"reports": n}


def _run(ctx: RunContext) -> dict[str, int]:
    return run(ctx.lake.cfg.lake, ctx.run_date)


JOB = Job(
    name="reports",
    layer="reports",
    reads=READS,
    writes=(REPORTS,),
    run=_run,
    scope=day_window(1),
    doc="consultation reports of the configured areas (the month's too on its last day), read with delta-rs",
)
