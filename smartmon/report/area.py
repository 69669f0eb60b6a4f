"""Which area and which days a consultation report covers.

A report is asked for by tier (national, province, city), a GB/T 2260 code and a date. The
admin codes nest by prefix (province 13xxxx > city 1301xx > county 130102), so "inside the
area" is a prefix test on any code column; this module holds that rule, the municipality
mapping and the Beijing-time bounds of the period, with no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from smartmon.errors import SmartmonError
from smartmon.geo.gbt2260 import NATION_CODE, area_prefix

TIERS = ("national", "province", "city")
PERIODS = ("day", "month")
# The four municipalities are provinces with a single prefecture; `--tier city --code 110000`
# (the issue's own example) means that prefecture. GB/T 2260 also lists 500200 (重庆 县) but the
# registry files every Chongqing station under 500100, so the mapping follows the registry.
MUNICIPALITIES = {"110000": "110100", "120000": "120100", "310000": "310100", "500000": "500100"}
SERIES_DAYS = 30  # a day report's time series: the 30 days ending on the report date


class UnknownAreaError(SmartmonError):
    """The tier and code do not name an area the lake or the GB/T 2260 lists know."""


@dataclass(frozen=True)
class Area:
    """The area a report covers; `code` is the one reported on, `requested_code` what was asked."""

    tier: str
    code: str
    requested_code: str
    note: str | None = None

    @property
    def prefix(self) -> str:
        """Code prefix shared by every admin code inside the area ('' for the nation)."""
        return area_prefix(self.tier, self.code)

    @property
    def scope(self) -> str:
        """The area's scope in gold.region_daily / gold.eval_monthly."""
        return {"national": "nation", "province": "province", "city": "city"}[self.tier]

    @property
    def ranks_counties(self) -> bool:
        """A city, or a municipality's province (one prefecture): its counties are what to compare."""
        return self.tier == "city" or (self.tier == "province" and self.code in MUNICIPALITIES)

    @property
    def landmark_level(self) -> str:
        """Admin seats drawn on the hex map: one level below the area (counties for a municipality)."""
        return "county" if self.ranks_counties else {"national": "province", "province": "city"}[self.tier]

    @property
    def slug(self) -> str:
        return f"{self.tier}-{self.code}"


def in_area(codes: pd.Series, prefix: str) -> pd.Series:
    """True where an admin code lies inside the area given by its prefix (nulls: only nationally)."""
    if not prefix:
        return pd.Series(True, index=codes.index)
    return codes.fillna("").astype(str).str.startswith(prefix)


def resolve_area(tier: str, code: str | None, known: Collection[str]) -> Area:
    """Check the tier/code pair and map a municipality's province code to its prefecture.

    `known` holds every code the lake or the GB/T 2260 lists use; a well-formed code outside
    it is still an error, because a report on an area nobody monitors would be all "no data"."""
    if tier not in TIERS:
        raise UnknownAreaError(f"unknown tier {tier!r}: use one of {', '.join(TIERS)}")
    code = (code or (NATION_CODE if tier == "national" else "")).strip()
    if not re.fullmatch(r"\d{6}", code):
        raise UnknownAreaError(f"area code {code!r} is not a 6-digit GB/T 2260 code (e.g. 110000, 130100)")
    if tier == "national":
        if code != NATION_CODE:
            raise UnknownAreaError(f"the national tier has code {NATION_CODE}, not {code}")
        return Area(tier, code, code)
    if tier == "province":
        if not code.endswith("0000"):
            raise UnknownAreaError(f"{code} is not a province code (provinces end in 0000, e.g. 130000); "
                                   f"for a city use --tier city")
        if code not in known:
            raise UnknownAreaError(f"unknown province code {code}: not in the GB/T 2260 lists nor the lake")
        return Area(tier, code, code)
    if code in MUNICIPALITIES:
        mapped = MUNICIPALITIES[code]
        note = (f"{code} is a municipality's province-level code; the city report covers its prefecture "
                f"{mapped}, which holds all of the municipality's stations")
        return Area(tier, mapped, code, note)
    if code.endswith("0000") or not code.endswith("00"):
        raise UnknownAreaError(f"{code} is not a prefecture (city) code: city codes end in 00 but not 0000, "
                               f"e.g. 130100")
    if code not in known:
        raise UnknownAreaError(f"unknown city code {code}: not in the GB/T 2260 lists nor the lake")
    return Area(tier, code, code)


@dataclass(frozen=True)
class Period:
    """The Beijing days a report covers, and the window of its time series."""

    kind: str
    day: date
    start: date
    end: date

    @property
    def label(self) -> str:
        return self.start.strftime("%Y-%m") if self.kind == "month" else self.day.isoformat()

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def series_start(self) -> date:
        """A month shows itself; a day shows the 30 days ending on it, to place it in context."""
        return self.start if self.kind == "month" else self.day - timedelta(days=SERIES_DAYS - 1)

    @property
    def months(self) -> list[str]:
        """yyyy-MM partitions the series window touches (tables are partitioned by month)."""
        out, d = [], self.series_start.replace(day=1)
        while d <= self.end:
            out.append(d.strftime("%Y-%m"))
            d = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
        return out

    @property
    def forecast_from(self) -> date:
        """Forecast days start the day after the period (the consultation looks ahead)."""
        return self.end + timedelta(days=1)


def make_period(day: date, kind: str = "day") -> Period:
    """The day itself, or the calendar month holding it (Beijing dates, as gold's `day`)."""
    if kind not in PERIODS:
        raise UnknownAreaError(f"unknown period {kind!r}: use day or month")
    if kind == "day":
        return Period(kind, day, day, day)
    first = day.replace(day=1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return Period(kind, day, first, last)

