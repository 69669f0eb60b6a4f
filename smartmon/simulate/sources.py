"""Enterprises: hourly HJ 212 online monitoring, daily electricity, monthly energy, planted anomalies.

Assumptions (README, "Simulated feeds"):
- Load: a base utilisation U(0.6, 0.95) times the sector's daily profile times noise N(1, 5 %).
- Flue gas per capacity-unit hour and ultra-low-emission concentrations per sector (FLUE below),
  wastewater effluent at 80 % of the sector's discharge limits (EFFLUENT): emissions = flow x
  concentration.
- HJ 212-2017 hourly data (CN 2061): ST 31 air sources send a21026 SO2, a21002 NOx, a34013 dust and
  a00000 flue-gas flow; ST 32 water sources w01018 COD, w21003 NH3-N, w21011 TP and w00000 flow;
  each with -Avg (mg/m3 or mg/L; m3/h for flow), -Cou (kg; m3 for flow) and -Flag=N. DataTime is the
  start of the hour, Beijing time.
- Electricity: kWh = load x capacity x the sector's kWh per unit-hour (network.SECTORS), per day.
- Energy: coal t per MWh 0.45 (power), per t of product 0.55 (steel), 0.11 (cement), 1.33 (coking);
  natural gas 200 m3 per t (chemical). Water sectors report electricity only.
- Anomalies (3 % of enterprises, at least one when there are two days or more), written to
  _truth/anomalies.csv for tests and never read by the platform: 'emission_spike' (concentrations x3
  for a day, production and electricity normal) and 'reporting_gap' (no frames 08-20 h on a day while
  electricity use stays normal).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from smartmon.simulate.network import SECTORS
from smartmon.standards.hj212 import build_frame

# sector: (flue gas Nm3 per capacity-unit hour, {code: mg/m3})
FLUE = {
    "power": (3500.0, {"a21026": 25.0, "a21002": 40.0, "a34013": 5.0}),
    "steel": (12000.0, {"a21026": 50.0, "a21002": 150.0, "a34013": 10.0}),
    "cement": (2500.0, {"a21026": 50.0, "a21002": 250.0, "a34013": 10.0}),
    "coking": (1500.0, {"a21026": 50.0, "a21002": 150.0, "a34013": 15.0}),
    "chemical": (2000.0, {"a21026": 80.0, "a21002": 100.0, "a34013": 15.0}),
}
# mean effluent, mg/L: 80 % of the discharge limits (GB 18918-2002 class 1B: COD 60, NH3-N 8, TP 1;
# GB 3544-2008 paper: COD 90, NH3-N 8, TP 0.8)
EFFLUENT = {"wastewater": {"w01018": 48.0, "w21003": 6.4, "w21011": 0.8}, "paper": {"w01018": 72.0, "w21003": 6.4, "w21011": 0.64}}
ENERGY = {"power": ("coal", 0.45, "t"), "steel": ("coal", 0.55, "t"), "cement": ("coal", 0.11, "t"),
          "coking": ("coal", 1.33, "t"), "chemical": ("natural_gas", 0.02, "10^4 m3")}
PROFILE = {  # relative load by hour of day
    "power": 0.75 + 0.25 * np.sin(np.linspace(-np.pi / 2, 1.5 * np.pi, 24)) ** 2,
    "cement": np.where((np.arange(24) >= 7) & (np.arange(24) <= 22), 1.0, 0.6),
}


class Enterprises:
    """Per-enterprise constants and the accumulating daily/monthly records."""

    def __init__(self, rng: np.random.Generator, ent: pd.DataFrame, days: int):
        self.ent = ent.reset_index(drop=True)
        n = len(ent)
        self.base = rng.uniform(0.6, 0.95, n)
        self.conc_factor = np.exp(rng.normal(0, 0.2, n))
        self.power_rows: list[tuple] = []
        self.energy: dict[tuple[str, str], float] = {}
        self.wastewater: dict[tuple[str, date], float] = {}  # (receiving section, day) -> m3
        k = max(1 if days >= 2 else 0, round(0.03 * n))
        chosen = rng.choice(n, size=min(k, n), replace=False) if k else np.array([], dtype=int)
        self.anomalies = pd.DataFrame({
            "source_id": self.ent["source_id"].to_numpy()[chosen], "mn": self.ent["mn"].to_numpy()[chosen],
            "day_index": rng.integers(1, max(days, 2), len(chosen)) if len(chosen) else np.array([], dtype=int),
            "kind": rng.choice(["emission_spike", "reporting_gap"], size=len(chosen)),
        })

    def load(self, rng: np.random.Generator) -> np.ndarray:
        """(24, n) utilisation for one day."""
        n = len(self.ent)
        prof = np.stack([PROFILE.get(s, np.ones(24)) for s in self.ent["sector"]], axis=1)
        return np.clip(self.base[None, :] * prof * rng.normal(1, 0.05, (24, n)), 0, 1.1)

    def day(self, rng: np.random.Generator, out: Path, day: date, day_index: int) -> int:
        """Write the day's HJ 212 frames; accumulate electricity and energy. Returns frames written."""
        load = self.load(rng)
        ent = self.ent
        anom = self.anomalies[self.anomalies["day_index"] == day_index]
        spike = set(anom.loc[anom["kind"] == "emission_spike", "source_id"])
        gap = set(anom.loc[anom["kind"] == "reporting_gap", "source_id"])
        start = datetime(day.year, day.month, day.day)
        frames = []
        noise = np.exp(rng.normal(0, 0.08, (24, len(ent))))
        for e, row in enumerate(ent.itertuples()):
            cap = row.capacity
            for h in range(24):
                if row.source_id in gap and 8 <= h <= 20:
                    continue
                u = load[h, e]
                items = []
                if row.sector in FLUE:
                    per_unit, concs = FLUE[row.sector]
                    flow = per_unit * cap * u
                    for code, c in concs.items():
                        conc = c * self.conc_factor[e] * noise[h, e] * (3.0 if row.source_id in spike else 1.0)
                        items.append(f"{code}-Avg={conc:.2f},{code}-Cou={flow * conc * 1e-6:.3f},{code}-Flag=N")
                    items.append(f"a00000-Avg={flow:.0f},a00000-Cou={flow:.0f},a00000-Flag=N")
                else:
                    flow = cap * u
                    for code, c in EFFLUENT[row.sector].items():
                        conc = c * self.conc_factor[e] * noise[h, e] * (3.0 if row.source_id in spike else 1.0)
                        items.append(f"{code}-Avg={conc:.3f},{code}-Cou={flow * conc * 1e-3:.3f},{code}-Flag=N")
                    items.append(f"w00000-Avg={flow:.1f},w00000-Cou={flow:.1f},w00000-Flag=N")
                t = start + timedelta(hours=h)
                qn = f"{t:%Y%m%d%H}0500{e % 1000:03d}"
                data = (f"QN={qn};ST={row.st};CN=2061;PW=123456;MN={row.mn};Flag=4;"
                        f"CP=&&DataTime={t:%Y%m%d%H}0000;{';'.join(items)}&&")
                frames.append(build_frame(data).rstrip("\r\n"))
        path = out / "hj212" / f"enterprises_{day:%Y%m%d}.hj212"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\r\n".join(frames) + "\r\n", encoding="utf-8")
        # electricity and energy follow production (so a reporting gap does not show in them)
        kwh_unit = ent["sector"].map(lambda s: SECTORS[s][4]).to_numpy()
        produced = load.sum(axis=0) * ent["capacity"].to_numpy()
        kwh = produced * kwh_unit
        for e, row in enumerate(ent.itertuples()):
            if row.section_id:
                key = (row.section_id, day)
                self.wastewater[key] = self.wastewater.get(key, 0.0) + float(produced[e])
            self.power_rows.append((row.source_id, row.name, row.sector, row.county_code, day, float(kwh[e])))
            if row.sector in ENERGY:
                per = ENERGY[row.sector][1]
                key = (row.source_id, f"{day:%Y-%m}")
                self.energy[key] = self.energy.get(key, 0.0) + produced[e] * per
        return len(frames)


