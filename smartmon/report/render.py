"""Render a report's sections to HTML and Markdown with Jinja2.

Both formats are built from the same Section/Table objects, so they carry the same numbers and
the same PNG files (linked by relative name: the folder can be moved or served as it is). The
HTML has its CSS inline and loads nothing else, so it opens offline and a headless browser sees
no failed request."""

from __future__ import annotations

import re

from jinja2 import Environment, StrictUndefined, select_autoescape

from smartmon.report.tables import (
    NA,
    Section,
    Table,
    category_table,
    dict_table,
    num,
    pct,
    ranking_table,
    sig,
    text,
    yes,
)
from smartmon.report.templates import HTML, MARKDOWN


def _headline(ctx: dict) -> Section:
    h, per, area = ctx["s"]["headline"], ctx["period"], ctx["area"]
    s = Section("headline", "Headline", "概况")
    if area.note:
        s.say(f"Note: {area.note}.")
    if h["city_day"]:
        d = h["city_day"]
        s.say(f"City AQI on {per.label}: {num(d['aqi'])} ({text(d['category'])}), primary pollutant "
                            f"{text(d['primary_pollutant'])}; PM2.5 {num(d['pm25'])} ug/m3 (mean of {d['n_stations']} "
                            f"national stations).")
    if h["eval"]:
        e = h["eval"]
        rank = "" if area.tier == "national" else (f"rank {num(e['rank'])} of {h['eval_of']} "
                                                    f"{'cities' if area.tier == 'city' else 'provinces'} (1 = cleanest), ")
        s.say(f"HJ 663 evaluation of {per.start:%Y-%m}: comprehensive index {num(e['comprehensive_index'], 2)}, "
                            f"{rank}primary pollutant {text(e['primary_pollutant'])}, "
                            f"good days {num(e['good_days'])} of {num(e['aqi_days'])} ({pct(e['good_share'])}), exceedance "
                            f"days {num(e['exceedance_days'])}; {'valid' if yes(e['valid']) else 'NOT valid'} "
                            f"(enough days for every statistic).")
    s.say(f"{h['units_with_aqi']} {h['unit_label']} with an AQI: {h['unit_exceedance']} above AQI 100 "
                        f"(exceedance). Primary pollutants: {_counts(h['unit_primary'])}.")
    s.say(f"{h['stations_with_aqi']} station-days with an AQI; {h['station_exceedance_rows']} with a pollutant "
                        f"above its GB 3095 24 h / 8 h limit ({_counts(h['station_exceedances'])}). Primary pollutants: "
                        f"{_counts(h['station_primary'])}.")
    t = category_table(h["unit_counts"], h["unit_label"])
    t.caption = f"AQI categories of the area's {h['unit_label']} (city AQI from the mean of its national stations)"
    s.table(t)
    t = category_table(h["station_counts"], "station-days")
    t.caption = "AQI categories of the area's stations (every tier reporting to gold.aqi_daily)"
    s.table(t)
    m = h["means"]
    means = Table(["PM2.5", "PM10", "SO2", "NO2", "CO (mg/m3)", "O3 8h max"],
                  caption="Area mean of the daily values over the period, ug/m3 (gold.region_daily, every tier)")
    means.add([num(m["pm25"], 1), num(m["pm10"], 1), num(m["so2"], 1), num(m["no2"], 1), num(m["co"], 2), num(m["o3_8h_max"], 1)])
    s.table(means)
    for key, alt in (("hexmap", "H3 hex map of mean PM2.5"), ("series", "daily PM2.5, PM10 and station AQI categories")):
        if key in ctx["charts"]:
            s.image(ctx["charts"][key], alt)
    return s


def _counts(d: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items()) or "none"


def _rankings(ctx: dict) -> Section:
    s = Section("rankings", "Rankings", "城市排名")
    if ctx["s"]["position"]:
        s.say(f"{ctx['area_name']} ({ctx['area'].code}): {ctx['s']['position']}.")
    for b in ctx["s"]["rankings"]:
        if len(b["rows"]):
            s.table(ranking_table(b))
        else:
            s.say(f"{b['title']}: no ranked unit for this period.")
    if "ranking" in ctx["charts"]:
        s.image(ctx["charts"]["ranking"], "ranking bar chart")
    if not s.tables:
        s.message = "no city or county of this area has a ranked value for the period"
    return s


def _aqi(ctx: dict) -> Section:
    rows = ctx["s"]["worst_stations"]
    s = Section("aqi", "AQI summary: stations", "AQI 站点")
    if not rows:
        s.message = "no station of this area has a daily AQI in the period"
    elif ctx["period"].kind == "day":
        s.table(dict_table(["station", "city", "AQI", "category", "primary", "PM2.5"], rows,
                           ["station", "city", "aqi", "category", "primary", "pm25"], {"aqi": num, "pm25": num},
                           caption="Stations with the highest daily AQI"))
    else:
        s.table(dict_table(["station", "city", "days AQI > 100", "days with AQI", "mean AQI", "mean PM2.5"], rows,
                           ["station", "city", "exceedance_days", "days", "mean_aqi", "pm25"],
                           {"exceedance_days": num, "days": num, "mean_aqi": lambda v: num(v, 1), "pm25": lambda v: num(v, 1)},
                           caption="Stations with the most days above AQI 100"))
    return s


