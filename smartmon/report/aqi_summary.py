"""AQI headline, category counts and rankings: pure pandas transforms over gold rows.

City (and county) daily AQI is HJ 633's daily AQI of the mean of the unit's national stations'
daily values, computed exactly as gold.eval_monthly computes the city days behind its good-day
counts (so a day report and the month's evaluation agree). gold.region_daily, which averages
every tier, gives the area's concentration series ("三级贯通" means). Monthly rankings are HJ 663's, read as gold.eval_monthly ranked them
(rank 1 = cleanest), re-ranked within the area.
"""

from __future__ import annotations

import pandas as pd

from smartmon.report.area import in_area
from smartmon.standards.aqi import CATEGORIES, category, daily_aqi, rule_set_for

CATEGORY_EN = {"优": "Excellent", "良": "Good", "轻度污染": "Lightly polluted", "中度污染": "Moderately polluted",
               "重度污染": "Heavily polluted", "严重污染": "Severely polluted"}
POLLUTANTS = ("so2", "no2", "co", "pm10", "pm25", "o3_8h_max")
CONC_COLUMNS = ("so2", "no2", "co", "pm10", "pm25", "o3_1h_max", "o3_8h_max")
UNIT_COLUMNS = ["code", "day", "aqi", "level", "category", "colour", "primary_pollutant", *CONC_COLUMNS, "n_stations"]


def unit_daily_aqi(station_days: pd.DataFrame, code_col: str, prefix: str = "") -> pd.DataFrame:
    """One row per unit and day inside the area: the mean of its national stations' daily values
    (GB/T 8170 rounded, as gold.eval_monthly's city days), the daily AQI, category and primary
    pollutant by the day's HJ 633 rule set. `station_days` is gold.aqi_daily joined with
    silver.stations' tier and admin codes; `code_col` names the unit (city_code, county_code)."""
    rows = station_days[(station_days["tier"] == "national") & station_days[code_col].notna()]
    rows = rows[in_area(rows[code_col], prefix)]
    if rows.empty:
        return pd.DataFrame(columns=UNIT_COLUMNS)
    g = rows.groupby([code_col, "day"])
    wide = g[list(CONC_COLUMNS)].mean()
    for c in CONC_COLUMNS:  # round half to even, like Spark's bround in the evaluation job
        wide[c] = wide[c].round(1 if c == "co" else 0)
    wide = wide.join(g["station_id"].nunique().rename("n_stations")).reset_index().rename(columns={code_col: "code"})
    out = []
    for r in wide.itertuples(index=False):
        conc = {p: _num(getattr(r, p)) for p in ("so2", "no2", "co", "pm10", "pm25")}
        conc["o3"], conc["o3_8h"] = _num(r.o3_1h_max), _num(r.o3_8h_max)
        a = daily_aqi(conc, rule_set_for(r.day))
        cat = category(a.aqi)
        out.append((a.aqi, cat[0] if cat else None, cat[1] if cat else None, cat[2] if cat else None, a.primary))
    wide[["aqi", "level", "category", "colour", "primary_pollutant"]] = pd.DataFrame(out, index=wide.index)
    wide["aqi"] = wide["aqi"].astype("Int64")
    wide["level"] = wide["level"].astype("Int64")
    return wide[UNIT_COLUMNS]


def _num(v: object) -> float | None:
    return None if v is None or pd.isna(v) else float(v)  # type: ignore[arg-type]


def category_counts(levels: pd.Series) -> pd.DataFrame:
    """Count per AQI category (all six always listed, in order) and of rows without an AQI."""
    lv = pd.to_numeric(levels, errors="coerce")
    total = int(lv.notna().sum())
    rows = []
    for _, level, name, colour in CATEGORIES:
        n = int((lv == level).sum())
        rows.append({"level": level, "category": name, "english": CATEGORY_EN[name], "colour": colour, "count": n,
                     "share": n / total if total else None})
    return pd.DataFrame(rows).assign(no_aqi=int(lv.isna().sum()))


