"""Regenerate data/sample/ from ../shared/data: small real extracts, same layout and formats.

The sample lets `make demo` and the tests run on a machine without ../shared/data. Every folder
keeps the original SOURCE.txt (provenance and licence) plus SAMPLE.txt saying what was cut.
Run: python data/make_sample.py [SHARED_DATA]
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "sample"


def head_lines(src: Path, dst: Path, n: int) -> None:
    """Copy the header and the first n data lines, bytes untouched (CRLF, BOM kept)."""
    with open(src, "rb") as fh, open(dst, "wb") as out:
        for i, line in enumerate(fh):
            if i > n:
                break
            out.write(line)


def lines_matching(src: Path, dst: Path, needle: bytes) -> None:
    with open(src, "rb") as fh, open(dst, "wb") as out:
        for i, line in enumerate(fh):
            if i == 0 or needle in line:
                out.write(line)


def main(shared: Path) -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    notes: dict[str, str] = {}

    def folder(name: str) -> Path:
        d = OUT / name
        d.mkdir(parents=True, exist_ok=True)
        shutil.copy(shared / name / "SOURCE.txt", d / "SOURCE.txt")
        return d

    d = folder("china_national_aq_hourly")
    shutil.copy(shared / "china_national_aq_hourly/StationList-2020.01.01.csv", d)
    for n in range(1, 8):  # a week: QC needs days of context (tests/integration/test_qc_injection.py)
        shutil.copy(shared / f"china_national_aq_hourly/china_sites_201901{n:02d}.csv", d)
    notes["china_national_aq_hourly"] = "station list whole; the daily files of 2019-01-01 to 2019-01-07 only"

    d = folder("beijing_multisite")
    for f in sorted((shared / "beijing_multisite").glob("PRSA_Data_*.csv")):
        head_lines(f, d / f.name, 24 * 45)
    notes["beijing_multisite"] = "all 12 sites, first 45 days (2013-03-01 .. 2013-04-14) of each file"

    d = folder("kddcup2018_beijing")
    for name in ("Beijing_AirQuality_Stations_en.csv", "beijing_meo_stations_geo.csv", "Beijing_grid_weather_station.csv"):
        shutil.copy(shared / "kddcup2018_beijing" / name, d)
    lines_matching(shared / "kddcup2018_beijing/beijing_201802_201803_aq.csv", d / "beijing_201802_201803_aq.csv", b",2018-02-0")
    lines_matching(shared / "kddcup2018_beijing/beijing_201802_201803_me.csv", d / "beijing_201802_201803_me.csv", b",2018-02-0")
    (d / "api_aq_2018-04").mkdir()
    shutil.copy(shared / "kddcup2018_beijing/api_aq_2018-04/bj_aq_2018-04-30-0_2018-04-30-23.csv", d / "api_aq_2018-04")
    notes["kddcup2018_beijing"] = "station lists whole; aq and meteorology for 2018-02-01..09 (UTC); one API day file (2018-04-30)"

    d = folder("china_surface_water")
    lines_matching(shared / "china_surface_water/zhakou_guo_2020_hourly.csv", d / "zhakou_guo_2020_hourly.csv", b",2020-02-")
    shutil.copy(shared / "china_surface_water/unknown_station_2021_4hourly.csv", d)
    notes["china_surface_water"] = "zhakou: February 2020 only (holds the absurd NH3-N of 02-10/11); the 4-hourly file whole"

    for name in ("epa_pmf_esat", "hj212_messages"):
        d = folder(name)
        for f in (shared / name).iterdir():
            if f.name != "SOURCE.txt":
                shutil.copy(f, d)
        notes[name] = "whole"

    d = folder("china_admin_divisions")
    for name in ("modood_provinces.csv", "modood_cities.csv", "modood_areas.csv", "cpca_adcodes_with_lonlat.csv"):
        shutil.copy(shared / "china_admin_divisions" / name, d)
    notes["china_admin_divisions"] = "province, city, county lists and county seats; the township list is left out (1.6 MB)"

    for name, note in notes.items():
        (OUT / name / "SAMPLE.txt").write_text(
            f"Extract of ../shared/data/{name} made by data/make_sample.py: {note}.\n"
            "Bytes of every kept line are unchanged; provenance and licence in SOURCE.txt.\n",
            encoding="utf-8",
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent.parent / "shared" / "data")