def _water(ctx: dict) -> Section:
    w = ctx["s"]["water"]
    s = Section("water", "Surface water classes", "水质类别", message=w["message"])
    if w["sections"]:
        s.say(f"{w['meets']['n']} of {w['meets']['of']} sections meet their target class (GB 3838 single-factor "
                            f"evaluation, worst parameter).")
        t = Table(["class", "sections"], caption="Sections per class")
        for c in w["classes"]:
            t.add([c["name"], num(c["count"])])
        s.table(t)
        s.table(dict_table(["section", "name", "class", "target", "meets", "worst parameters", "parameters",
                           "values", "excluded (ERROR)"], w["sections"],
                           ["station_id", "name", "section_class_name", "target_class", "meets_target",
                           "worst_parameters", "parameters", "n_values", "n_excluded"],
                           {"target_class": num, "n_values": num, "n_excluded": num,
                           "meets_target": lambda v: "yes" if yes(v) else "no"}))
        if "water" in ctx["charts"]:
            s.image(ctx["charts"]["water"], "sections per GB 3838 class")
    return s


def _forecast(ctx: dict) -> Section:
    f = ctx["s"]["forecast"]
    s = Section("forecast", f"Forecast: {f['days'][0]} to {f['days'][-1]}", "未来三天预报")
    if not f["rows"]:
        s.message = f["message"]
        if f["issued_at"]:
            s.say(f"Models of that issue: {', '.join(f['models'])}.")
        if ctx["s"]["skill"]["rows"]:
            _skill(s, ctx["s"]["skill"])
        return s
    s.say(f"Latest issue on or before {ctx['period'].end}: {f['issued_at']} ({', '.join(f['models'])}).")
    t = dict_table(["target", "Beijing day", "area mean", "station min", "station max", "hours", "stations", "category"],
                   f["rows"], ["target", "day", "mean", "min", "max", "hours", "stations", "category"],
                   {"mean": lambda v: num(v, 1), "min": lambda v: num(v, 1), "max": lambda v: num(v, 1), "hours": num,
                    "stations": num})
    t.colour_col = 7
    t.caption = ("Forecast daily means, ug/m3 (station min/max: of the stations' daily means; category: PM as a 24 h "
                 "mean, only for days the issue covers in full)")
    s.table(t)
    if f["message"]:
        s.say(f"Not covered: {f['message']}.")
    if ctx["s"]["city_forecast"]:
        t = dict_table(["city", "Beijing day", "AQI", "stations' range", "category", "primary pollutant", "stations"],
                       ctx["s"]["city_forecast"], ["city", "day", "aqi", "range", "category", "primary", "stations"],
                       {"aqi": num, "stations": num})
        t.caption = ("City forecast as published (gold.forecast_city_daily): daily AQI of the city's mean forecast "
                     "concentrations (HJ 633; SO2 and CO not forecast), range: 10th-90th percentile of its stations' AQIs")
        s.table(t)
    if "forecast" in ctx["charts"]:
        s.image(ctx["charts"]["forecast"], "forecast area mean per hour")
    _skill(s, ctx["s"]["skill"])
    return s


def _skill(s: Section, k: dict) -> None:
    """The week's skill beside the forecast (gold.forecast_skill)."""
    if not k["rows"]:
        s.say("Skill: no issue of the week before has come true for this area yet (gold.forecast_skill).")
        return
    s.say(f"Skill of the {k['issues']} issue(s) of the week before, as far as their hours have come true "
          f"(SMAPE, lower is better; persistence and climatology on the same pairs):")
    t = dict_table(["target", "hours ahead", "pairs", "forecast", "persistence", "climatology"], k["rows"],
                   ["target", "block", "n", "model", "persistence", "climatology"],
                   {"n": num, "model": lambda v: num(v, 3), "persistence": lambda v: num(v, 3),
                    "climatology": lambda v: num(v, 3) if v is not None else ""})
    t.caption = "gold.forecast_skill, station-hours of the area's cities"
    s.table(t)
    if k["levels"]:
        lv = k["levels"]
        s.say(f"City AQI level right on {lv['level']:.0%} of {lv['n']} city-days (persistence {lv['persistence']:.0%}); "
              f"primary pollutant right on {lv['primary']:.0%}.")