def write_registry(out: Path, ent: pd.DataFrame) -> None:
    """The enterprise list of the pollution-source registry (排污许可), UTF-8 with BOM as exported."""
    folder = out / "enterprises"
    folder.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame({"企业编码": ent["source_id"], "企业名称": ent["name"], "行业": ent["sector"], "数采仪MN": ent["mn"],
                       "系统编码ST": ent["st"], "产能": ent["capacity"].map("{:.0f}".format), "产能单位": ent["unit"],
                       "区县代码": ent["county_code"], "经度": ent["lon"].map("{:.5f}".format), "纬度": ent["lat"].map("{:.5f}".format),
                       "受纳断面": ent["section_id"]})
    (folder / "enterprises.csv").write_bytes(df.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig"))


def write_power(out: Path, sim: Enterprises, population: dict[str, float]) -> int:
    """Monthly utility exports: enterprise daily kWh, and county daily totals by sector in 10^4 kWh
    (industry = its enterprises plus 30 % other industry; residential 2.5 and commercial 1.5 kWh per
    resident per day)."""
    df = pd.DataFrame(sim.power_rows, columns=["id", "name", "sector", "county", "date", "kwh"])
    folder = out / "power-use"
    folder.mkdir(parents=True, exist_ok=True)
    df["month"] = df["date"].map(lambda d: f"{d:%Y%m}")
    for month, part in df.groupby("month"):
        ent = pd.DataFrame({"用户编号": part["id"], "户名": part["name"], "行业": part["sector"], "区县代码": part["county"],
                            "日期": part["date"].map(lambda d: f"{d:%Y-%m-%d}"), "用电量(千瓦时)": part["kwh"].map("{:.1f}".format)})
        (folder / f"enterprise_{month}.csv").write_bytes(ent.to_csv(index=False).encode("utf-8-sig"))
        ind = part.groupby(["county", "date"])["kwh"].sum() * 1.3
        rows = []
        for (county, d), v in ind.items():
            pop = population.get(county, 30.0) * 1e4
            for sector, kwh in (("工业", v), ("居民", pop * 2.5), ("商业", pop * 1.5)):
                rows.append((county, f"{d:%Y-%m-%d}", sector, f"{kwh / 1e4:.3f}"))
        cty = pd.DataFrame(rows, columns=["区县代码", "日期", "行业", "用电量(万千瓦时)"])
        (folder / f"county_{month}.csv").write_bytes(cty.to_csv(index=False).encode("utf-8-sig"))
    return len(df)


def write_energy(out: Path, sim: Enterprises, days_in_month: dict[str, int]) -> int:
    folder = out / "energy-use"
    folder.mkdir(parents=True, exist_ok=True)
    sector = sim.ent.set_index("source_id")["sector"]
    rows = [(sid, month, ENERGY[sector[sid]][0], f"{amount:.3f}", ENERGY[sector[sid]][2], days_in_month[month])
            for (sid, month), amount in sorted(sim.energy.items())]
    df = pd.DataFrame(rows, columns=["enterprise_id", "month", "fuel", "amount", "unit", "days_covered"])
    for month, part in df.groupby("month"):
        part.to_csv(folder / f"energy_{month.replace('-', '')}.csv", index=False)
    return len(df)
