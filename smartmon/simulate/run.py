"""`smartmon simulate`: write every tier's and external source's raw feed into a landing zone.

The output folder is laid out by source name (provincial-air/, county-air/, township-sensors/,
station-lists/, enterprises/, hj212/, power-use/, energy-use/, hydrology/, land-use/, statistics/)
so `smartmon ingest --all` picks it up when it is the lake's landing zone. _truth/ holds what the
generator planted (faults with file paths relative to the output folder, anomalies) and its
manifest; no adapter reads it.
The same arguments and seed write the same bytes, so a re-run is skipped by the ingest manifest.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from smartmon.errors import InputError
from smartmon.simulate import air, context, network, reference, sources

log = logging.getLogger(__name__)


@dataclass
class SimReport:
    out: str
    stations: int
    days: int
    start: str
    seed: int
    rows: dict[str, int] = field(default_factory=dict)
    faults: int = 0
    anomalies: int = 0
    seconds: float = 0.0


def simulate(data_root: Path, out: Path, *, stations: int, days: int, start: date | None = None, seed: int = 2019,
             fault_rate: float = 1e-4, provinces: tuple[str, ...] = ()) -> SimReport:
    """Generate the feeds. start defaults to the first day of the real national archive;
    provinces (2-digit codes) confine the network to a region, e.g. ('11',) for Beijing."""
    if stations < 1 or days < 1:
        raise InputError(f"--stations and --days must be at least 1 (got {stations}, {days})")
    t0 = time.perf_counter()
    archive = reference.archive_days(data_root)
    start = start or archive[0]
    rng = np.random.default_rng(seed)
    nat = reference.national_stations(data_root)
    cty = reference.counties(data_root, provinces)
    net = network.build(rng, stations, cty, nat)
    out.mkdir(parents=True, exist_ok=True)
    report = SimReport(str(out), stations, days, start.isoformat(), seed)
    city_name = dict(zip(cty.code, cty.city_name, strict=True))
    report.rows["station-lists"] = air.write_station_lists(out, net.stations, city_name)
    sources.write_registry(out, net.enterprises)
    context.write_sections(out, net.sections)
    codes = set(net.stations["county_code"]) | set(net.enterprises["county_code"]) | set(net.sections["county_code"])
    population = context.write_statistics(out, rng, cty, codes, start.year - 1)
    report.rows["land-use"] = context.write_land_use(out, rng, net, cty, start.year - 1)

    sensors = air.Sensors(rng, net.stations)
    ent = sources.Enterprises(rng, net.enterprises, days)
    anchors = net.stations["anchor_idx"].to_numpy()
    faults: list[dict] = []
    dates = context.date_range(start, days)
    for i, day in enumerate(dates):
        real = reference.day_signal(data_root, reference.source_day(archive, start, i), nat.ids)
        values = sensors.values(rng, real[:, anchors], i)
        for name, n in (("provincial-air", air.write_provincial(out, day, net.stations, values, faults)),
                        ("county-air", air.write_county(out, day, net.stations, values, faults, rng, fault_rate)),
                        ("township-sensors", air.write_township(out, day, net.stations, values, faults, rng, fault_rate)),
                        ("hj212", ent.day(rng, out, day, i))):
            report.rows[name] = report.rows.get(name, 0) + n
        log.info("simulate: day %d/%d (%s) written, %.0f s", i + 1, days, day, time.perf_counter() - t0)
    report.rows["power-use"] = sources.write_power(out, ent, population)
    months = pd.Series([f"{d:%Y-%m}" for d in dates]).value_counts().to_dict()
    report.rows["energy-use"] = sources.write_energy(out, ent, months)
    report.rows["hydrology"] = context.write_flow(out, rng, net, dates, ent.wastewater)

    truth = out / "_truth"
    truth.mkdir(exist_ok=True)
    pd.DataFrame(faults, columns=["file", "line", "stage", "kind"]).to_csv(truth / "faults.csv", index=False)
    anomalies = ent.anomalies.assign(day=[dates[min(int(k), len(dates) - 1)].isoformat() for k in ent.anomalies["day_index"]])
    anomalies.to_csv(truth / "anomalies.csv", index=False)
    net.stations.drop(columns=["anchor_idx"]).to_csv(truth / "stations.csv", index=False)
    report.faults, report.anomalies = len(faults), len(anomalies)
    report.seconds = round(time.perf_counter() - t0, 1)
    # no paths or timings in _truth: the same arguments write the same bytes wherever they go
    (truth / "manifest.json").write_text(json.dumps({k: v for k, v in asdict(report).items() if k not in ("seconds", "out")},
                                                    indent=1, sort_keys=True))
    return report
