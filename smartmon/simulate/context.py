"""External context feeds: hydrology (section flow), county statistics, land use per H3 cell.

Assumptions (README, "Simulated feeds"):
- Flow: a headwater flow lognormal around 8 m3/s (the small rivers of the north China plain); every section adds a tributary inflow of 10-40 %
  of what reaches it plus the wastewater its dischargers sent in the day; a day-to-day multiplier
  follows a random walk (sigma 10 %). Stage (m) = 0.8 * Q ** 0.4. Daily means, UTF-8, Chinese headers.
- Statistics: county GDP lognormal around 300 (10^8 yuan) and resident population around 50
  (10^4 people); urban districts (names ending 区) twice that.
- Land use: every H3 res-6 cell holding a station or an enterprise; built-up share 0.7 * exp(-d/6 km)
  from the county seat, water U(0, 8 %), the rest split cropland / forest / grassland / unused by a
  Dirichlet(4, 3, 2, 1) draw. Shares sum to 1.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import h3
import numpy as np
import pandas as pd

from smartmon.simulate.network import Network, nearest
from smartmon.simulate.reference import Counties


def write_sections(out: Path, sections: pd.DataFrame) -> None:
    folder = out / "hydrology"
    folder.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame({"断面编码": sections["section_id"], "断面名称": sections["name"], "河流": sections["river"],
                       "序号": sections["seq"], "下游断面": sections["downstream_id"], "区县代码": sections["county_code"],
                       "经度": sections["lon"], "纬度": sections["lat"], "目标水质": sections["target_class"]})
    df.to_csv(folder / "sections.csv", index=False)


def write_flow(out: Path, rng: np.random.Generator, net: Network, days: list[date], wastewater_m3_day: dict[tuple[str, date], float]) -> int:
    sec = net.sections
    head = {r: float(np.exp(rng.normal(np.log(8), 0.6))) for r in sec["river"].unique()}
    tributary = rng.uniform(0.1, 0.4, len(sec))
    walk = np.ones(len(sec))
    rows = []
    for d in days:
        walk *= np.exp(rng.normal(0, 0.1, len(sec)))
        flow_in: dict[str, float] = {}
        for i, s in enumerate(sec.itertuples()):
            upstream = flow_in.get(s.river, head[s.river] * walk[i])
            q = upstream * (1 + tributary[i]) + wastewater_m3_day.get((s.section_id, d), 0.0) / 86400
            flow_in[s.river] = q
            rows.append((s.section_id, f"{d:%Y-%m-%d}", f"{q:.3f}", f"{0.8 * q ** 0.4:.2f}"))
    df = pd.DataFrame(rows, columns=["断面编码", "日期", "流量(立方米每秒)", "水位(米)"])
    df["m"] = df["日期"].str[:7].str.replace("-", "")
    for month, part in df.groupby("m"):
        part.drop(columns="m").to_csv(out / "hydrology" / f"flow_{month}.csv", index=False)
    return len(df)


def write_statistics(out: Path, rng: np.random.Generator, cty: Counties, codes: set[str], year: int) -> dict[str, float]:
    idx = np.flatnonzero(np.isin(cty.code, sorted(codes)))
    urban = np.char.endswith(cty.name[idx].astype(str), "区")
    factor = np.where(urban, 2.0, 1.0)
    gdp = np.exp(rng.normal(np.log(300), 0.7, len(idx))) * factor
    pop = np.exp(rng.normal(np.log(50), 0.5, len(idx))) * factor
    df = pd.DataFrame({"区县代码": cty.code[idx], "区县名称": cty.name[idx], "年份": year,
                       "地区生产总值(亿元)": np.round(gdp, 2), "常住人口(万人)": np.round(pop, 2)})
    folder = out / "statistics"
    folder.mkdir(parents=True, exist_ok=True)
    df.to_csv(folder / f"county_{year}.csv", index=False)
    return dict(zip(df["区县代码"], df["常住人口(万人)"], strict=True))


def write_land_use(out: Path, rng: np.random.Generator, net: Network, cty: Counties, year: int) -> int:
    lat = np.concatenate([net.stations["lat"].to_numpy(), net.enterprises["lat"].to_numpy()])
    lon = np.concatenate([net.stations["lon"].to_numpy(), net.enterprises["lon"].to_numpy()])
    cells = sorted({h3.latlng_to_cell(a, b, 6) for a, b in zip(lat.tolist(), lon.tolist(), strict=True)})
    centre = np.array([h3.cell_to_latlng(c) for c in cells])
    _, km = nearest(centre[:, 0], centre[:, 1], cty.lat, cty.lon)
    built = 0.7 * np.exp(-km / 6.0)
    water = rng.uniform(0, 0.08, len(cells))
    rest = rng.dirichlet([4, 3, 2, 1], len(cells)) * (1 - built - water)[:, None]
    shares = np.column_stack([rest[:, 0], rest[:, 1], rest[:, 2], water, built, rest[:, 3]])
    shares = np.round(shares, 4)
    shares[:, 0] = np.round(1 - shares[:, 1:].sum(axis=1), 4)  # cropland takes the rounding: printed shares sum to 1
    df = pd.DataFrame(shares, columns=["cropland", "forest", "grassland", "water", "built_up", "unused"])
    df.insert(0, "year", year)
    df.insert(0, "h3_r6", cells)
    folder = out / "land-use"
    folder.mkdir(parents=True, exist_ok=True)
    df.to_csv(folder / f"land_use_r6_{year}.csv", index=False, float_format="%.4f")
    return len(df)


def date_range(start: date, days: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(days)]
