"""The nightly's scenarios: every spec in the standing folder re-evaluated on the latest data.

A standing spec keeps its changes and the length of its period; the nightly moves the period to
end on the run date (and a control spec's days by the same offset), so each night answers "what
would this measure have done over the last N days". A spec whose period has no activity data in
the lake yet (no electricity for carbon, no section flow for water, no air data for control) is
skipped with that reason instead of writing empty results, and a spec whose results were computed
from the very table versions the lake holds now is not run again (experiments/scenarios.py).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pyspark.sql import functions as F

from smartmon.beijing_time import beijing_day_bounds_utc
from smartmon.catalog.names import (
    SILVER_AIR_HOURLY,
    SILVER_POWER_USE,
    SILVER_SECTION_FLOW,
)
from smartmon.config import INFRA_DIR
from smartmon.io import Lake
from smartmon.scenario import spec as specs

log = logging.getLogger(__name__)
DEFAULT_FOLDER = INFRA_DIR / "scenarios"


@dataclass(frozen=True)
class Standing:
    path: Path
    kind: str
    period: tuple[date, date]
    days: tuple[date, ...]
    draws: int | None


def folder() -> Path:
    """The standing specs: $SMARTMON_SCENARIOS (a folder of YAML specs) or infra/scenarios."""
    return Path(os.environ.get("SMARTMON_SCENARIOS") or DEFAULT_FOLDER)


def nightly_draws() -> int | None:
    """$SMARTMON_SCENARIO_DRAWS caps the draws of every standing spec (the spec's own otherwise)."""
    value = os.environ.get("SMARTMON_SCENARIO_DRAWS")
    return int(value) if value else None


def rolled(path: Path, end: date, draws: int | None = None) -> Standing:
    """The spec with its period moved to end on `end`, its length and day offsets kept."""
    s = specs.load(path)
    shift = end - s.period[1]
    return Standing(path, s.kind, (s.period[0] + shift, end), tuple(d + shift for d in s.days), draws)


def has_activity(lake: Lake, kind: str, period: tuple[date, date]) -> str | None:
    """None when the lake holds what the kind needs in the period, else why not."""
    need = {"carbon": (SILVER_POWER_USE, "date"), "water": (SILVER_SECTION_FLOW, "date"), "control": (SILVER_AIR_HOURLY, "ts")}
    table, col = need[kind]
    if not lake.exists(table):
        return f"{table} does not exist yet"
    lo, hi = period
    if col == "ts":  # Beijing days as naive UTC instants
        lo, hi = (t.replace(tzinfo=None) for t in beijing_day_bounds_utc(lo, hi))
    if lake.read(table).where(F.col(col).between(lo, hi)).limit(1).count() == 0:
        return f"no {table} rows in {period[0]}..{period[1]}"
    return None


def run_standing(lake: Lake, end: date, where: Path | None = None) -> dict[str, int]:
    """Run every standing spec for the period ending on `end`; returns counts for the DAG's record."""
    from experiments import scenarios

    paths = sorted((where or folder()).glob("*.yaml"))
    ran = skipped = unchanged = rows = 0
    shared: dict = {}  # what specs of the same period can share (scenarios.run)
    for path in paths:
        st = rolled(path, end, nightly_draws())
        why = has_activity(lake, st.kind, st.period)
        if why:
            log.warning("scenario %s skipped: %s", path.name, why)
            skipped += 1
            continue
        s = scenarios.run(lake, path, st.draws, st.period, list(st.days) or None, shared)
        if s.get("skipped"):
            unchanged += 1
            continue
        log.info("scenario %s (%s) for %s..%s: %d result rows, %d written in %.0f s", s["name"], s["scenario_id"], *st.period,
                 s["rows"], s["rows_out"], s["seconds"])
        ran += 1
        rows += int(s["rows"])
    return {"rows_in": rows, "scenarios": ran, "skipped": skipped, "unchanged": unchanged}
