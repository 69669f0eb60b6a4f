"""The real data the simulator derives from: national stations, their hourly archive, county seats.

Simulated stations take their signal from the nearest real national station, so a county sensor
in Shijiazhuang sees Shijiazhuang's January 2019 haze, not a random walk. Simulated days map onto
archive days in order; beyond the archive they cycle through it (documented in the README).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from smartmon.errors import InputError

log = logging.getLogger(__name__)

POLLUTANTS = ("pm25", "pm10", "so2", "no2", "co", "o3")
_ARCHIVE_TYPES = {"PM2.5": "pm25", "PM10": "pm10", "SO2": "so2", "NO2": "no2", "CO": "co", "O3": "o3"}
ARCHIVE = Path("china_national_aq_hourly")
ADMIN = Path("china_admin_divisions")


@dataclass(frozen=True)
class NationalStations:
    """Real national stations with coordinates (duplicates and unplaced ones dropped)."""

    ids: np.ndarray  # str
    lat: np.ndarray
    lon: np.ndarray


@dataclass(frozen=True)
class Counties:
    """County seats (cpca): code, name, seat position, city and province names."""

    code: np.ndarray  # 6-digit str
    name: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    city_name: np.ndarray
    province_name: np.ndarray


def national_stations(root: Path) -> NationalStations:
    path = root / ARCHIVE / "StationList-2020.01.01.csv"
    if not path.exists():
        raise InputError("national station list not found (is SMARTMON_DATA right?)", file=str(path))
    df = pd.read_csv(path, dtype=str)
    df.columns = ["id", "name", "city", "lon", "lat"]
    df["lat"] = pd.to_numeric(df["lat"], errors="coerce")
    df["lon"] = pd.to_numeric(df["lon"], errors="coerce")
    df = df.dropna(subset=["lat", "lon"]).drop_duplicates("id", keep="last").sort_values("id")
    return NationalStations(df["id"].to_numpy(), df["lat"].to_numpy(), df["lon"].to_numpy())


def counties(root: Path, provinces: tuple[str, ...] = ()) -> Counties:
    """County seats, all of China or those of the given provinces (2-digit code prefixes)."""
    folder = root / ADMIN
    seats = pd.read_csv(folder / "cpca_adcodes_with_lonlat.csv", dtype=str)
    seats = seats[(seats["adcode"].str[4:6] != "00") & (seats["adcode"].str[6:] == "000000")].copy()
    seats["code"] = seats["adcode"].str[:6]
    seats["lat"] = pd.to_numeric(seats["latitude"], errors="coerce")
    seats["lon"] = pd.to_numeric(seats["longitude"], errors="coerce")
    seats = seats.dropna(subset=["lat", "lon"]).drop_duplicates("code").sort_values("code")
    if provinces:
        seats = seats[seats["code"].str[:2].isin([p[:2] for p in provinces])]
        if seats.empty:
            raise InputError(f"no county seats in provinces {', '.join(provinces)} (2-digit GB/T 2260 prefixes, e.g. 11 for Beijing)")
    provinces = pd.read_csv(folder / "modood_provinces.csv", dtype=str).set_index("code")["name"]
    cities = pd.read_csv(folder / "modood_cities.csv", dtype=str).set_index("code")["name"]
    prov = seats["code"].str[:2].map(provinces).fillna("")
    city = seats["code"].str[:4].map(cities).fillna("")
    # municipalities list their districts under 市辖区 / 县: the city is the province there
    city = city.where(~city.isin(["市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", ""]), prov)
    return Counties(seats["code"].to_numpy(), seats["name"].to_numpy(), seats["lat"].to_numpy(), seats["lon"].to_numpy(),
                    city.to_numpy(), prov.to_numpy())


def archive_days(root: Path) -> list[date]:
    files = sorted((root / ARCHIVE).glob("china_sites_????????.csv"))
    if not files:
        raise InputError("no china_sites_YYYYMMDD.csv in the national archive", file=str(root / ARCHIVE))
    return [date(int(p.stem[-8:-4]), int(p.stem[-4:-2]), int(p.stem[-2:])) for p in files]


def day_signal(root: Path, day: date, station_ids: np.ndarray) -> np.ndarray:
    """Hourly values (24, n_stations, 6) of the real national stations on an archive day; NaN where
    the archive has none. Index h is the archive's hour h: the hour ending at h:00 Beijing time."""
    path = root / ARCHIVE / f"china_sites_{day:%Y%m%d}.csv"
    df = pd.read_csv(path, dtype={"date": str, "hour": int, "type": str})
    df = df[df["type"].isin(list(_ARCHIVE_TYPES))]
    out = np.full((24, len(station_ids), len(POLLUTANTS)), np.nan)
    pos = pd.Index(df.columns).get_indexer(station_ids)
    present = pos >= 0
    values = df.iloc[:, pos[present]].apply(pd.to_numeric, errors="coerce").to_numpy()  # converted once, not per row
    hours = df["hour"].to_numpy()
    kinds = df["type"].map({t: POLLUTANTS.index(p) for t, p in _ARCHIVE_TYPES.items()}).to_numpy()
    ok = (hours >= 0) & (hours <= 23)
    block = out[:, present, :]
    block[hours[ok], :, kinds[ok]] = values[ok]
    out[:, present, :] = block
    return out


def source_day(archive: list[date], start: date, i: int) -> date:
    """The archive day that simulated day start+i takes its signal from."""
    wanted = start + timedelta(days=i)
    if wanted in archive:
        return wanted
    return archive[i % len(archive)]
