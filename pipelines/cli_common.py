"""What every `smartmon` subcommand module shares: the lake of the configured profile and the
date argument type. Kept apart from pipelines.cli so the subcommand modules need not import it
(pipelines.cli imports them)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from datetime import date

from smartmon.io import Lake


def open_lake() -> Lake:
    """The lake of the configured profile, with a Spark session (started on first use)."""
    from smartmon.spark import get_spark

    return Lake(get_spark())


def parse_date(text: str) -> date:
    """An argparse type: YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from exc


def run_nights(days: list[date], only: Sequence[str], start: str | None) -> int:
    """Run the nightly (or only some of its jobs) for each day, with progress and a summary."""
    from pipelines.nightly import run_nightly
    from pipelines.progress import TaskProgress
    from pipelines.summary import print_lake_summary

    lake = open_lake()
    failed = []
    for day in days:
        t0 = time.monotonic()
        with TaskProgress(day) as progress:
            outcomes = run_nightly(lake, day, only=only, start=start, progress=progress)
        print(f"\nnightly {day} finished in {time.monotonic() - t0:.0f}s")
        for o in outcomes:
            extra = f" ({o.error})" if o.error else ""
            print(f"  {o.status:8s} {o.task:28s} {o.seconds:6.1f}s  attempts={o.attempts}{extra}")
        if not all(o.status == "ok" for o in outcomes):
            failed.append(day)
    if len(days) > 1:
        print(f"\nbackfill {days[0]}..{days[-1]}: {len(days) - len(failed)} of {len(days)} days ok"
              + (f"; failed: {', '.join(map(str, failed))}" if failed else ""))
    if not only:
        print_lake_summary(lake)
    return 1 if failed else 0
