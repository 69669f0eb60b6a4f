"""AQI by HJ 633: breakpoint tables of both rule sets, IAQI, AQI, primary pollutant, category.

The tables are data; two evaluators read them: `iaqi()` (plain Python, the reference the
property tests use) and `iaqi_column()` (a Spark CASE expression built from the same table, so
the Spark job and the reference cannot drift apart). The combination of the IAQIs into the AQI
and the primary pollutant(s) is likewise written once per kind, from the same constants:
`combine()` (plain Python) and `combine_columns()` (Spark), used by gold.aqi_hourly and
gold.aqi_daily and by the reports' city days.

Rule sets: HJ 633-2012 applies to observations before 2026-03-01 and HJ 633-2026 from then
(../shared/STANDARDS.md); a caller can pin either.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from pyspark.sql import Column
from pyspark.sql import functions as F

IAQI_LEVELS = (0, 50, 100, 150, 200, 300, 400, 500)
SWITCH_DATE = date(2026, 3, 1)
HJ633_2012 = "HJ633-2012"
HJ633_2026 = "HJ633-2026"
RULE_SETS = (HJ633_2012, HJ633_2026)

_COMMON = {
    "so2_24h": (0, 50, 150, 475, 800, 1600, 2100, 2620),
    "so2_1h": (0, 150, 500, 650, 800),
    "no2_24h": (0, 40, 80, 180, 280, 565, 750, 940),
    "no2_1h": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    "co_24h": (0, 2, 4, 14, 24, 36, 48, 60),
    "co_1h": (0, 5, 10, 35, 60, 90, 120, 150),
    "o3_1h": (0, 160, 200, 300, 400, 800, 1000, 1200),
    "o3_8h": (0, 100, 160, 215, 265, 800),
}
BREAKPOINTS: dict[str, dict[str, tuple[float, ...]]] = {
    HJ633_2012: {**_COMMON, "pm10_24h": (0, 50, 150, 250, 350, 420, 500, 600), "pm25_24h": (0, 35, 75, 115, 150, 250, 350, 500)},
    HJ633_2026: {**_COMMON, "pm10_24h": (0, 50, 120, 250, 350, 420, 500, 600), "pm25_24h": (0, 35, 60, 115, 150, 250, 350, 500)},
}

CATEGORIES = (  # (upper AQI, level, name, colour)
    (50, 1, "优", "#00E400"),
    (100, 2, "良", "#FFFF00"),
    (150, 3, "轻度污染", "#FF7E00"),
    (200, 4, "中度污染", "#FF0000"),
    (300, 5, "重度污染", "#99004C"),
    (math.inf, 6, "严重污染", "#7E0023"),
)
DISPLAY = {"so2": "SO2", "no2": "NO2", "co": "CO", "o3": "O3", "o3_8h": "O3_8h", "pm10": "PM10", "pm25": "PM2.5"}
# The combination rule (HJ 633): AQI = the largest IAQI; the primary pollutant(s), named only
# when the AQI is above PRIMARY_ABOVE, are every pollutant whose IAQI equals it (ties list all, in
# the caller's order, comma-separated). HJ 633-2026 5.3: with one of the six core pollutants
# missing, the AQI is published only when above PARTIAL_PUBLISH_ABOVE.
CORE_POLLUTANTS = ("so2", "no2", "co", "o3", "pm10", "pm25")
PRIMARY_ABOVE = 50
PARTIAL_PUBLISH_ABOVE = 100


def rule_set_column(day: Column) -> Column:
    """rule_set_for() as a Spark expression over a date column."""
    return F.when(day >= F.lit(SWITCH_DATE), F.lit(HJ633_2026)).otherwise(F.lit(HJ633_2012))


def rule_set_for(day: date | datetime) -> str:
    d = day.date() if isinstance(day, datetime) else day
    return HJ633_2026 if d >= SWITCH_DATE else HJ633_2012


def round_concentration(value: float, pollutant: str) -> float:
    """GB/T 8170 rounding (round half to even): whole ug/m3, CO to 0.1 mg/m3."""
    q = Decimal("0.1") if pollutant.startswith("co") else Decimal(1)
    return float(Decimal(repr(float(value))).quantize(q, rounding=ROUND_HALF_EVEN))  # float(): numpy scalars repr as np.float64(...)


def iaqi(conc: float | None, table: str, rule_set: str = HJ633_2012) -> int | None:
    """IAQI of a rounded concentration, rounded up; None when missing or negative.

    Above the top of a full table (IAQI 500) the IAQI is 500: CNEMC publishes AQI 500 for such
    hours (found in the January 2019 archive, README "AQI agreement"). Above the top of the
    short tables (SO2 1 h, O3 8 h) it is None and the caller applies the standard's rule."""
    if conc is None or (isinstance(conc, float) and math.isnan(conc)):
        return None
    bp = BREAKPOINTS[rule_set][table]
    c = round_concentration(conc, table)
    if c < 0:
        return None
    for i in range(1, len(bp)):
        if c <= bp[i]:
            lo, hi = bp[i - 1], bp[i]
            il, ih = IAQI_LEVELS[i - 1], IAQI_LEVELS[i]
            return math.ceil((ih - il) / (hi - lo) * (c - lo) + il - 1e-9)
    return 500 if len(bp) == len(IAQI_LEVELS) else None