def _qc(ctx: dict) -> Section:
    q = ctx["s"]["qc"]
    s = Section("qc", "Quality control and anomalies", "质控与异常", message=q["message"])
    if q["rules"]:
        lv = q["levels"]
        s.say(f"{sum(lv.values())} QC flags on {q['stations_flagged']} stations overlap the period: "
                            f"{lv['ERROR']} ERROR (values left out of gold), {lv['WARNING']} WARNING, {lv['INFO']} INFO.")
        s.table(dict_table(["rule", "ERROR", "WARNING", "INFO", "total"], q["rules"],
                           ["rule", "ERROR", "WARNING", "INFO", "total"],
                           {k: num for k in ("ERROR", "WARNING", "INFO", "total")}))
    if q["errors"]:
        s.table(dict_table(["station", "parameter", "from (UTC)", "rule", "detail"], q["errors"],
                           ["station", "parameter", "from", "rule", "detail"],
                           caption="ERROR flags (first 10)"))
    if q["screened"]:
        s.say(f"Falsification screening: {q['screened']} station-days screened, {q['worth_a_look']} with a "
                            f"score >= 1 (worth a look){': ' + _counts(q['reasons']) if q['reasons'] else ''}.")
        s.table(dict_table(["station", "day", "score", "reason", "national rank"], q["top"],
                           ["station", "day", "score", "reason", "rank"], {"score": lambda v: num(v, 2), "rank": num},
                           caption="Most suspicious station-days"))
    up = ctx["s"]["upwind"]
    if up["episodes"]:
        for e in up["episodes"]:
            s.say(f"Upwind attribution, {e['receptor']} {e['pollutant']} {e['from']} to {e['to']}, sector "
                                f"{e['sector']}: " + "; ".join(e["candidates"]))
    else:
        s.say(f"Upwind attribution: {up['message']}.")
    return s


def _scenarios(ctx: dict) -> Section:
    sc = ctx["s"]["scenarios"]
    s = Section("scenarios", "Scenario results", "情景模拟", message=sc["message"])
    for x in sc["scenarios"]:
        s.say(f"{x['name']} ({x['kind']}, scenario {x['scenario_id']}, period {x['period']}, {x['draws']} draws, "
                            f"run {x['run_at']}): {x['n_inside']} of {x['n_rows']} result rows inside the area"
                            + (f"; {x['message']}." if x["message"] else "."))
        if x["rows"]:
            s.table(dict_table(["output", "entity kind", "entity", "nominal", "mean", "p05", "p95", "unit"], x["rows"],
                               ["output", "entity_kind", "entity_id", "nominal", "mean", "p05", "p95", "unit"],
                               {k: sig for k in ("nominal", "mean", "p05", "p95")},
                               caption=f"{x['name']}: totals, then the largest effects per output"))
    return s


def _coverage(ctx: dict) -> Section:
    c = ctx["s"]["coverage"]
    s = Section("coverage", "Data coverage", "数据覆盖", message=c["message"])
    if c["rows"]:
        fm = {"registered": num, "reporting": num, "with_aqi": num, "pm25_hours": num, "possible_hours": num, "share": pct}
        keys = ["tier", "registered", "reporting", "with_aqi", "pm25_hours", "possible_hours", "share"]
        s.table(dict_table(["tier", "registered", "reporting", "with AQI", "valid PM2.5 hours", "possible hours", "share"],
                           [*c["rows"], {"tier": "all", **c["total"]}], keys, fm,
                           caption=f"Monitoring stations of the area over {c['days']} day(s): registry (silver.stations) against gold.aqi_daily"))
    versions = ", ".join(f"{k} v{v}" for k, v in ctx["versions"])
    s.say(f"Built {ctx['generated']} from the lake at {ctx['lake']} (Delta versions read: {versions or NA}).")
    return s


def sections(ctx: dict) -> list[Section]:
    """The report's sections in order; both formats render exactly these."""
    return [_headline(ctx), _rankings(ctx), _aqi(ctx), _water(ctx), _forecast(ctx), _qc(ctx), _scenarios(ctx), _coverage(ctx)]


def _env(html: bool) -> Environment:
    env = Environment(autoescape=select_autoescape(default_for_string=html, default=html), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["fg"] = _foreground
    # right-align figures; a bare 6-digit string is an admin code (num() writes 100,000 with a comma)
    env.filters["isnum"] = lambda c: bool(_NUMERIC.fullmatch(str(c))) and not re.fullmatch(r"\d{6}", str(c))
    return env


_NUMERIC = re.compile(r"[-+]?[\d,]*\.?\d+(e[-+]?\d+)?( %)?|–")


def _foreground(colour: str) -> str:
    """Black or white text, whichever reads better on the category colour."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#000000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#ffffff"


def _md_cell(v: object) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def render_html(ctx: dict) -> str:
    """Self-contained HTML (inline CSS, no script, images by relative name)."""
    return _env(True).from_string(HTML).render(**ctx, sections=sections(ctx))


def render_markdown(ctx: dict) -> str:
    """GitHub-flavoured Markdown with the same tables and images."""
    env = _env(False)
    env.filters["cell"] = _md_cell
    return env.from_string(MARKDOWN).render(**ctx, sections=sections(ctx))
