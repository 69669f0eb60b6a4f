"""GB 3095 ambient-air limits (Grade II) by version, and which version applies on a date.

Three limit sets: GB 3095-2012, the GB 3095-2026 transition limits (2026-03-01 to 2030-12-31)
and the 2026 final limits (from 2031-01-01). Assessments pick the set from the observation
date; a caller can pin one to re-assess history under other limits. Numbers from
../shared/STANDARDS.md (ug/m3, CO mg/m3).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from pyspark.sql import Column
from pyspark.sql import functions as F

GB3095_2012 = "GB3095-2012"
GB3095_2026_TRANSITION = "GB3095-2026-transition"
GB3095_2026_FINAL = "GB3095-2026-final"
LIMIT_SETS = (GB3095_2012, GB3095_2026_TRANSITION, GB3095_2026_FINAL)
TRANSITION_FROM = date(2026, 3, 1)
FINAL_FROM = date(2031, 1, 1)

# (pollutant, averaging) -> limit. Averaging: annual, 24h, 1h, 8h_max (O3 daily maximum 8 h).
LIMITS: dict[str, dict[tuple[str, str], float]] = {
    GB3095_2012: {
        ("so2", "annual"): 60, ("so2", "24h"): 150, ("so2", "1h"): 500,
        ("no2", "annual"): 40, ("no2", "24h"): 80, ("no2", "1h"): 200,
        ("co", "24h"): 4, ("co", "1h"): 10,
        ("o3", "8h_max"): 160, ("o3", "1h"): 200,
        ("pm10", "annual"): 70, ("pm10", "24h"): 150,
        ("pm25", "annual"): 35, ("pm25", "24h"): 75,
    },
}
# The transition limits are the 2012 ones except for the particles.
LIMITS[GB3095_2026_TRANSITION] = {
    **LIMITS[GB3095_2012],
    ("pm10", "annual"): 60, ("pm10", "24h"): 120,
    ("pm25", "annual"): 30, ("pm25", "24h"): 60,
}
LIMITS[GB3095_2026_FINAL] = {
    **LIMITS[GB3095_2012],
    ("so2", "annual"): 20, ("so2", "24h"): 50, ("so2", "1h"): 150,
    ("no2", "annual"): 30, ("no2", "24h"): 50,
    ("pm10", "annual"): 50, ("pm10", "24h"): 100,
    ("pm25", "annual"): 25, ("pm25", "24h"): 50,
}


def limit_set_for(day: date) -> str:
    if day >= FINAL_FROM:
        return GB3095_2026_FINAL
    return GB3095_2026_TRANSITION if day >= TRANSITION_FROM else GB3095_2012


def limit(pollutant: str, averaging: str, limit_set: str) -> float:
    try:
        return LIMITS[limit_set][(pollutant, averaging)]
    except KeyError as exc:
        raise KeyError(f"no {averaging} limit for {pollutant} in {limit_set}") from exc


def check_limit_set(name: str | None) -> str | None:
    if name is not None and name not in LIMIT_SETS:
        raise ValueError(f"unknown limit set {name!r}: use one of {LIMIT_SETS}")
    return name


def index_standards(limit_set: str) -> dict[str, float]:
    """S_i of the comprehensive index (HJ 663): annual limits of SO2, NO2, PM10, PM2.5, the 24 h
    CO limit (applied to its 95th percentile) and the O3 8 h limit (applied to its 90th
    percentile). HJ 663-2013 fixes them at the 2012 Grade II values; for the 2026 sets the
    same positions of the 2026 tables are used (an assumption until HJ 663-2026 is at hand)."""
    t = LIMITS[limit_set]
    return {
        "so2": t[("so2", "annual")], "no2": t[("no2", "annual")], "pm10": t[("pm10", "annual")],
        "pm25": t[("pm25", "annual")], "co": t[("co", "24h")], "o3": t[("o3", "8h_max")],
    }


def by_limit_set(limit_set: Column, value_of: Callable[[str], float]) -> Column:
    """A per-row number that depends on the row's limit set (value_of(set name)) as a Spark CASE."""
    expr = None
    for name in LIMIT_SETS:
        v = F.lit(float(value_of(name)))
        expr = F.when(limit_set == name, v) if expr is None else expr.when(limit_set == name, v)
    return expr


def limit_set_column(day: Column) -> Column:
    """limit_set_for() as a Spark expression over a date column."""
    return (F.when(day >= F.lit(FINAL_FROM), F.lit(GB3095_2026_FINAL))
            .when(day >= F.lit(TRANSITION_FROM), F.lit(GB3095_2026_TRANSITION)).otherwise(F.lit(GB3095_2012)))