def category(aqi: int | None) -> tuple[int, str, str] | None:
    if aqi is None:
        return None
    for upper, level, name, colour in CATEGORIES:
        if aqi <= upper:
            return level, name, colour
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class HourlyAqi:
    aqi: int | None
    iaqi: dict[str, int | None]
    primary: str | None


# pollutant key -> breakpoint table: real-time (1 h values; PM on the 24 h table) and daily
HOURLY_TABLES = {"so2": "so2_1h", "no2": "no2_1h", "co": "co_1h", "o3": "o3_1h", "pm10": "pm10_24h", "pm25": "pm25_24h"}
DAILY_TABLES = {"so2": "so2_24h", "no2": "no2_24h", "co": "co_24h", "o3": "o3_1h", "o3_8h": "o3_8h",
                "pm10": "pm10_24h", "pm25": "pm25_24h"}


def _o3_8h(conc: dict[str, float | None], out: dict[str, int | None], rule_set: str) -> None:
    """O3 8 h IAQI; above 800 the 1 h IAQI (2012) or 300 (2026)."""
    if conc.get("o3_8h") is not None:
        v = iaqi(conc["o3_8h"], "o3_8h", rule_set)
        out["o3_8h"] = v if v is not None else (300 if rule_set == HJ633_2026 else out["o3"])


def hourly_aqi(conc: dict[str, float | None], rule_set: str = HJ633_2012, *, so2_24h: float | None = None) -> HourlyAqi:
    """Real-time (hourly) AQI from 1 h values (PM with the 24 h table), by the rule set's
    above-range rules; conc keys: so2, no2, co, o3, pm10, pm25 (o3_8h optional)."""
    out: dict[str, int | None] = {k: iaqi(conc.get(k), t, rule_set) for k, t in HOURLY_TABLES.items()}
    if conc.get("so2") is not None and out["so2"] is None:  # SO2 1 h above 800
        out["so2"] = 200 if rule_set == HJ633_2026 else iaqi(so2_24h, "so2_24h", rule_set)
    _o3_8h(conc, out, rule_set)
    aqi, primary = combine(out, rule_set)
    return HourlyAqi(aqi, out, primary)


def daily_aqi(conc: dict[str, float | None], rule_set: str = HJ633_2012) -> HourlyAqi:
    """Daily AQI (HJ 633): SO2, NO2, CO, PM10, PM2.5 24 h means on the 24 h tables (not the 1 h
    table for SO2, a bug of a public library), O3 daily maximum 1 h on the 1 h table and daily
    maximum 8 h on the 8 h table; O3 8 h above 800 takes the O3 1 h IAQI (2012) or 300 (2026).
    conc keys: so2, no2, co, pm10, pm25, o3 (max 1 h), o3_8h (max 8 h)."""
    out: dict[str, int | None] = {k: iaqi(conc.get(k), t, rule_set) for k, t in DAILY_TABLES.items() if k != "o3_8h"}
    _o3_8h(conc, out, rule_set)
    aqi, primary = combine(out, rule_set)
    return HourlyAqi(aqi, out, primary)


def combine(iaqis: Mapping[str, int | None], rule_set: str, partial_rule: bool = True) -> tuple[int | None, str | None]:
    """(AQI, primary pollutants) from the IAQIs by the combination rule above (None = missing).

    The plain-Python twin of combine_columns(), kept beside it so both read the same constants;
    primary pollutants are listed in the order of `iaqis`. partial_rule: as in combine_columns."""
    present = {k: v for k, v in iaqis.items() if v is not None}
    if not present:
        return None, None
    aqi = max(present.values())
    n_core = sum(1 for k in CORE_POLLUTANTS if iaqis.get(k) is not None)
    if partial_rule and rule_set == HJ633_2026 and n_core < len(CORE_POLLUTANTS) and aqi <= PARTIAL_PUBLISH_ABOVE:
        return None, None
    primary = ",".join(DISPLAY[k] for k, v in present.items() if v == aqi) if aqi > PRIMARY_ABOVE else None
    return aqi, primary


