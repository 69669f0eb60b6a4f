"""Names of GB/T 2260 areas for the report's headings and tables.

The lake stores codes; people read names. The NBS lists in the data root
(china_admin_divisions/modood_*.csv, also bundled in data/sample) give every province, city and
county name; gold.eval_monthly's `name` fills in where the lists are absent.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

log = logging.getLogger(__name__)
NATION_NAME = "全国"
# Placeholder rows of the lists (municipal districts, county-level cities under a province): the
# lake's own name (gold.eval_monthly) is better than these.
_GENERIC = re.compile(r"^(市辖区|县|省直辖县级行政区划|自治区直辖县级行政区划)$")
_SUFFIX = re.compile(r"^(.{2,}?)(?:(?:[\u4e00-\u9fff]{1,3}族)+|维吾尔|柯尔克孜|哈萨克|蒙古)?"
                     r"(特别行政区|自治区|自治州|自治县|地区|省|市|盟|州|区|县|旗)$")


@dataclass
class AdminNames:
    """code (6 digits) -> name. Municipalities' prefectures (listed as 市辖区) take the province name."""

    names: dict[str, str] = field(default_factory=dict)
    seats: dict[str, tuple[float, float]] = field(default_factory=dict)  # code -> (lon, lat) of its seat

    def seats_in(self, prefix: str, level: str) -> list[tuple[str, str | None, float, float]]:
        """(short name, pinyin, lon, lat) of the seats of the province / city / county units inside the area:
        the map's landmarks, so a few hexagons can be placed at a glance."""
        def level_of(code: str) -> str:
            return "province" if code.endswith("0000") else "city" if code.endswith("00") else "county"

        return [(self.short(c), self.pinyin_names.get(c), lon, lat) for c, (lon, lat) in sorted(self.seats.items())
                if c.startswith(prefix) and level_of(c) == level and c != "000000"]

    short_names: dict[str, str] = field(default_factory=dict)  # code -> 北京, 延边, 阿勒泰 (charts)
    pinyin_names: dict[str, str] = field(default_factory=dict)  # code -> Chaoyang (the lists' own readings)

    def name(self, code: str | None) -> str:
        if not code:
            return ""
        return self.names.get(code, code)

    def short(self, code: str | None) -> str:
        """The short name charts print (北京 for 北京市, 延边 for 延边朝鲜族自治州)."""
        if code in self.short_names:
            return self.short_names[code]
        return short_name(self.name(code))

    @property
    def codes(self) -> set[str]:
        return set(self.names)

    def add_missing(self, codes: pd.Series, names: pd.Series) -> None:
        """Take names from a table (gold.eval_monthly) for codes the lists do not have."""
        for c, n in zip(codes, names):
            if isinstance(c, str) and isinstance(n, str) and n and c not in self.names:
                self.names[c] = n


def short_name(name: str) -> str:
    """Strip the admin suffix: 河北省 -> 河北, 新疆维吾尔自治区 -> 新疆, 怀柔区 -> 怀柔 (2 characters kept)."""
    m = _SUFFIX.match(name or "")
    return m.group(1) if m else (name or "")


def load_admin_names(folder: Path | None) -> AdminNames:
    """Read the NBS lists; an absent folder gives an empty table (codes then stand for names)."""
    out = AdminNames({"000000": NATION_NAME})
    if folder is None or not (folder / "modood_provinces.csv").exists():
        log.warning("no GB/T 2260 name lists at %s: the report names areas by code where the lake has no name", folder)
        return out
    try:
        prov = pd.read_csv(folder / "modood_provinces.csv", dtype=str)
        cities = pd.read_csv(folder / "modood_cities.csv", dtype=str)
        areas = pd.read_csv(folder / "modood_areas.csv", dtype=str)
    except (OSError, ValueError) as exc:
        raise OSError(f"cannot read the GB/T 2260 name lists in {folder}: {exc}") from exc
    pname = dict(zip(prov["code"], prov["name"]))
    out.names.update({f"{c}0000": n for c, n in pname.items()})
    for c, n, p in zip(cities["code"], cities["name"], cities["provinceCode"]):
        if n in ("市辖区", "县"):  # a municipality's prefecture goes by the municipality's name
            out.names[f"{c}00"] = pname.get(p, n)
        elif not _GENERIC.match(n):
            out.names[f"{c}00"] = n
    out.names.update({c: n for c, n in zip(areas["code"], areas["name"]) if not _GENERIC.match(n)})
    xy = folder / "xiangyuecn_ok_data_level3.csv"
    if xy.exists():
        x = pd.read_csv(xy, dtype=str, encoding="utf-8-sig")
        ok = x["ext_id"].notna() & x["name"].notna() & x["ext_id"].str.endswith("000000")
        out.short_names = dict(zip(x.loc[ok, "ext_id"].str[:6], x.loc[ok, "name"]))
        # the lists' readings get heteronyms right where a character-by-character reading does not (朝阳 Chaoyang)
        out.pinyin_names = {c: p.replace(" ", "").capitalize() for c, p in zip(x.loc[ok, "ext_id"].str[:6], x.loc[ok, "pinyin"])
                            if isinstance(p, str)}
    seats = folder / "cpca_adcodes_with_lonlat.csv"
    if seats.exists():
        sd = pd.read_csv(seats, dtype={"adcode": str}).dropna(subset=["longitude", "latitude"])
        out.seats = {a[:6]: (float(x), float(y)) for a, x, y in zip(sd["adcode"], sd["longitude"], sd["latitude"])
                     if a.endswith("000000")}
    return out
