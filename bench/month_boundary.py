"""A true month boundary on real data: the national CNEMC archive's nightlies of 2019-01-31,
2019-02-01 and 2019-02-02, each as its day's file arrives, with January 1-30 already in the lake.

The lake of January 1-30 (the national archive alone: its station list, the admin divisions and
the 30 daily files) is built once by one nightly and cached in `bench/.cache`; each measured
night then adds the next real file (`../shared/data/china_national_aq_hourly_2019_02/` for
February) and runs `smartmon nightly --date D` in its own process. With jobs scoped by day the
three walls are close: the first night of February reads the last day of January only for its
lookback. The last line is one JSON object with the three walls.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from bench.common import record
from bench.national_nightly import CACHE, nightly
from smartmon.config import SHARED_DATA

JANUARY = SHARED_DATA / "china_national_aq_hourly"
FEBRUARY = SHARED_DATA / "china_national_aq_hourly_2019_02"
STATION_LISTS = ("Beijing_AirQuality_Stations_en.csv", "beijing_meo_stations_geo.csv", "Beijing_grid_weather_station.csv")
NIGHTS = (date(2019, 1, 31), date(2019, 2, 1), date(2019, 2, 2))


def day_file(d: date) -> Path:
    return (JANUARY if d.month == 1 else FEBRUARY) / f"china_sites_{d:%Y%m%d}.csv"


def data_root(root: Path, days: list[date]) -> Path:
    """A data root holding the admin divisions, the station lists and the archive's day files."""
    archive = root / "china_national_aq_hourly"
    archive.mkdir(parents=True, exist_ok=True)
    if not (root / "china_admin_divisions").exists():
        (root / "china_admin_divisions").symlink_to(SHARED_DATA / "china_admin_divisions")
    for f in [*JANUARY.glob("StationList*"), *(day_file(d) for d in days)]:
        if not (archive / f.name).exists():
            (archive / f.name).symlink_to(f)
    # the station registry also reads the KDD Cup station lists (their data files stay out)
    kdd = root / "kddcup2018_beijing"
    kdd.mkdir(exist_ok=True)
    for name in STATION_LISTS:
        if not (kdd / name).exists():
            (kdd / name).symlink_to(SHARED_DATA / "kddcup2018_beijing" / name)
    return root


def env_for(lake: Path, data: Path, work: Path) -> dict[str, str]:
    return {**os.environ, "SMARTMON_LAKE": str(lake), "SMARTMON_DATA": str(data), "SMARTMON_LANDING": str(work / "landing"),
            "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}", "SMARTMON_MLFLOW_ARTIFACTS": str(work / "artifacts"),
            "SMARTMON_SCENARIO_DRAWS": "50"}


def january_lake(rebuild: bool) -> Path:
    """The cached lake holding January 1-30 of the national archive."""
    key = CACHE / "month-boundary-2019-01-01..30"
    if rebuild:
        shutil.rmtree(key, ignore_errors=True)
    if not (key / "done").exists():
        shutil.rmtree(key, ignore_errors=True)
        key.mkdir(parents=True)
        history = [date(2019, 1, 1) + timedelta(days=i) for i in range(30)]
        data = data_root(key / "data", history)
        print(f"building the lake of 2019-01-01..30 (cached in {key})", flush=True)
        built = nightly(history[-1], env_for(key / "lake", data, key), key / "history-nightly.log")
        (key / "done").write_text(json.dumps({"wall_s": built["wall_s"]}))
        print(f"built in {built['wall_s']:.0f} s", flush=True)
    return key


def main(rebuild: bool = False) -> None:
    for d in (NIGHTS[0], *NIGHTS[1:]):
        if not day_file(d).exists():
            raise SystemExit(f"{day_file(d)} is missing: the benchmark needs the real archive in ../shared/data")
    cached = january_lake(rebuild)
    work = Path(tempfile.mkdtemp(prefix="smartmon-bench-boundary-"))
    try:
        shutil.copytree(cached / "lake", work / "lake", symlinks=True)
        shutil.copytree(cached / "data", work / "data", symlinks=True)
        nights = {}
        for d in NIGHTS:
            data_root(work / "data", [d])
            nights[d] = nightly(d, env_for(work / "lake", work / "data", work), work / f"nightly-{d}.log")
            print(f"nightly {d}: {nights[d]['wall_s']:.0f} s, peak {nights[d]['peak_mib']:,.0f} MiB", flush=True)
        ref = nights[NIGHTS[0]]
        rows = [{"case": f"nightly of {d} (its day's real file arrives)", "smartmon": f"{n['wall_s']:.0f} s, {n['peak_mib']:,.0f} MiB",
                 "reference": f"2019-01-31: {ref['wall_s']:.0f} s", "ratio": f"{n['wall_s'] / ref['wall_s']:.2f}",
                 "notes": "the month's first night" if d.day == 1 else ("the month's last night" if d.month == 1 else "")}
                for d, n in nights.items()]
        for task in ref["tasks"]:
            secs = [nights[d]["tasks"].get(task, ("-", 0.0))[1] for d in NIGHTS]
            if max(secs) >= 5:
                rows.append({"case": f"task {task}", "smartmon": " / ".join(f"{s:.0f} s" for s in secs[1:]),
                             "reference": f"{secs[0]:.0f} s", "ratio": f"{secs[1] / secs[0]:.2f}" if secs[0] else "",
                             "notes": "02-01 / 02-02 vs 01-31"})
        record("Month boundary on real data: the nightlies of 2019-01-31, 02-01 and 02-02", rows)
        print(json.dumps({str(d): round(n["wall_s"]) for d, n in nights.items()}))
    except BaseException:
        print(f"kept {work} (lake, nightly logs) for a look at what failed", file=sys.stderr, flush=True)
        raise
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached lake of January 1-30")
    main(parser.parse_args().rebuild)
