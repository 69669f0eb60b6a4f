"""Sections as display tables: headers and already-formatted cells, shared by the HTML and the
Markdown template so both say exactly the same numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

NA = "–"


def num(v: object, digits: int = 0) -> str:
    """A number for a table cell; missing values print as a dash."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return NA
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(v)
    return f"{f:,.{digits}f}"


def sig(v: object) -> str:
    """Three significant digits (scenario outputs span 1e-5 to 1e5)."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return NA
    f = float(v)  # type: ignore[arg-type]
    return "0" if f == 0 else f"{f:.3g}"  # no "-0" for a zero effect


def pct(v: object) -> str:
    return NA if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else f"{100 * float(v):.1f} %"  # type: ignore[arg-type]


def yes(v: object) -> bool:
    """Truth of a possibly missing boolean cell (numpy, pandas or Python)."""
    return v is not None and v is not pd.NA and not (isinstance(v, float) and math.isnan(v)) and bool(v)


def text(v: object) -> str:
    return NA if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else str(v)


@dataclass
class Table:
    """headers, rows of cell strings, and per row an optional colour for cell `colour_col`."""

    kind = "table"
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    colours: list[str | None] = field(default_factory=list)
    colour_col: int | None = None
    caption: str = ""

    def add(self, cells: list[str], colour: str | None = None) -> None:
        self.rows.append(cells)
        self.colours.append(colour)


@dataclass
class Para:
    kind = "para"
    text: str


@dataclass
class Image:
    kind = "image"
    file: str
    alt: str


@dataclass
class Section:
    """One numbered section of the report: a message when it has no data, then its items in order."""

    id: str
    title: str
    zh: str
    items: list[Para | Table | Image] = field(default_factory=list)
    message: str | None = None

    def say(self, text: str) -> None:
        self.items.append(Para(text))

    def table(self, t: Table) -> None:
        self.items.append(t)

    def image(self, file: str, alt: str) -> None:
        self.items.append(Image(file, alt))

    @property
    def tables(self) -> list[Table]:
        return [i for i in self.items if isinstance(i, Table)]


def category_table(counts: list[dict], what: str) -> Table:
    t = Table(["category", "类别", "AQI", what, "share"], colour_col=1)
    ranges = ["0-50", "51-100", "101-150", "151-200", "201-300", ">300"]
    for r, rng in zip(counts, ranges):
        t.add([r["english"], r["category"], rng, num(r["count"]), pct(r["share"])], r["colour"])
    if counts and counts[0]["no_aqi"]:
        t.add(["no AQI", "无AQI", NA, num(counts[0]["no_aqi"]), NA])
    return t


def ranking_table(block: dict, limit: int = 10) -> Table:
    """A ranking block; more than 2 x limit rows show the best and the worst `limit`."""
    rows: pd.DataFrame = block["rows"]
    kind = block["kind"]
    national = block["of"] is not None
    if kind == "day":
        t = Table(["rank", "national", "name", "code", "AQI", "category", "primary", "PM2.5", "PM10", "O3 8h", "stations",
                   "HJ 663 month rank"], colour_col=5)
    elif kind == "month":
        t = Table(["rank", "national", "name", "code", "index", "primary", "PM2.5", "good days", "exceedance days",
                   "stations", "valid"])
    else:
        t = Table(["rank", "name", "code", "PM2.5 mean", "AQI mean", "good days", "exceedance days", "days"])
    t.caption = f"{block['title']}: ranked by {block['by']}; {int(rows['area_rank'].notna().sum())} ranked here" + (
        f", {block['of']} nationally" if national else "")
    shown = rows if len(rows) <= 2 * limit else pd.concat([rows.head(limit), rows.tail(limit)])
    for i, (_, r) in enumerate(shown.iterrows()):
        if len(rows) > 2 * limit and i == limit:
            t.add(["…"] * len(t.headers))
        if kind == "day":
            t.add([num(r["area_rank"]), num(r.get("national_rank")), text(r["name"]), r["code"], num(r["aqi"]),
                   text(r["category"]), text(r["primary_pollutant"]), num(r["pm25"]), num(r["pm10"]), num(r["o3_8h_max"]),
                   num(r["n_stations"]), num(r.get("month_rank"))], r["colour"] if isinstance(r["colour"], str) else None)
        elif kind == "month":
            t.add([num(r["area_rank"]), num(r["rank"]), text(r["name"]), r["code"], num(r["comprehensive_index"], 2),
                   text(r["primary_pollutant"]), num(r["pm25"]), f"{num(r['good_days'])} / {num(r['aqi_days'])}",
                   num(r["exceedance_days"]), num(r["n_stations"]), "yes" if yes(r["valid"]) else "no"])
        else:
            t.add([num(r["area_rank"]), text(r["name"]), r["code"], num(r["pm25"], 1), num(r["aqi"], 1),
                   num(r["good_days"]), num(r["exceedance_days"]), num(r["aqi_days"])])
    if kind == "day" and not national:  # counties: no national ranking exists to compare with
        t.headers = [h for i, h in enumerate(t.headers) if i not in (1, 11)]
        t.rows = [[c for i, c in enumerate(r) if i not in (1, 11)] for r in t.rows]
        t.colour_col = 4
    return t


def dict_table(headers: list[str], rows: list[dict], keys: list[str], fmt: dict | None = None, caption: str | None = None) -> Table:
    """Rows of dicts as a table; fmt maps a key to a formatter (default: text)."""
    fmt = fmt or {}
    t = Table(headers, caption=caption) if caption else Table(headers)
    for r in rows:
        t.add([fmt.get(k, text)(r.get(k)) for k in keys], r.get("colour"))
    return t