# ------------------------------------------------------------------------------ Spark side
def _round_col(c: Column, table: str) -> Column:
    return F.bround(c, 1) if table.startswith("co") else F.bround(c, 0)


def iaqi_column(conc: Column, table: str, rule_set: str | Column) -> Column:
    """The IAQI as a Spark expression from the same breakpoints as iaqi(); null when missing,
    negative or above the table. rule_set may be a literal or a column holding its name."""

    def for_set(rs: str) -> Column:
        bp = BREAKPOINTS[rs][table]
        c = _round_col(conc, table)
        expr = F.lit(500) if len(bp) == len(IAQI_LEVELS) else None
        for i in range(len(bp) - 1, 0, -1):
            lo, hi, il, ih = bp[i - 1], bp[i], IAQI_LEVELS[i - 1], IAQI_LEVELS[i]
            val = F.ceil((F.lit(ih - il) / F.lit(hi - lo)) * (c - F.lit(lo)) + F.lit(il) - F.lit(1e-9))
            expr = F.when(c <= F.lit(hi), val) if expr is None else F.when(c <= F.lit(hi), val).otherwise(expr)
        return F.when(conc.isNull() | (c < 0), F.lit(None)).otherwise(expr).cast("int")

    if isinstance(rule_set, str):
        return for_set(rule_set)
    return F.when(rule_set == F.lit(HJ633_2026), for_set(HJ633_2026)).otherwise(for_set(HJ633_2012))


@dataclass(frozen=True)
class AqiColumns:
    """The combination as Spark expressions (n_pollutants counts the core pollutants with an IAQI)."""

    n_pollutants: Column
    aqi: Column
    primary_pollutant: Column


def combine_columns(iaqis: Mapping[str, Column], rule_set: Column, aqi_stored_as: str | None = None,
                    partial_rule: bool = True) -> AqiColumns:
    """combine() as Spark expressions over IAQI columns (key -> column, at least two; a core
    pollutant left out counts as missing) for a rule-set column; primary pollutants are listed in
    the order of `iaqis`. One definition for every Spark product, so the hourly and daily AQI
    cannot apply different rules.

    partial_rule: apply HJ 633-2026 5.3 (no AQI at or below 100 with a core pollutant missing).
    It is about measurements that failed; the forecasts never carry SO2 and CO (not forecast:
    they are almost never the primary pollutant), so their AQI is combined without it.

    aqi_stored_as: the column the caller stores `aqi` under before `primary_pollutant`; the
    primary test then reads that column instead of repeating the AQI expression once per
    pollutant (a plan a third smaller, the one the gold jobs always had)."""
    n = sum((iaqis[k].isNotNull().cast("int") for k in CORE_POLLUTANTS if k in iaqis), F.lit(0))
    top = F.greatest(*iaqis.values())
    partial = (rule_set == F.lit(HJ633_2026)) & (n < F.lit(len(CORE_POLLUTANTS))) & (top <= F.lit(PARTIAL_PUBLISH_ABOVE))
    if not partial_rule:
        partial = F.lit(False)
    aqi = F.when(partial, F.lit(None)).otherwise(top).cast("int")
    ref = F.col(aqi_stored_as) if aqi_stored_as else aqi
    primary = F.concat_ws(",", *[F.when(c == ref, F.lit(DISPLAY[k])) for k, c in iaqis.items()])
    return AqiColumns(n.cast("int"), aqi, F.when(ref > F.lit(PRIMARY_ABOVE), primary))


def category_columns(aqi: Column) -> tuple[Column, Column, Column]:
    level = name = colour = None
    for upper, lv, nm, col in reversed(CATEGORIES):
        cond = aqi <= F.lit(upper) if upper != math.inf else F.lit(True)
        level = F.when(cond, F.lit(lv)) if level is None else F.when(cond, F.lit(lv)).otherwise(level)
        name = F.when(cond, F.lit(nm)) if name is None else F.when(cond, F.lit(nm)).otherwise(name)
        colour = F.when(cond, F.lit(col)) if colour is None else F.when(cond, F.lit(col)).otherwise(colour)
    nul = aqi.isNull()
    return (F.when(nul, None).otherwise(level), F.when(nul, None).otherwise(name), F.when(nul, None).otherwise(colour))
