"""Nothing lost, nothing overwritten (issue #25, parts 0 and 1), on real CNEMC lines.

A re-delivered day under another file name is ingested (recognised by its header) and a file no
adapter reads is refused loudly; a correction of one value keeps the others; of two deliveries
of one value the later wins, in one batch and across batches, even when it is lower; what it
replaced is in silver.value_corrections and `smartmon trace` shows it. Runs on a lake of its own
with two registered stations.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from smartmon.catalog.names import BRONZE_INGEST_BATCHES, BRONZE_QUARANTINE, SILVER_AIR_HOURLY, SILVER_STATIONS, SILVER_VALUE_CORRECTIONS

STATIONS = ["1001A", "1002A"]
POLLUTANTS = {"PM2.5": "pm25", "PM10": "pm10", "SO2": "so2", "NO2": "no2", "CO": "co", "O3": "o3"}


def _day(data_root: Path, day: str, hours: range) -> str:
    """The real archive's lines of a day for two stations (header: date,hour,type,1001A,1002A)."""
    lines = (data_root / f"china_national_aq_hourly/china_sites_{day}.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cols = [0, 1, 2] + [header.index(s) for s in STATIONS]
    out = [",".join(header[i] for i in cols)]
    for line in lines[1:]:
        f = line.split(",")
        if int(f[1]) in hours and f[2] in POLLUTANTS:
            out.append(",".join(f[i] if i < len(f) else "" for i in cols))
    return "\n".join(out) + "\n"


def _write(path: Path, text: str, mtime: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture(scope="module")
def own(spark, settings, data_root, tmp_path_factory):
    from smartmon import catalog
    from smartmon.io import Lake

    root = tmp_path_factory.mktemp("values")
    lake = Lake(spark, replace(settings, lake=str(root / "lake"), landing=str(root / "landing")))
    spec = catalog.get(SILVER_STATIONS)
    st = spark.createDataFrame([(s, "air", "national", "test") for s in STATIONS], "station_id string, kind string, tier string, source string")
    lake.merge(st.select(*[F.col(c.name).cast(c.type) if c.name in st.columns else F.lit(None).cast(c.type).alias(c.name)
                           for c in spec.columns]), SILVER_STATIONS)
    return lake, root


def _conform(lake) -> dict:
    from pipelines.definitions import graph
    from smartmon.jobspec import RunContext

    return graph().jobs[SILVER_AIR_HOURLY].run(RunContext(lake=lake, run_date=date(2019, 1, 31), run_id="values-test"))


def _row(lake, station: str, utc: datetime):
    return lake.read(SILVER_AIR_HOURLY).where((F.col("station_id") == station) & (F.col("ts") == F.lit(utc))).first()


H1 = datetime(2019, 1, 14, 17)  # 2019-01-15 01:00 Beijing, the hour ending then, in UTC


def test_values_not_rows(own, data_root):
    from jobs.bronze.ingest import ingest
    from smartmon.trace import trace

    lake, root = own
    # 1. the day as published
    (first,) = ingest(lake, "cnemc-archive", [_write(root / "d1" / "china_sites_20190115.csv", _day(data_root, "20190115", range(0, 3)), 1e9)])
    assert first.total("read") == 18 and first.lost == 0
    _conform(lake)
    before = _row(lake, "1001A", H1)
    assert before.pm25 is not None and before.pm10 is not None and before.o3 is not None

    # 2. a correction of one value, re-delivered as a mail client names it, beside a stray file
    low = before.pm25 - 5
    fix = _write(root / "d2" / "china_sites_20190115 (1).csv", f"date,hour,type,1001A,1002A\n20190115,1,PM2.5,{low:g},\n", 1e9 + 60)
    _write(root / "d2" / "notes.txt", "the corrected value of 1001A\n", 1e9 + 60)
    reports = ingest(lake, "cnemc-archive", [root / "d2"])
    assert [(f.path, f.status) for r in reports for f in r.files] == [(str(fix), "ingested"), (str(root / "d2" / "notes.txt"), "refused")]
    assert sum(r.lost for r in reports) == 0
    refused = lake.read(BRONZE_QUARANTINE).where(F.col("source_file").endswith("notes.txt")).collect()
    assert len(refused) == 1 and "no cnemc-archive adapter recognises this file" in refused[0].reason
    assert lake.read(BRONZE_INGEST_BATCHES).where(F.col("source_file").endswith("notes.txt")).first().status == "refused"
    summary = _conform(lake)
    assert summary["corrected"] == 1
    after = _row(lake, "1001A", H1)
    # the corrected value is the later, lower one, and the values the correction did not carry are kept
    assert after.pm25 == low
    assert (after.pm10, after.so2, after.no2, after.co, after.o3) == (before.pm10, before.so2, before.no2, before.co, before.o3)
    assert after.source_file == str(fix)
    (c,) = lake.read(SILVER_VALUE_CORRECTIONS).collect()
    assert (c.column, c.old_value, c.new_value, c.new_source_file, c.new_source_line) == ("pm25", before.pm25, low, str(fix), 2)
    assert c.old_source_file.endswith("d1/china_sites_20190115.csv")
    shown = trace(lake, SILVER_AIR_HOURLY, ["1001A", "2019-01-15T01:00"]).text()
    assert "superseded values" in shown and f"pm25: {before.pm25} " in shown and f"-> {low}" in shown

    # 3. re-running changes nothing
    assert ingest(lake, "cnemc-archive", [root / "d2"])[0].files[0].status == "skipped"
    assert _conform(lake) == {"rows_in": 0}
    assert lake.read(SILVER_VALUE_CORRECTIONS).count() == 1

    # 4. two deliveries of one value in one batch: the later file wins though it is lower
    d3 = root / "d3"
    _write(d3 / "china_sites_20190116_b.csv", "date,hour,type,1001A,1002A\n20190116,5,PM2.5,80,90\n20190116,5,NO2,40,\n", 1e9 + 120)
    _write(d3 / "china_sites_20190116_a.csv", "date,hour,type,1001A,1002A\n20190116,5,PM2.5,20,\n", 1e9 + 180)  # later, though first by name
    (batch,) = ingest(lake, "cnemc-archive", [d3])
    assert [Path(f.path).name for f in batch.files] == ["china_sites_20190116_b.csv", "china_sites_20190116_a.csv"]
    _conform(lake)
    h5 = datetime(2019, 1, 15, 21)
    one, two = _row(lake, "1001A", h5), _row(lake, "1002A", h5)
    assert (one.pm25, one.no2) == (20.0, 40.0) and two.pm25 == 90.0
    assert one.source_file.endswith("china_sites_20190116_a.csv")

    # 5. an audited value that a later delivery changes goes back to preliminary, and is reported
    lake.update(SILVER_AIR_HOURLY, f"station_id = '1001A' AND ts = '{H1:%Y-%m-%d %H:%M:%S}'", {"status": "'audited'"})
    _write(root / "d5" / "china_sites_20190115_again.csv", f"date,hour,type,1001A,1002A\n20190115,1,PM2.5,{low - 1:g},\n", 1e9 + 240)
    ingest(lake, "cnemc-archive", [root / "d5"])
    assert {k: v for k, v in _conform(lake).items() if k in ("corrected", "audited_reopened")} == {"corrected": 1, "audited_reopened": 1}
    row = _row(lake, "1001A", H1)
    assert (row.pm25, row.status, row.pm10) == (low - 1, "preliminary", before.pm10)
    last = lake.read(SILVER_VALUE_CORRECTIONS).where(F.col("new_value") == low - 1).first()
    assert (last.old_value, last.old_status) == (low, "audited")


def test_a_command_pointed_at_a_file_it_cannot_read_exits_non_zero(tmp_path):
    """`smartmon ingest` names the refused file and exits 1: refused loudly, never ignored."""
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "readme.md").write_text("not a CNEMC file\n", encoding="utf-8")
    env = {**os.environ, "SMARTMON_LAKE": str(tmp_path / "lake"), "SMARTMON_LANDING": str(tmp_path / "landing")}
    r = subprocess.run([sys.executable, "-m", "pipelines.cli", "ingest", "cnemc-archive", str(feed), "--bronze-only"],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 1, r.stderr[-2000:]
    assert f"REFUSED {feed / 'readme.md'}" in r.stderr
    assert "REFUSED=1" in r.stdout


def test_hj212_the_greater_qn_wins_in_a_batch_and_across_batches(own, spark):
    """A device's re-sent correction wins by its QN (when it was sent), whatever order the frames
    arrive in; an old frame re-sent late changes nothing."""
    from jobs.silver.hj212_values import latest
    from smartmon import catalog
    from smartmon.catalog.names import SILVER_HJ212_VALUES

    lake, _ = own
    spec = catalog.get(SILVER_HJ212_VALUES)
    at = datetime(2026, 12, 1, 1)

    def frames(*rows):  # (value, qn, file, line, batch time)
        data = [("MN1", datetime(2026, 11, 30, 16), "2061", "32", "a21026", "so2", "Avg", v, "N", "CRC", qn, "hj212", f, n, "B", t)
                for v, qn, f, n, t in rows]
        return spark.createDataFrame(data, spec.schema)

    # in one batch: the frame sent later (greater QN) arrives first in the file order
    one = latest(frames((12.0, "20261201011500000", "/a.hj212", 1, at), (10.0, "20261201010000000", "/a.hj212", 2, at)))
    assert [r.value for r in one.collect()] == [12.0]
    lake.merge(one, SILVER_HJ212_VALUES, newer="qn")
    # across batches: an old frame re-sent late is ignored, a newer correction wins
    lake.merge(latest(frames((10.0, "20261201010000000", "/b.hj212", 1, datetime(2026, 12, 2)))), SILVER_HJ212_VALUES, newer="qn")
    assert [r.value for r in lake.read(SILVER_HJ212_VALUES).collect()] == [12.0]
    lake.merge(latest(frames((11.0, "20261202080000000", "/c.hj212", 1, datetime(2026, 12, 2)))), SILVER_HJ212_VALUES, newer="qn")
    assert [(r.value, r.source_file) for r in lake.read(SILVER_HJ212_VALUES).collect()] == [(11.0, "/c.hj212")]
