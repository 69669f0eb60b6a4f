"""Ranking blocks of a report: which units are ranked inside the area, by what, and the area's
own position among its peers. Pure transforms over the unit-day AQI rows and gold.eval_monthly."""

from __future__ import annotations

from datetime import date

import pandas as pd

from smartmon.report.aqi_summary import day_ranking, month_ranking, rank_units
from smartmon.report.area import Area, Period, in_area
from smartmon.report.names import AdminNames

DAY_BY = "daily AQI (HJ 633) of the mean of the unit's national stations; 1 = cleanest"
MONTH_BY = "HJ 663 comprehensive index of the month; 1 = cleanest"
COUNTY_MONTH_BY = "mean PM2.5 of the county's station-days (the lake has no HJ 663 county ranking); 1 = cleanest"


def month_units(units_daily: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """Per unit over the period: days with an AQI, good days (AQI <= 100), exceedance days, mean
    PM2.5 and AQI; the month view of units gold.eval_monthly does not rank (counties)."""
    rows = units_daily[(units_daily["day"] >= start) & (units_daily["day"] <= end)]
    if rows.empty:
        return pd.DataFrame(columns=["code", "aqi_days", "good_days", "exceedance_days", "pm25", "aqi"])
    aqi = pd.to_numeric(rows["aqi"], errors="coerce")
    g = rows.assign(aqi=aqi, good=aqi <= 100, exc=aqi > 100).groupby("code")
    return g.agg(aqi_days=("aqi", "count"), good_days=("good", "sum"), exceedance_days=("exc", "sum"),
                 pm25=("pm25", "mean"), aqi=("aqi", "mean")).reset_index()


def _block(title: str, by: str, kind: str, rows: pd.DataFrame, names: AdminNames, of: int | None) -> dict:
    """A ranking table's data; `of` is how many units are ranked nationally (None: no national ranking)."""
    rows = rows.copy()
    if "name" not in rows or rows["name"].isna().all():
        rows["name"] = rows["code"].map(names.name)
    else:
        rows["name"] = [names.names.get(c) or n or c for c, n in zip(rows["code"], rows["name"])]
    rows["pinyin"] = [names.pinyin_names.get(c) for c in rows["code"]]
    rows["short"] = [names.short_names.get(c) or (names.short(c) if c in names.names else n) for c, n in zip(rows["code"], rows["name"])]
    return {"title": title, "by": by, "kind": kind, "rows": rows, "of": of}


def ranking_blocks(area: Area, period: Period, cities: pd.DataFrame, counties: pd.DataFrame,
                   evals: pd.DataFrame, names: AdminNames) -> list[dict]:
    """The ranking tables of the report.

    national: the nation's cities (and, for a month, the provinces); province: its cities;
    city: the province's cities (the city's position) and the city's counties."""
    blocks = []
    peer_prefix = area.prefix if area.tier != "city" else area.code[:2]
    if period.kind == "day":
        monthly = evals[evals["scope"] == "city"][["code", "rank"]].rename(columns={"rank": "month_rank"})
        city_rank = day_ranking(cities, period.day, peer_prefix).merge(monthly, on="code", how="left")
        n_national = int(cities.loc[cities["day"] == period.day, "aqi"].notna().sum())
        blocks.append(_block("Cities of the area" if area.tier != "city" else "Cities of the province", DAY_BY, "day",
                             city_rank, names, n_national))
        if area.ranks_counties:
            county_rank = day_ranking(counties, period.day, area.prefix)
            blocks.append(_block("Counties and districts (national stations)", DAY_BY, "day",
                                 county_rank, names, None))
    else:
        n_national = int(((evals["scope"] == "city") & evals["rank"].notna()).sum())
        blocks.append(_block("Cities of the area" if area.tier != "city" else "Cities of the province", MONTH_BY,
                             "month", month_ranking(evals, "city", peer_prefix), names, n_national))
        if area.tier == "national":
            n_prov = int(((evals["scope"] == "province") & evals["rank"].notna()).sum())
            blocks.append(_block("Provinces", MONTH_BY, "month", month_ranking(evals, "province", ""), names, n_prov))
        if area.ranks_counties:
            cm = month_units(counties[in_area(counties["code"], area.prefix)], period.start, period.end)
            blocks.append(_block("Counties and districts (national stations)", COUNTY_MONTH_BY,
                                 "county-month", rank_units(cm, "pm25"), names, None))
    return blocks


def position(area: Area, blocks: list[dict]) -> str | None:
    """One sentence placing a city among the nation's and its province's cities."""
    if area.tier != "city" or not blocks:
        return None
    rows = blocks[0]["rows"]
    me = rows[rows["code"] == area.code]
    if me.empty or pd.isna(me["area_rank"].iloc[0]):
        return f"{area.code} has no ranked value for the period"
    r = me.iloc[0]
    nat = r.get("national_rank") if blocks[0]["kind"] == "day" else r.get("rank")
    n_prov = int(rows["area_rank"].notna().sum())
    return (f"rank {int(r['area_rank'])} of {n_prov} in its province and {int(nat)} of {blocks[0]['of']} nationally "
            f"({blocks[0]['by']})") if pd.notna(nat) else f"rank {int(r['area_rank'])} of {n_prov} in its province"
