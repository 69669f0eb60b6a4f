"""Build a consultation (会商) report: read the lake, compose the sections, draw the charts,
render HTML and Markdown into reports/<tier>-<code>/<period>-<date>/."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from smartmon.report import charts
from smartmon.report.area import Area, Period, make_period, resolve_area
from smartmon.report.compose import Content, compose
from smartmon.report.data import LakeReader, load_inputs, read_stations
from smartmon.report.hexcells import DISPLAY_RES
from smartmon.report.names import AdminNames, load_admin_names
from smartmon.report.render import render_html, render_markdown

log = logging.getLogger(__name__)
MAP_MIN_SPAN = {"national": 0.0, "province": 2.5, "city": 1.6}  # degrees of latitude shown at least


@dataclass
class ReportResult:
    """Where the report went and what it says in a few numbers (the CLI prints this)."""

    folder: Path
    html: Path
    markdown: Path
    pngs: list[Path] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    seconds: float = 0.0


def default_out_root() -> Path:
    """reports/ in the repo (ignored by git, removed by `make clean`)."""
    from smartmon.config import base_dir

    return base_dir() / "reports"


def _admin_dir() -> Path | None:
    """The GB/T 2260 lists of the data root (shared data, else the bundled sample)."""
    from smartmon.config import default_data_root
    from smartmon.errors import ConfigError

    try:
        return default_data_root() / "china_admin_divisions"
    except ConfigError as exc:
        log.warning("no data root for the GB/T 2260 names (%s): areas are named by code", exc)
        return None


def known_codes(names: AdminNames, stations: pd.DataFrame) -> set[str]:
    """Codes an area may be asked by: the GB/T 2260 lists and every code the registry uses."""
    codes = set(names.codes)
    for col in ("province_code", "city_code", "county_code"):
        if col in stations:
            codes |= set(stations[col].dropna().astype(str))
    return codes


def build_report(lake_root: str, tier: str, code: str, day: date, period: str = "day", out_dir: Path | None = None,
                 *, admin_dir: Path | None = None) -> ReportResult:
    """Build the report of one area (tier + GB/T 2260 code) for the day or the month of `day`.

    Raises UnknownAreaError (a SmartmonError) naming the code when the tier/code pair is not an
    area; a section without data for the area and period says so in the report instead."""
    t0 = time.monotonic()
    names = load_admin_names(admin_dir if admin_dir is not None else _admin_dir())
    reader = LakeReader(lake_root)
    stations = read_stations(reader)
    area = resolve_area(tier, code, known_codes(names, stations))
    per = make_period(day, period)
    inputs = load_inputs(reader, area, per, stations)
    names.add_missing(inputs.eval_monthly.get("code", pd.Series(dtype=str)), inputs.eval_monthly.get("name", pd.Series(dtype=str)))
    content = compose(inputs, area, per, names)
    folder = Path(out_dir or default_out_root()) / area.slug / f"{per.kind}-{per.label}"
    folder.mkdir(parents=True, exist_ok=True)
    area_name = names.name(area.code)
    pngs = _draw(content, area, per, area_name, folder, names)
    shown_root = lake_root if "://" in lake_root else str(Path(lake_root).resolve())
    context = _context(content, area, per, area_name, inputs.versions, shown_root, pngs)
    html = folder / "report.html"
    md = folder / "report.md"
    html.write_text(render_html(context), encoding="utf-8")
    md.write_text(render_markdown(context), encoding="utf-8")
    seconds = time.monotonic() - t0
    result = ReportResult(folder, html, md, sorted(pngs.values()), _summary(content, area, per, area_name), seconds)
    log.info("report %s %s %s written to %s in %.1f s", area.slug, per.kind, per.label, folder, seconds)
    return result


def _draw(c: Content, area: Area, per: Period, area_name: str, folder: Path, names: AdminNames) -> dict[str, Path]:
    """Draw every chart that has data; returns name -> path of those written."""
    landmarks = tuple(names.seats_in(area.prefix, area.landmark_level))
    for old in folder.glob("*.png"):  # a chart without data this time must not linger from a run before
        old.unlink()
    place = "China" if area.tier == "national" else charts.chart_name(names.short(area.code), names.pinyin_names.get(area.code))
    where = f"{place} ({area.code})"
    drawn = {
        "hexmap": charts.hex_map(charts.HexMap(c.hex_area, c.hex_context, DISPLAY_RES[area.tier],
                                               f"PM2.5 mean per H3 cell, {where}, {per.label}", per.end,
                                               MAP_MIN_SPAN[area.tier], landmarks), folder / "hexmap.png"),
        "series": charts.series_chart(c.series, c.series_categories, f"Daily air quality, {where}, "
                                      f"{per.series_start} to {per.end}", per.day if per.kind == "day" else None,
                                      folder / "series.png", (per.series_start, per.end)),
        "water": charts.water_chart(c.sections["water"]["classes"], f"Water sections by GB 3838 class, {where}, {per.label}",
                                    folder / "water.png"),
        "forecast": charts.forecast_chart(c.sections["forecast"]["hourly"], f"Forecast area mean, issued "
                                          f"{c.sections['forecast']['issued_at']}", folder / "forecast.png"),
    }
    if c.ranking_chart is not None:
        b = c.ranking_chart
        value, xlabel, decimals = (("aqi", "AQI", 0) if b["kind"] == "day" else
                                   ("comprehensive_index", "HJ 663 comprehensive index", 2) if b["kind"] == "month" else
                                   ("pm25", "mean PM2.5, ug/m3", 1))
        drawn["ranking"] = charts.ranking_chart(b["rows"], value, f"{b['title']}: {where}, {per.label}", xlabel,
                                                folder / "ranking.png", decimals=decimals)
    return {k: v for k, v in drawn.items() if v is not None}


def _context(c: Content, area: Area, per: Period, area_name: str, versions: dict[str, int], lake_root: str,
             pngs: dict[str, Path]) -> dict:
    return {
        "area": area, "area_name": area_name, "period": per, "s": c.sections,
        "charts": {k: p.name for k, p in pngs.items()},
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "lake": lake_root, "versions": sorted(versions.items()),
        "tier_zh": {"national": "全国", "province": "省级", "city": "城市"}[area.tier],
        "period_zh": {"day": "日报", "month": "月报"}[per.kind],
    }


def _int(v: object) -> int | None:
    return None if v is None or pd.isna(v) else int(v)  # type: ignore[arg-type, call-overload]


def _summary(c: Content, area: Area, per: Period, area_name: str) -> dict:
    """A few numbers for the command line and logs."""
    s = c.sections
    h = s["headline"]
    ranked = s["rankings"][0]["rows"] if s["rankings"] else pd.DataFrame()
    out = {
        "area": f"{area.tier} {area.code} {area_name}", "period": f"{per.kind} {per.label}",
        "stations_reporting": s["coverage"]["total"]["reporting"], "stations_registered": s["coverage"]["total"]["registered"],
        "station_categories": {r["english"]: r["count"] for r in h["station_counts"] if r["count"]},
        "mean_pm25": None if h["means"]["pm25"] is None else round(h["means"]["pm25"], 1),
        "qc_flags": sum(s["qc"]["levels"].values()), "forecast": s["forecast"]["message"] or f"issued {s['forecast']['issued_at']}",
        "water_sections": len(s["water"]["sections"]),
    }
    if h["city_day"]:
        out["city_aqi"] = f"{h['city_day']['aqi']} {h['city_day']['category']}"
    if h["eval"]:
        e = h["eval"]
        out["hj663"] = {"index": e.get("comprehensive_index"), "rank": _int(e.get("rank")),
                        "good_share": None if pd.isna(e.get("good_share")) else round(float(e["good_share"]), 3),
                        "exceedance_days": _int(e.get("exceedance_days"))}
    if not ranked.empty and "area_rank" in ranked and ranked["area_rank"].notna().sum() > 1:
        best = ranked.iloc[0]
        last = ranked[ranked["area_rank"].notna()].iloc[-1]
        out["best_worst"] = f"{best['name']} (1) .. {last['name']} ({int(last['area_rank'])})"
    if s["position"]:
        out["position"] = s["position"]
    if area.note:
        out["note"] = area.note
    return out
