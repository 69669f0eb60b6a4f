"""Report sections beside the AQI: water classes, forecasts, QC and anomalies, scenarios, data
coverage. Pure pandas transforms over rows data.load_inputs read; each returns a plain dict the
templates render, with `message` set whenever the area and period have nothing to show, so a
report on a quiet area still builds and says so."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd

from smartmon.beijing_time import beijing_day_of
from smartmon.forecast.metrics import HORIZON_BLOCKS, block_of
from smartmon.report.area import Area, Period, in_area
from smartmon.standards.aqi import category, iaqi, rule_set_for
from smartmon.standards.water import CLASS_NAMES

MONITORING_KINDS = ("air", "traffic", "supersite")
FORECAST_DAYS = 3
LEVELS = ("ERROR", "WARNING", "INFO")


def area_stations(stations: pd.DataFrame, area: Area) -> pd.DataFrame:
    """Registry rows inside the area (by province or prefecture code; the nation takes all)."""
    if area.tier == "national":
        return stations
    col = "province_code" if area.tier == "province" else "city_code"
    return stations[in_area(stations[col], area.prefix)]


def coverage(stations: pd.DataFrame, aqi_rows: pd.DataFrame, period: Period) -> dict:
    """Registered monitoring stations per tier against those that reported daily values, and the
    valid PM2.5 hours against the hours the registered stations could have delivered."""
    reg = stations[stations["kind"].isin(MONITORING_KINDS) & stations["tier"].notna()]
    rows = []
    for tier, group in reg.groupby("tier"):
        ids = set(group["station_id"])
        got = aqi_rows[aqi_rows["station_id"].isin(ids)]
        possible = len(ids) * 24 * period.n_days
        hours = int(pd.to_numeric(got["n_pm25"], errors="coerce").fillna(0).sum())
        rows.append({"tier": tier, "registered": len(ids), "reporting": int(got["station_id"].nunique()),
                     "with_aqi": int(got.loc[got["aqi"].notna(), "station_id"].nunique()),
                     "pm25_hours": hours, "possible_hours": possible, "share": hours / possible if possible else None})
    rows.sort(key=lambda r: -r["registered"])
    total = {k: sum(r[k] for r in rows) for k in ("registered", "reporting", "with_aqi", "pm25_hours", "possible_hours")}
    total["share"] = total["pm25_hours"] / total["possible_hours"] if total["possible_hours"] else None
    msg = None if rows else "no monitoring stations of this area are in silver.stations"
    return {"rows": rows, "total": total, "days": period.n_days, "message": msg}


def water_summary(water: pd.DataFrame, stations: pd.DataFrame, ids: set[str], period: Period) -> dict:
    """GB 3838 section classes of the area's water sections for the period (one row per section)."""
    mine = water[water["station_id"].isin(ids)] if not water.empty else water
    rows = mine[(mine["period_type"] == period.kind) & (mine["period"] == period.label)] if not mine.empty else mine
    out: dict = {"sections": [], "classes": [], "meets": None, "message": None}
    if rows.empty:
        if mine.empty:
            out["message"] = "gold.water_class holds no water section of this area"
        else:
            held = mine[mine["period_type"] == period.kind]["period"]
            have = (f"gold.water_class holds {period.kind}s {held.min()} to {held.max()} for them" if len(held) else
                    f"gold.water_class holds no {period.kind} evaluation for them")
            out["message"] = (f"no {period.kind} evaluation of this area's {mine['station_id'].nunique()} water "
                              f"section(s) for {period.label}; {have}")
        return out
    names = stations.set_index("station_id")["name"].to_dict()
    per = rows.sort_values("parameter").groupby("station_id").agg(
        section_class=("section_class", "first"), section_class_name=("section_class_name", "first"),
        target_class=("target_class", "first"), meets_target=("meets_target", "first"),
        worst_parameters=("worst_parameters", "first"), n_values=("n_values", "sum"), n_excluded=("n_excluded", "sum"))
    params = rows.pivot_table(index="station_id", columns="parameter", values="water_class", aggfunc="first")
    for sid, r in per.iterrows():
        detail = ", ".join(f"{p} {CLASS_NAMES.get(int(c), c)}" for p, c in params.loc[sid].dropna().items())
        out["sections"].append({"station_id": sid, "name": names.get(sid) or sid, **r.to_dict(), "parameters": detail})
    counts = per["section_class"].value_counts()
    out["classes"] = [{"class": k, "name": v, "count": int(counts.get(k, 0))} for k, v in CLASS_NAMES.items()]
    out["meets"] = {"n": int(per["meets_target"].fillna(False).astype(bool).sum()), "of": len(per)}
    return out


