"""Turn the rows a report read into the report's content: one dict per section, plus the frames
the charts draw. Pure: no table reads, no files, so every figure is testable on small frames."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from smartmon.report import aqi_summary as aq
from smartmon.report import sections as sec
from smartmon.report.area import Area, Period, in_area
from smartmon.report.data import ReportInputs
from smartmon.report.hexcells import DISPLAY_RES, area_cells, roll_up
from smartmon.report.names import AdminNames
from smartmon.report.rankings import position, ranking_blocks

ADMIN = ["station_id", "tier", "province_code", "city_code", "county_code"]


@dataclass
class Content:
    """Everything the templates and charts need."""

    sections: dict = field(default_factory=dict)
    hex_area: pd.DataFrame = field(default_factory=pd.DataFrame)
    hex_context: pd.DataFrame = field(default_factory=pd.DataFrame)
    series: pd.DataFrame = field(default_factory=pd.DataFrame)
    series_categories: pd.DataFrame = field(default_factory=pd.DataFrame)
    ranking_chart: dict | None = None


def _in_period(df: pd.DataFrame, period: Period) -> pd.DataFrame:
    return df[(df["day"] >= period.start) & (df["day"] <= period.end)]


def headline(area: Area, period: Period, units: pd.DataFrame, stations_aqi: pd.DataFrame, region: pd.DataFrame,
             evals: pd.DataFrame) -> dict:
    """AQI category counts of the area's units (cities; a city's own days) and stations, primary
    pollutants, exceedances, the area's mean concentrations and, for a month, its HJ 663 row."""
    me = evals[(evals["scope"] == area.scope) & (evals["code"] == area.code)]
    ev = me.iloc[0].to_dict() if not me.empty else None
    aqi = pd.to_numeric(units["aqi"], errors="coerce")
    city_day = units.iloc[0].to_dict() if area.tier == "city" and period.kind == "day" and len(units) else None
    return {
        "unit_label": ("city-days" if period.kind == "month" else "city" if area.tier == "city" else "cities"),
        "unit_counts": aq.category_counts(units["level"]).to_dict("records"),
        "units_with_aqi": int(aqi.notna().sum()),
        "unit_primary": aq.primary_counts(units["primary_pollutant"]),
        "unit_exceedance": int((aqi > 100).sum()),
        "station_counts": aq.category_counts(stations_aqi["level"]).to_dict("records"),
        "stations_with_aqi": int(stations_aqi["aqi"].notna().sum()),
        "station_primary": aq.primary_counts(stations_aqi["primary_pollutant"]),
        "station_exceedances": aq.exceedance_counts(stations_aqi["exceedances"]),
        "station_exceedance_rows": int(stations_aqi["exceedances"].fillna("").ne("").sum()),
        "means": aq.area_means(region, area.scope, area.code, period.start, period.end),
        "city_day": city_day,
        "eval": ev,
        "eval_of": int(((evals["scope"] == area.scope) & evals["rank"].notna()).sum()) if ev else 0,
    }


def worst_stations(rows: pd.DataFrame, period: Period, names: dict[str, str], admin: AdminNames, n: int = 10) -> list[dict]:
    """Stations with the highest AQI of the day, or the most days above AQI 100 in the month."""
    if rows.empty:
        return []
    if period.kind == "day":
        top = rows.dropna(subset=["aqi"]).sort_values("aqi", ascending=False).head(n)
        return [{"station": f"{names.get(r.station_id) or ''} ({r.station_id})", "city": admin.name(r.city_code),
                 "aqi": int(r.aqi), "category": r.category, "primary": r.primary_pollutant or "", "pm25": r.pm25}
                for r in top.itertuples()]
    aqi = pd.to_numeric(rows["aqi"], errors="coerce")
    g = rows.assign(aqi=aqi, exc=aqi > 100).groupby(["station_id", "city_code"], dropna=False).agg(
        days=("aqi", "count"), exc=("exc", "sum"), mean_aqi=("aqi", "mean"), pm25=("pm25", "mean")).reset_index()
    top = g.sort_values(["exc", "mean_aqi"], ascending=False).head(n)
    return [{"station": f"{names.get(r.station_id) or ''} ({r.station_id})", "city": admin.name(r.city_code),
             "exceedance_days": int(r.exc), "days": int(r.days), "mean_aqi": r.mean_aqi, "pm25": r.pm25}
            for r in top.itertuples()]


def compose(inputs: ReportInputs, area: Area, period: Period, names: AdminNames) -> Content:
    """Build every section's content for the area and period."""
    stations = inputs.stations
    st_area = sec.area_stations(stations, area)
    ids = set(st_area["station_id"])
    st_names = stations.set_index("station_id")["name"].to_dict()
    days = inputs.aqi_daily.merge(stations[ADMIN], on="station_id", how="left")
    in_period = _in_period(days, period)
    cities = aq.unit_daily_aqi(in_period, "city_code")
    counties = aq.unit_daily_aqi(in_period, "county_code", area.prefix) if area.ranks_counties else cities.iloc[0:0]
    units = cities[cities["code"] == area.code] if area.tier == "city" else cities[in_area(cities["code"], area.prefix)]
    area_days = in_period[in_period["station_id"].isin(ids)]
    blocks = ranking_blocks(area, period, cities, counties, inputs.eval_monthly, names)
    forecast = sec.forecast_summary(inputs.forecasts, ids, period.forecast_from)
    area_cities = set(st_area["city_code"].dropna())
    c = Content()
    c.sections = {
        "headline": headline(area, period, units, area_days, inputs.region_daily, inputs.eval_monthly),
        "rankings": blocks,
        "position": position(area, blocks),
        "worst_stations": worst_stations(area_days, period, st_names, names),
        "water": sec.water_summary(inputs.water_class, stations, ids, period),
        "forecast": forecast,
        "city_forecast": sec.city_forecast(inputs.forecast_city_daily, area_cities, forecast["issued_at"], names),
        "skill": sec.skill_summary(inputs.forecast_skill, area_cities),
        "qc": sec.qc_summary(inputs.qc_flags, inputs.qc_screening, ids, st_names),
        "upwind": sec.upwind_summary(inputs.upwind, ids, st_names),
        "scenarios": sec.scenario_summary(inputs.scenario_results, area, stations, inputs.river_sections),
        "coverage": sec.coverage(st_area, area_days, period),
    }
    res = DISPLAY_RES[area.tier]
    mine, other = area_cells(inputs.hex_daily, st_area["h3_r7"]) if area.tier != "national" else (inputs.hex_daily, inputs.hex_daily.iloc[0:0])
    c.hex_area, c.hex_context = roll_up(mine, res), roll_up(other, res)
    c.hex_context = c.hex_context[~c.hex_context["cell"].isin(set(c.hex_area["cell"]))]
    c.series = aq.area_series(inputs.region_daily, area.scope, area.code)
    c.series_categories = aq.station_category_series(days[days["station_id"].isin(ids)])
    chart_block = blocks[-1] if area.ranks_counties else blocks[0]
    c.ranking_chart = chart_block if len(chart_block["rows"]) else None
    return c
