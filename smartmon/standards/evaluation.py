"""HJ 663 evaluation arithmetic as plain Python: the reference the Spark job is tested against.

Percentiles use k = 1 + (n - 1) p with linear interpolation between the sorted values (HJ 663),
which is also what Spark's exact `percentile` computes, so the job uses that function.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# Statistic of each pollutant that enters the comprehensive index (HJ 663).
INDEX_STATISTIC = {"so2": "mean", "no2": "mean", "pm10": "mean", "pm25": "mean", "co": "p95", "o3": "p90_8h"}
# Daily values needed for a valid monthly / annual statistic (GB 3095 data validity).
MIN_DAYS_MONTH = 27
MIN_DAYS_FEBRUARY = 25
MIN_DAYS_YEAR = 324


def percentile(values: Sequence[float], p: float) -> float | None:
    """HJ 663 percentile, p in 0..100."""
    xs = sorted(v for v in values if v is not None and not math.isnan(v))
    if not xs:
        return None
    k = 1 + (len(xs) - 1) * p / 100.0
    lo = math.floor(k)
    frac = k - lo
    if lo >= len(xs):
        return xs[-1]
    return xs[lo - 1] + frac * (xs[lo] - xs[lo - 1])


def comprehensive_index(stats: dict[str, float | None], standards: dict[str, float]) -> tuple[float | None, str | None]:
    """I_sum = sum of C_i / S_i and the pollutant with the largest single index (ties joined)."""
    parts = {p: stats[p] / standards[p] for p in INDEX_STATISTIC if stats.get(p) is not None}
    if not parts:
        return None, None
    top = max(parts.values())
    return sum(parts.values()), ",".join(p for p, v in parts.items() if math.isclose(v, top))


def min_days(period: str) -> int:
    """Validity for a period 'yyyy-MM' or 'yyyy'."""
    if len(period) == 4:
        return MIN_DAYS_YEAR
    return MIN_DAYS_FEBRUARY if period.endswith("-02") else MIN_DAYS_MONTH