def forecast_summary(fc: pd.DataFrame, ids: set[str], after: date) -> dict:
    """Area mean of the latest issue on or before the period's end, per target and Beijing day for
    the FORECAST_DAYS days after it; says plainly when no issue covers them."""
    days = [after + timedelta(days=i) for i in range(FORECAST_DAYS)]
    out: dict = {"days": [d.isoformat() for d in days], "rows": [], "hourly": pd.DataFrame(), "issued_at": None,
                 "models": [], "message": None}
    fc = fc[fc["target"] != "aqi"] if not fc.empty else fc  # concentrations here; the AQI is the city table's
    mine = fc[fc["station_id"].isin(ids)] if not fc.empty else fc
    if mine.empty:
        n = fc["issued_at"].nunique() if not fc.empty else 0
        elsewhere = f"gold.forecasts holds {n} such issue(s) for other areas" if n else "gold.forecasts has no issue that early"
        out["message"] = (f"no forecast was issued on or before {after - timedelta(days=1)} for any station of this "
                          f"area ({elsewhere})")
        return out
    latest = mine["issued_at"].max()
    issue = mine[mine["issued_at"] == latest].assign(bj_day=lambda d: beijing_day_of(d["ts"]))
    out["issued_at"] = pd.Timestamp(latest).strftime("%Y-%m-%d %H:%M UTC")
    out["models"] = sorted({f"{m} v{v}" for m, v in zip(issue["model_name"], issue["model_version"])})
    ahead = issue[issue["bj_day"].isin(days)]
    if ahead.empty:
        out["message"] = (f"no forecast covers {days[0]} to {days[-1]}: the latest issue on or before "
                          f"{after - timedelta(days=1)} for this area was made {out['issued_at']} and its horizon "
                          f"ends {pd.Timestamp(issue['ts'].max()).strftime('%Y-%m-%d %H:%M UTC')}")
        return out
    for (target, d), g in ahead.groupby(["target", "bj_day"]):
        mean = float(g["value"].mean())
        hours = int(g["ts"].nunique())
        cat = category(iaqi(mean, f"{target}_24h", rule_set_for(d))) if target in ("pm25", "pm10") and hours == 24 else None
        out["rows"].append({"target": target, "day": d.isoformat(), "mean": mean, "min": float(g.groupby("station_id")["value"].mean().min()),
                            "max": float(g.groupby("station_id")["value"].mean().max()), "hours": hours,
                            "stations": int(g["station_id"].nunique()), "category": cat[1] if cat else None,
                            "colour": cat[2] if cat else None})
    out["hourly"] = issue.groupby(["target", "ts"])["value"].mean().reset_index()
    missing = [d.isoformat() for d in days if d not in set(ahead["bj_day"])]
    if missing:
        out["message"] = f"beyond the {int(issue['horizon_h'].max())} h horizon of this issue: {', '.join(missing)}"
    return out


def city_forecast(city: pd.DataFrame, cities: set[str], issued_at: str | None, names) -> list[dict]:
    """The area's cities in gold.forecast_city_daily of the issue the forecast section shows:
    per city and Beijing day the AQI, its range over the city's stations, level and primary
    pollutant, as the public city forecasts give them."""
    if city.empty or issued_at is None:
        return []
    issue = pd.Timestamp(issued_at.removesuffix(" UTC"), tz="UTC")
    mine = city[city["city_code"].isin(cities) & (pd.to_datetime(city["issued_at"], utc=True) == issue)]
    return [{"city": names.name(r.city_code), "day": pd.Timestamp(r.day).date().isoformat(), "aqi": r.aqi,
             "range": f"{r.aqi_p10:.0f}-{r.aqi_p90:.0f}" if pd.notna(r.aqi_p10) else "", "category": r.category,
             "primary": r.primary_pollutant or "", "stations": r.n_stations}
            for r in mine.sort_values(["city_code", "day"]).itertuples()]


