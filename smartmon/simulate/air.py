"""Air feeds of the sub-national tiers, each in its own format, with its own sensor behaviour.

| tier | file | encoding | time | units |
|---|---|---|---|---|
| provincial (air, traffic, supersite) | provincial-air/<prov>/<prov>_<YYYYMMDD>.csv, Chinese headers | GBK | '2019/1/5 13:00' Beijing, end of hour | ug/m3, CO mg/m3 |
| county | county-air/county_<YYYYMMDD>.csv | UTF-8 | ISO 8601 +08:00, START of hour | all ug/m3 (CO too) |
| township low-cost sensors | township-sensors/sensors_<YYYYMMDD>.jsonl | UTF-8 JSON lines | epoch seconds UTC, end of hour | PM ug/m3; gases ppb, CO ppm (25 degC, 101.325 kPa) |

Sensor behaviour (multiplicative on the anchor's value; README "Simulated feeds"):
- every station: a site factor per pollutant, lognormal sigma 0.15; traffic sites NO2 x1.6, CO x1.3,
  PM x1.1; noise lognormal sigma 0.05 (reference analysers), 0.12 (county), 0.20 (township).
- low-cost township sensors: PM over-read 1.0-1.4 (humidity), a drift of N(0, 1 %) per day, and 2 %
  of devices offline for a whole day; missing hours 1 % / 3 % / 6 % by tier.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from smartmon.beijing_time import BEIJING
from smartmon.simulate.reference import POLLUTANTS

MOLAR_VOLUME_L = 24.465  # ideal gas at 25 degC and 101.325 kPa (GB 3095-2012 amendment 2018 reference state)
MOLAR_MASS = {"so2": 64.066, "no2": 46.0055, "o3": 47.997, "co": 28.010}
PROVINCIAL_HEADER = ["站点编码", "监测时间", "PM2.5(μg/m3)", "PM10(μg/m3)", "SO2(μg/m3)", "NO2(μg/m3)", "CO(mg/m3)", "O3(μg/m3)"]
COUNTY_HEADER = ["station_code", "time_start", "pm25", "pm10", "so2", "no2", "co_ugm3", "o3"]
NOISE = {"provincial": 0.05, "county": 0.12, "township": 0.20}
MISSING = {"provincial": 0.01, "county": 0.03, "township": 0.06}


def ugm3_to_ppb(ugm3: np.ndarray, gas: str) -> np.ndarray:
    """ug/m3 -> ppb at the reference state (CO: mg/m3 -> ppm, the same formula)."""
    return ugm3 * MOLAR_VOLUME_L / MOLAR_MASS[gas]


def ppb_to_ugm3(ppb: np.ndarray, gas: str) -> np.ndarray:
    return ppb * MOLAR_MASS[gas] / MOLAR_VOLUME_L


class Sensors:
    """Per-station constants drawn once: site factors, low-cost bias and drift."""

    def __init__(self, rng: np.random.Generator, stations: pd.DataFrame):
        n = len(stations)
        self.site = np.exp(rng.normal(0, 0.15, (n, len(POLLUTANTS))))
        traffic = (stations["kind"] == "traffic").to_numpy()
        self.site[traffic] *= np.array([1.1, 1.1, 1.0, 1.6, 1.3, 1.0])
        township = (stations["tier"] == "township").to_numpy()
        self.bias = np.ones((n, len(POLLUTANTS)))
        self.bias[township, :2] = rng.uniform(1.0, 1.4, (int(township.sum()), 1))
        self.drift = np.where(township, rng.normal(0, 0.01, n), 0.0)
        self.noise = stations["tier"].map(lambda t: NOISE.get(t, 0.05)).to_numpy()
        self.missing = stations["tier"].map(lambda t: MISSING.get(t, 0.01)).to_numpy()
        self.township = township

    def values(self, rng: np.random.Generator, anchor: np.ndarray, day_index: int) -> np.ndarray:
        """(24, n, 6) values for one day from the anchors' (24, n, 6) real values; NaN = missing."""
        h, n, p = anchor.shape
        noise = np.exp(rng.normal(0, 1, (h, n, p)) * self.noise[None, :, None])
        drift = (1 + self.drift * day_index)[None, :, None]
        out = anchor * self.site[None] * self.bias[None] * drift * noise
        out[rng.random((h, n)) < self.missing[None, :]] = np.nan
        offline = self.township & (rng.random(n) < 0.02)
        out[:, offline] = np.nan
        return out


def _times(day: date) -> list[datetime]:
    """The 24 hour-ending times of a simulated day, Beijing time (archive hour 0 = 00:00)."""
    start = datetime(day.year, day.month, day.day, tzinfo=BEIJING)
    return [start + timedelta(hours=h) for h in range(24)]


def _hour_by_station(ids: np.ndarray, times: list) -> tuple[np.ndarray, np.ndarray]:
    """(station, time) columns in the (hour, station) order of a day's value block, raveled."""
    return np.tile(ids, len(times)), np.repeat(np.array(times), len(ids))


def _fmt(v: np.ndarray, decimals: int) -> np.ndarray:
    s = np.char.mod(f"%.{decimals}f", np.nan_to_num(v, nan=0.0))
    return np.where(np.isnan(v), "", s)


