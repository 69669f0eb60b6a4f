"""Where the simulated network stands: stations of every sub-national tier, enterprises, rivers.

Assumptions (README, "Simulated feeds"):
- Stations are placed around real county seats (cpca): provincial, traffic and supersite stations
  within 5 km of a seat, county stations within 8 km, township sensors 5-25 km out. Counties are
  drawn uniformly (without replacement while there are fewer stations than counties).
- Tier shares: provincial 15 %, county 35 %, township 43 %, traffic 5 %, supersite 2 % (at least one
  of each from 5 stations up).
- Each station's signal comes from the nearest real national station (its anchor).
- Enterprises (one per 20 stations, at least 8) sit within 10 km of a county seat; sectors and
  capacities follow SECTORS. Water dischargers drain into the nearest river section.
- Rivers (one per 2,000 stations, at least 2) are chains of 4-8 sections through neighbouring
  county seats, upstream first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from smartmon.geo.distance import EARTH_RADIUS_KM, distance_km
from smartmon.simulate.reference import Counties, NationalStations

TIERS = (  # (code letter, tier, kind, share, max offset km, min offset km)
    ("P", "provincial", "air", 0.15, 5.0, 0.0),
    ("C", "county", "air", 0.35, 8.0, 0.0),
    ("T", "township", "air", 0.43, 25.0, 5.0),
    ("R", "provincial", "traffic", 0.05, 5.0, 0.0),
    ("S", "provincial", "supersite", 0.02, 5.0, 0.0),
)
# sector: (share, HJ 212 ST, capacity range, unit, power kWh per capacity-unit-hour at full load)
SECTORS = {
    "power": (0.15, "31", (50, 1000), "MW", 60.0),        # auxiliary power ~6 % of output
    "steel": (0.15, "31", (50, 800), "t/h", 450.0),
    "cement": (0.20, "31", (50, 500), "t/h", 100.0),
    "coking": (0.10, "31", (20, 200), "t/h", 40.0),
    "chemical": (0.15, "31", (10, 200), "t/h", 300.0),
    "wastewater": (0.15, "32", (500, 20000), "m3/h", 0.3),
    "paper": (0.10, "32", (50, 2000), "m3/h", 2.0),
}


def offsets(rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, lo_km: float, hi_km: float) -> tuple[np.ndarray, np.ndarray]:
    """Points at a uniform bearing and a distance in [lo, hi] km from the given points."""
    n = len(lat)
    d = rng.uniform(lo_km, hi_km, n)
    b = rng.uniform(0, 2 * np.pi, n)
    dlat = np.degrees(d * np.cos(b) / EARTH_RADIUS_KM)
    dlon = np.degrees(d * np.sin(b) / (EARTH_RADIUS_KM * np.cos(np.radians(lat))))
    return np.round(lat + dlat, 5), np.round(lon + dlon, 5)


def nearest(lat: np.ndarray, lon: np.ndarray, to_lat: np.ndarray, to_lon: np.ndarray, chunk: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """(index, km) of the nearest target for every point, by great-circle distance, in chunks."""
    idx = np.empty(len(lat), dtype="int64")
    km = np.empty(len(lat))
    for s in range(0, len(lat), chunk):
        d = distance_km(lat[s:s + chunk, None], lon[s:s + chunk, None], to_lat[None, :], to_lon[None, :])
        idx[s:s + chunk] = d.argmin(axis=1)
        km[s:s + chunk] = d[np.arange(d.shape[0]), idx[s:s + chunk]]
    return idx, km


def _counts(n: int, shares: list[float]) -> list[int]:
    counts = [int(n * s) for s in shares]
    if n >= len(shares):
        counts = [max(1, c) for c in counts]
    counts[2] += n - sum(counts)  # the rest are township sensors (the most numerous tier)
    return counts


def _draw_counties(rng: np.random.Generator, k: int, n_counties: int) -> np.ndarray:
    return rng.choice(n_counties, size=k, replace=k > n_counties)


@dataclass(frozen=True)
class Network:
    stations: pd.DataFrame  # station_id, name, tier, kind, county i, county_code, lat, lon, anchor, anchor_km
    enterprises: pd.DataFrame  # source_id, mn, name, sector, st, capacity, unit, county_code, lat, lon, section_id
    sections: pd.DataFrame  # section_id, name, river, seq, downstream_id, county_code, lat, lon, target_class


def stations(rng: np.random.Generator, n: int, cty: Counties, nat: NationalStations) -> pd.DataFrame:
    parts = []
    for (letter, tier, kind, _, hi, lo), count in zip(TIERS, _counts(n, [t[3] for t in TIERS]), strict=True):
        if count == 0:
            continue
        ci = _draw_counties(rng, count, len(cty.code))
        lat, lon = offsets(rng, cty.lat[ci], cty.lon[ci], lo, hi)
        part = pd.DataFrame({"tier": tier, "kind": kind, "county": ci, "lat": lat, "lon": lon, "letter": letter})
        parts.append(part)
    df = pd.concat(parts, ignore_index=True)
    df["county_code"] = cty.code[df["county"]]
    df = df.sort_values(["letter", "county_code", "lat", "lon"], kind="stable").reset_index(drop=True)
    seq = df.groupby(["letter", "county_code"]).cumcount() + 1
    df["station_id"] = df["letter"] + df["county_code"] + seq.map("{:04d}".format)
    label = {"P": "省控点", "C": "区县站", "T": "乡镇微站", "R": "交通站", "S": "超级站"}
    df["name"] = cty.name[df["county"]] + df["letter"].map(label) + seq.astype(str)
    anchor, km = nearest(df["lat"].to_numpy(), df["lon"].to_numpy(), nat.lat, nat.lon)
    df["anchor"] = nat.ids[anchor]
    df["anchor_idx"] = anchor
    df["anchor_km"] = np.round(km, 2)
    return df.drop(columns="letter")


def rivers(rng: np.random.Generator, n_rivers: int, cty: Counties) -> pd.DataFrame:
    """Chains of sections through neighbouring county seats (greedy nearest unused seat)."""
    used: set[int] = set()
    rows = []
    for r in range(n_rivers):
        if len(used) >= len(cty.code):  # a small region: rivers may share county seats
            used.clear()
        start = int(rng.choice(np.setdiff1d(np.arange(len(cty.code)), list(used))))
        chain = [start]
        used.add(start)
        for _ in range(min(int(rng.integers(4, 9)), len(cty.code) - len(used) + 1) - 1):
            last = chain[-1]
            d = (cty.lat - cty.lat[last]) ** 2 + ((cty.lon - cty.lon[last]) * np.cos(np.radians(cty.lat[last]))) ** 2
            d[list(used)] = np.inf
            nxt = int(d.argmin())
            used.add(nxt)
            chain.append(nxt)
        river = f"R{r + 1:03d}"
        ids = [f"{river}-{k + 1:02d}" for k in range(len(chain))]
        for k, ci in enumerate(chain):
            rows.append(dict(section_id=ids[k], name=f"{cty.name[ci]}断面", river=river, seq=k + 1,
                             downstream_id=ids[k + 1] if k + 1 < len(chain) else "",
                             county_code=cty.code[ci], lat=round(float(cty.lat[ci]), 5), lon=round(float(cty.lon[ci]), 5),
                             target_class=["II", "III", "III", "IV"][int(rng.integers(4))]))
    return pd.DataFrame(rows)


def enterprises(rng: np.random.Generator, n: int, cty: Counties, sections: pd.DataFrame) -> pd.DataFrame:
    names = list(SECTORS)
    share = np.array([SECTORS[s][0] for s in names])
    sector = rng.choice(names, size=n, p=share / share.sum())
    # water dischargers sit near the rivers (so every reach receives some); air sources anywhere
    ci = _draw_counties(rng, n, len(cty.code))
    sec_county = pd.Index(cty.code).get_indexer(sections["county_code"])
    water = np.isin(sector, ["wastewater", "paper"])
    ci[water] = rng.choice(sec_county, size=int(water.sum()))
    lat, lon = offsets(rng, cty.lat[ci], cty.lon[ci], 0.5, 10.0)
    lo = np.array([SECTORS[s][2][0] for s in sector])
    hi = np.array([SECTORS[s][2][1] for s in sector])
    capacity = np.round(np.exp(rng.uniform(np.log(lo), np.log(hi))), 0)
    df = pd.DataFrame({
        "source_id": [f"E{cty.code[c]}{i:05d}" for i, c in enumerate(ci)],
        "sector": sector, "st": [SECTORS[s][1] for s in sector], "capacity": capacity,
        "unit": [SECTORS[s][3] for s in sector], "county_code": cty.code[ci], "lat": lat, "lon": lon,
    })
    df["mn"] = [f"{code}{i:08d}SM" for i, code in enumerate(df["county_code"])]
    df["name"] = cty.name[ci] + df["sector"].map({"power": "热电厂", "steel": "钢铁公司", "cement": "水泥厂", "coking": "焦化厂",
                                                  "chemical": "化工公司", "wastewater": "污水处理厂", "paper": "造纸厂"})
    idx, _ = nearest(lat, lon, sections["lat"].to_numpy(), sections["lon"].to_numpy())
    df["section_id"] = np.where(water, sections["section_id"].to_numpy()[idx], "")
    return df


def build(rng: np.random.Generator, n_stations: int, cty: Counties, nat: NationalStations) -> Network:
    sta = stations(rng, n_stations, cty, nat)
    sec = rivers(rng, max(2, n_stations // 2000), cty)
    ent = enterprises(rng, max(8, n_stations // 20), cty, sec)
    return Network(sta, ent, sec)