def skill_summary(skill: pd.DataFrame, cities: set[str]) -> dict:
    """The week's issues scored as far as they have come true, for the area's cities: SMAPE of
    the forecast, persistence and climatology per target and horizon block (n-weighted over the
    gold.forecast_skill rows), and the city-day AQI level and primary-pollutant accuracy."""
    out: dict = {"rows": [], "issues": 0, "levels": None}
    mine = skill[skill["city_code"].isin(cities)] if not skill.empty else skill
    if mine.empty:
        return out
    out["issues"] = int(mine["issued_at"].nunique())
    hours = mine[mine["grain"] == "station_hour"].assign(block=lambda d: d["horizon_h"].map(block_of))
    for (target, block), g in hours.groupby(["target", "block"]):
        n = g["n"].sum()
        wc = g["n_climatology"].sum()
        clim = (g["climatology_smape"] * g["n_climatology"]).sum() / wc if wc else None
        out["rows"].append({"target": target, "block": block, "n": int(n), "model": (g["smape"] * g["n"]).sum() / n,
                            "persistence": (g["persistence_smape"] * g["n"]).sum() / n, "climatology": clim})
    order = {b: i for i, b in enumerate(f"{lo}-{hi}" for lo, hi in HORIZON_BLOCKS)}
    out["rows"].sort(key=lambda r: (r["target"], order[r["block"]]))
    days = mine[mine["grain"] == "city_day"]
    if not days.empty:
        out["levels"] = {"n": len(days), "level": float(days["level_hit"].mean()),
                         "persistence": float(days["persistence_level_hit"].mean()), "primary": float(days["primary_hit"].mean())}
    return out


def qc_summary(flags: pd.DataFrame, screening: pd.DataFrame, ids: set[str], names: dict[str, str]) -> dict:
    """QC flags over the period by rule and level, and the falsification screening's station-days."""
    fl = flags[flags["station_id"].isin(ids)] if not flags.empty else flags
    out: dict = {"rules": [], "levels": {lv: 0 for lv in LEVELS}, "stations_flagged": 0, "errors": [],
                 "screened": 0, "worth_a_look": 0, "reasons": {}, "top": [], "message": None}
    if not fl.empty:
        pivot = fl.pivot_table(index="rule", columns="level", values="station_id", aggfunc="count", fill_value=0)
        pivot = pivot.reindex(columns=list(LEVELS), fill_value=0)
        pivot["total"] = pivot.sum(axis=1)
        out["rules"] = [{"rule": r, **{k: int(v) for k, v in row.items()}} for r, row in pivot.sort_values("total", ascending=False).iterrows()]
        out["levels"] = {lv: int(pivot[lv].sum()) for lv in LEVELS}
        out["stations_flagged"] = int(fl["station_id"].nunique())
        err = fl[fl["level"] == "ERROR"].sort_values("ts_from").head(10)
        out["errors"] = [{"station": f"{names.get(r.station_id) or ''} ({r.station_id})", "parameter": r.parameter,
                          "from": pd.Timestamp(r.ts_from).strftime("%Y-%m-%d %H:%M"), "rule": r.rule, "detail": r.detail}
                         for r in err.itertuples()]
    sc = screening[screening["station_id"].isin(ids)] if not screening.empty else screening
    if not sc.empty:
        look = sc[sc["score"] >= 1]
        out["screened"], out["worth_a_look"] = len(sc), len(look)
        out["reasons"] = {str(k): int(v) for k, v in look["reason"].value_counts().items()}
        out["top"] = [{"station": f"{names.get(r.station_id) or ''} ({r.station_id})", "day": str(r.day), "score": float(r.score),
                       "reason": r.reason, "rank": None if pd.isna(r.rank) else int(r.rank)}
                      for r in sc.sort_values("score", ascending=False).head(5).itertuples()]
    if fl.empty and sc.empty:
        out["message"] = "no QC flag and no screening row for this area's stations in the period"
    return out