def primary_counts(primary: pd.Series) -> dict[str, int]:
    """How often each pollutant was primary (ties list several; each counts), most frequent first."""
    parts = primary.dropna().astype(str).str.split(",").explode().str.strip()
    parts = parts[parts != ""]
    return {str(k): int(v) for k, v in parts.value_counts().items()}


def exceedance_counts(exceedances: pd.Series) -> dict[str, int]:
    """Station-days above a GB 3095 24 h / 8 h limit, per pollutant."""
    return primary_counts(exceedances.replace("", pd.NA))


def rank_units(units: pd.DataFrame, by: str, rank_col: str = "area_rank") -> pd.DataFrame:
    """Rank ascending (1 = cleanest) with ties sharing the best rank; rows without a value get
    no rank and go last. Returns a copy sorted by rank."""
    out = units.copy()
    # as float: pandas 2.x ranks a nullable Int64 <NA> first instead of leaving it unranked
    out[rank_col] = pd.to_numeric(out[by], errors="coerce").astype("float64").rank(method="min").astype("Int64")
    return out.sort_values([rank_col, "code"], na_position="last").reset_index(drop=True)


def day_ranking(units_all: pd.DataFrame, day: object, prefix: str) -> pd.DataFrame:
    """Units of one day ranked by AQI within the area, with their rank among all units nationally."""
    today = units_all[units_all["day"] == day]
    national = rank_units(today, "aqi", "national_rank")[["code", "national_rank"]]
    inside = today[in_area(today["code"], prefix)]
    return rank_units(inside, "aqi").merge(national, on="code", how="left")


def month_ranking(eval_rows: pd.DataFrame, scope: str, prefix: str) -> pd.DataFrame:
    """HJ 663 monthly rows of `scope` inside the area, re-ranked by comprehensive index within it;
    `rank` stays the national rank gold.eval_monthly gave."""
    rows = eval_rows[(eval_rows["scope"] == scope) & in_area(eval_rows["code"], prefix)]
    if rows.empty:
        return rows.assign(area_rank=pd.Series(dtype="Int64"))
    ranked = rank_units(rows[rows["rank"].notna()], "comprehensive_index")
    unranked = rows[rows["rank"].isna()]
    if unranked.empty:
        return ranked
    return pd.concat([ranked, unranked.assign(area_rank=pd.Series(pd.NA, index=unranked.index, dtype="Int64"))],
                     ignore_index=True)


def area_means(region: pd.DataFrame, scope: str, code: str, start: object, end: object) -> dict[str, float | None]:
    """Mean of the area's daily values per pollutant over the period (from gold.region_daily)."""
    rows = region[(region["scope"] == scope) & (region["code"] == code) & (region["day"] >= start)
                  & (region["day"] <= end)]
    means = rows.groupby("pollutant")["value"].mean()
    return {p: (float(means[p]) if p in means.index and pd.notna(means[p]) else None) for p in POLLUTANTS}


def area_series(region: pd.DataFrame, scope: str, code: str) -> pd.DataFrame:
    """The area's daily mean PM2.5, PM10 and O3 8 h over the series window, one row per day."""
    rows = region[(region["scope"] == scope) & (region["code"] == code)]
    if rows.empty:
        return pd.DataFrame(columns=["day", "pm25", "pm10", "o3_8h_max"])
    wide = rows.pivot_table(index="day", columns="pollutant", values="value", aggfunc="first")
    return wide.reindex(columns=["pm25", "pm10", "o3_8h_max"]).reset_index().sort_values("day")


def station_category_series(aqi_daily: pd.DataFrame) -> pd.DataFrame:
    """Stations per AQI level and day (columns 1..6), for the stacked bars of the series chart."""
    if aqi_daily.empty:
        return pd.DataFrame(columns=["day", *range(1, 7)])
    t = aqi_daily.dropna(subset=["level"]).assign(level=lambda d: d["level"].astype(int))
    wide = t.pivot_table(index="day", columns="level", values="station_id", aggfunc="count", fill_value=0)
    return wide.reindex(columns=range(1, 7), fill_value=0).reset_index().sort_values("day")