def write_provincial(out: Path, day: date, stations: pd.DataFrame, values: np.ndarray, faults: list[dict]) -> int:
    """One GBK file per province and day; returns rows written."""
    sel = stations["tier"].eq("provincial").to_numpy()
    if not sel.any():
        return 0
    times = [f"{t.year}/{t.month}/{t.day} {t.hour}:00" for t in _times(day)]
    rows = 0
    sub = stations[sel]
    vals = values[:, sel]
    prov = sub["county_code"].str[:2].to_numpy() + "0000"
    for code in sorted(set(prov)):
        idx = np.flatnonzero(prov == code)
        frame = dict(zip(("站点编码", "监测时间"), _hour_by_station(sub["station_id"].to_numpy()[idx], times), strict=True))
        for k, col in enumerate(PROVINCIAL_HEADER[2:]):
            frame[col] = _fmt(vals[:, idx, k].ravel(), 3 if POLLUTANTS[k] == "co" else 0)
        df = pd.DataFrame(frame)
        path = out / "provincial-air" / code / f"{code}_{day:%Y%m%d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = df.to_csv(index=False, lineterminator="\r\n")
        path.write_bytes(text.encode("gbk"))
        rows += len(df)
    return rows


def write_county(out: Path, day: date, stations: pd.DataFrame, values: np.ndarray, faults: list[dict], rng: np.random.Generator,
                 fault_rate: float) -> int:
    sel = stations["tier"].eq("county").to_numpy()
    if not sel.any():
        return 0
    ids = stations["station_id"].to_numpy()[sel]
    vals = values[:, sel]
    starts = [(t - timedelta(hours=1)).isoformat() for t in _times(day)]
    frame = dict(zip(("station_code", "time_start"), _hour_by_station(ids, starts), strict=True))
    for k, col in enumerate(COUNTY_HEADER[2:]):
        v = vals[:, :, k].ravel() * (1000.0 if POLLUTANTS[k] == "co" else 1.0)
        frame[col] = _fmt(v, 1)
    df = pd.DataFrame(frame)
    path = out / "county-air" / f"county_{day:%Y%m%d}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = df.to_csv(index=False, header=False, lineterminator="\n").splitlines()
    # planted faults: a non-numeric PM2.5 (refused in silver) and a truncated line (refused in bronze)
    for i in np.flatnonzero(rng.random(len(lines)) < fault_rate):
        if rng.random() < 0.5:
            fields = lines[i].split(",")
            fields[2] = "N/A#"
            lines[i] = ",".join(fields)
            faults.append(dict(file=str(path.relative_to(out)), line=int(i) + 2, stage="silver", kind="non-numeric pm25"))
        else:
            lines[i] = lines[i][: len(lines[i]) // 2]
            faults.append(dict(file=str(path.relative_to(out)), line=int(i) + 2, stage="bronze", kind="truncated line"))
    path.write_text(",".join(COUNTY_HEADER) + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def write_township(out: Path, day: date, stations: pd.DataFrame, values: np.ndarray, faults: list[dict], rng: np.random.Generator,
                   fault_rate: float) -> int:
    sel = stations["tier"].eq("township").to_numpy()
    if not sel.any():
        return 0
    ids = stations["station_id"].to_numpy()[sel]
    vals = values[:, sel]
    epochs = [int(t.astimezone(UTC).timestamp()) for t in _times(day)]
    path = out / "township-sensors" / f"sensors_{day:%Y%m%d}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = dict(zip(("device", "ts"), _hour_by_station(ids, epochs), strict=True))
    for k, p in enumerate(POLLUTANTS):
        v = vals[:, :, k].ravel()
        if p in ("pm25", "pm10"):
            frame[p] = np.round(v, 1)
        else:
            frame[f"{p}_{'ppm' if p == 'co' else 'ppb'}"] = np.round(ugm3_to_ppb(v, p), 3 if p == "co" else 1)
    df = pd.DataFrame(frame)
    df = df[~np.all(np.isnan(vals), axis=2).ravel()]  # an offline device sends nothing
    lines = df.to_json(orient="records", lines=True, double_precision=3).splitlines()
    for i in np.flatnonzero(rng.random(len(lines)) < fault_rate):
        lines[i] = lines[i][: len(lines[i]) // 2]
        faults.append(dict(file=str(path.relative_to(out)), line=int(i) + 1, stage="bronze", kind="truncated JSON"))
    path.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    return len(lines)


def write_station_lists(out: Path, stations: pd.DataFrame, city_name: dict[str, str]) -> int:
    """Each tier publishes its own station list: provincial GBK with Chinese headers, county and
    township in UTF-8 with English headers."""
    folder = out / "station-lists"
    folder.mkdir(parents=True, exist_ok=True)
    kind_cn = {"air": "环境空气", "traffic": "交通", "supersite": "超级站"}
    prov = stations[stations["tier"] == "provincial"]
    for code, part in prov.groupby(prov["county_code"].str[:2] + "0000"):
        df = pd.DataFrame({"站点编码": part["station_id"], "站点名称": part["name"], "站点类型": part["kind"].map(kind_cn),
                           "城市": part["county_code"].map(city_name), "区县代码": part["county_code"],
                           "经度": part["lon"].map("{:.5f}".format), "纬度": part["lat"].map("{:.5f}".format)})
        (folder / f"provincial_{code}.csv").write_bytes(df.to_csv(index=False, lineterminator="\r\n").encode("gbk"))
    for tier in ("county", "township"):
        part = stations[stations["tier"] == tier]
        if part.empty:
            continue
        df = pd.DataFrame({"station_code": part["station_id"], "name": part["name"], "tier": tier,
                           "city": part["county_code"].map(city_name), "county_code": part["county_code"],
                           "lat": part["lat"].map("{:.5f}".format), "lon": part["lon"].map("{:.5f}".format),
                           "sensor": "low-cost PM/EC" if tier == "township" else "micro-station"})
        df.to_csv(folder / f"{tier}.csv", index=False)
    return len(stations)