def _utc(ts: object) -> str:
    return pd.Timestamp(ts).strftime("%Y-%m-%d %H:%M UTC")  # type: ignore[arg-type]


def upwind_summary(up: pd.DataFrame, ids: set[str], names: dict[str, str]) -> dict:
    """Upwind attributions of episodes at the area's receptors that overlap the period."""
    mine = up[up["receptor_id"].isin(ids)] if not up.empty else up
    if mine.empty:
        return {"episodes": [], "message": "no upwind attribution of an episode in this area overlaps the period"}
    eps = []
    for (rid, f, t, pol), g in mine.groupby(["receptor_id", "from_ts", "to_ts", "pollutant"]):
        top = g.sort_values(["candidate_kind", "rank"]).groupby("candidate_kind").head(3)
        eps.append({"receptor": f"{names.get(rid) or rid} ({rid})", "from": _utc(f), "to": _utc(t), "pollutant": pol,
                    "sector": g["sector_label"].iloc[0],
                    "candidates": [f"{r.rank}. {r.candidate_name} ({r.candidate_kind}, score {r.score:.3g})" for r in top.itertuples()]})
    return {"episodes": eps, "message": None}


def _entity_in_area(results: pd.DataFrame, area: Area, stations: pd.DataFrame, sections: pd.DataFrame) -> pd.Series:
    """Which scenario result rows describe something inside the area."""
    if area.tier == "national":
        return pd.Series(True, index=results.index)
    col = "province_code" if area.tier == "province" else "city_code"
    st = area_stations(stations, area)
    cells = {str(int(c)) for c in pd.concat([st["h3_r7"], st["h3_r9"]]).dropna()}
    secs = set(sections.loc[in_area(sections[col], area.prefix), "section_id"]) if not sections.empty else set()
    kind, ent = results["entity_kind"], results["entity_id"].astype(str)
    return ((kind == "region") & in_area(ent, area.prefix)) | ((kind == "section") & ent.isin(secs)) | (
        kind.str.startswith("hex_") & ent.str.split(":").str[0].isin(cells)) | ((kind == "station") & ent.isin(set(st["station_id"])))


def scenario_summary(results: pd.DataFrame, area: Area, stations: pd.DataFrame, sections: pd.DataFrame,
                     per_output: int = 3) -> dict:
    """The latest run of each scenario spec (by name), with its results inside the area: totals
    first, then the `per_output` largest effects of each output."""
    if results.empty:
        return {"scenarios": [], "message": "gold.scenario_results is empty: no scenario has been run"}
    latest = results.sort_values("run_at").groupby("name")["scenario_id"].last()
    out = []
    for name, sid in latest.items():
        rows = results[results["scenario_id"] == sid]
        spec = json.loads(rows["spec"].iloc[0]) if isinstance(rows["spec"].iloc[0], str) else {}
        inside = rows[_entity_in_area(rows, area, stations, sections)]
        picked = pd.concat([inside[inside["entity_kind"] == "total"],
                            inside[inside["entity_kind"] != "total"].assign(_m=lambda d: d["mean"].abs())
                            .sort_values("_m", ascending=False).groupby("output").head(per_output)])
        picked = picked.assign(_t=picked["entity_kind"] != "total").sort_values(["output", "_t"], kind="stable")
        period = spec.get("period") or {}
        out.append({"name": name, "kind": rows["kind"].iloc[0], "scenario_id": sid, "draws": int(rows["draws"].iloc[0]),
                    "run_at": pd.Timestamp(rows["run_at"].iloc[0]).strftime("%Y-%m-%d %H:%M UTC"),
                    "period": f"{period.get('from', '?')} to {period.get('to', '?')}" if period else "",
                    "n_rows": len(rows), "n_inside": len(inside),
                    "rows": [{k: r[k] for k in ("output", "entity_kind", "entity_id", "nominal", "mean", "p05", "p95", "unit")}
                             for _, r in picked.iterrows()],
                    "message": None if len(inside) else "none of this run's results falls inside the area"})
    return {"scenarios": out, "message": None}
