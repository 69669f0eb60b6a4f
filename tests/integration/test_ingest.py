"""Ingestion end to end on real files (and copies with injected faults): bronze, quarantine,
reconciliation, silver conformance, idempotence, delta-rs as an independent reader."""

import csv
import shutil
from pathlib import Path

import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable
from pyspark.sql import functions as F

from jobs.bronze.ingest import ingest, reconcile
from pipelines.definitions import graph
from smartmon import catalog
from tests.conftest import SOURCES, nothing_new, run_silver


def _present_station_hours(files, known):
    present = set()
    for f in files:
        with open(f, encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            for row in reader:
                for station, value in zip(header[3:], row[3:], strict=True):
                    if value != "" and station in known:
                        present.add((station, row[0], row[1]))
    return present


def test_reconciliation_balances_for_every_source(lake, ingested):
    reports, _ = ingested
    assert all(r.lost == 0 for r in reports), [r.line() for r in reports]
    table = {row[0]: row for row in reconcile(lake)}
    for source in ("cnemc-archive", "uci-beijing", "kdd2018", "water-auto", "hj212", "epa-pmf"):
        assert table[source][4] == 0, table[source]


def test_one_silver_row_per_station_hour_present(lake, ingested, landing):
    known = {r.station_id for r in lake.read("silver.stations").select("station_id").collect()}
    expected = _present_station_hours(sorted((landing / "cnemc").glob("*.csv")), known)
    got = lake.read("silver.air_hourly").where(F.col("source_file").startswith(str(landing / "cnemc")))
    assert got.count() == len(expected)
    assert got.select("station_id", "ts").distinct().count() == len(expected)


def test_cnemc_time_convention_and_values(lake, ingested):
    row = lake.read("silver.air_hourly").where("station_id = '1001A' AND ts = '2019-01-01 00:00:00'").first()
    # 2019-01-01 hour 8 in Beijing (mean of 07:00-08:00) is 00:00 UTC.
    with open(lake.cfg.data_root / "china_national_aq_hourly/china_sites_20190101.csv", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["hour"] == "8"]
    by_type = {r["type"]: (float(r["1001A"]) if r["1001A"] else None) for r in rows}
    assert row.pm25 == by_type["PM2.5"] and row.co == by_type["CO"]
    assert row.aqi_published == by_type["AQI"] and row.o3_8h == by_type["O3_8h"] and row.pm25_24h == by_type["PM2.5_24h"]


def test_injected_faults_are_quarantined_with_file_and_line(lake, ingested, landing):
    q = lake.read("bronze.quarantine").where(F.col("source_file") == str(landing / "cnemc" / "china_sites_20190103.csv")).collect()
    reasons = {(r.source_line, r.reason.split(" (")[0]) for r in q}
    assert (5, "non-numeric value for pm25_24h at station 1002A") in reasons or any(
        line == 5 and "non-numeric" in reason for line, reason in reasons
    )
    assert any("unknown station 9999Z" in r.reason and r.source_line == 2 for r in q)


def test_hj212_bad_crc_frames_are_quarantined_and_the_rest_land(lake, ingested):
    bronze = lake.read("bronze.hj212_frames").where(F.col("source") == "hj212")
    assert bronze.select("crc").distinct().count() >= 17 and bronze.count() >= 19
    bad = lake.read("bronze.quarantine").where("source = 'hj212' AND stage = 'bronze:hj212'")
    assert bad.where(F.col("reason").contains("CRC mismatch")).count() == 8
    values = lake.read("silver.hj212_values").where("code = 'a34004'").count()
    assert values >= 1


def test_uci_units_and_aliases(lake, ingested):
    b = lake.read("bronze.uci_hourly").where("station = 'Dongsi' AND no = '16113'").first()  # 2015-01-01 08:00 Beijing
    s = lake.read("silver.air_hourly").where("station_id = '1003A' AND ts = '2015-01-01 00:00:00'").first()
    assert s.co == pytest.approx(float(b.co) / 1000) and s.source_unit == "co ug/m3"
    m = lake.read("silver.meteo_hourly").where("station_id = '1003A' AND ts = '2015-01-01 00:00:00'").first()
    assert m.wind_dir_deg == 337.5 and m.wind_u > 0 and m.wind_v < 0  # NNW wind blows towards SSE


def test_absurd_water_values_are_kept_for_qc(lake, ingested):
    top = lake.read("silver.water_obs").where("parameter = 'nh3n'").agg(F.max("value")).first()[0]
    assert top == 70765.0
    station = lake.read("silver.stations").where("station_id = 'SW-zhakou-guo'").first()
    assert station.tier == "national" and station.county_code == "330106" and station.kind == "surface_water"


def test_reingest_changes_nothing(lake, ingested, landing):
    versions = {t.fqn: lake.version(t.fqn) for t in catalog.all_tables() if t.layer == "bronze" and lake.exists(t.fqn) and t.name != "ingest_batches"}
    silver = [t for s in graph().steps if s.job.layer == "silver" for t in s.job.writes]
    counts = {t: lake.read(t).count() for t in silver}
    again = [r for source, sub in SOURCES for r in ingest(lake, source, [landing / sub])]
    # the files no adapter reads (the datasets' SOURCE.txt, the HJ 212 JSON copy) are refused again, as loudly
    assert {(f.status, Path(f.path).name) for r in again for f in r.files if f.status != "skipped"} == {
        ("refused", "SOURCE.txt"), ("refused", "hj212_messages.json")}
    summaries = run_silver(lake)
    assert summaries == nothing_new(summaries)
    assert versions == {fqn: lake.version(fqn) for fqn in versions}
    assert counts == {t: lake.read(t).count() for t in silver}


def test_same_bytes_under_another_path_are_a_duplicate_file(lake, ingested, landing, tmp_path):
    copy = tmp_path / "resent" / "china_sites_20190101.csv"
    copy.parent.mkdir()
    shutil.copy(landing / "cnemc" / "china_sites_20190101.csv", copy)
    (report,) = ingest(lake, "cnemc-archive", [copy])
    assert [f.status for f in report.files] == ["duplicate"] and report.lost == 0
    q = lake.read("bronze.quarantine").where(F.col("source_file") == str(copy)).first()
    assert "duplicate file" in q.reason and str(landing / "cnemc") in q.reason
    manifest = {r.source_file: r.status for r in lake.read("bronze.ingest_batches").where(
        F.col("source_file").isin(str(copy), str(landing / "cnemc" / "china_sites_20190101.csv"))).collect()}
    assert manifest == {str(copy): "duplicate", str(landing / "cnemc" / "china_sites_20190101.csv"): "ingested"}


def test_every_table_reads_back_with_delta_rs(lake, ingested):
    for spec in catalog.all_tables():
        if not lake.exists(spec.fqn):
            continue
        table = DeltaTable(lake.path(spec.fqn)).to_pyarrow_table()
        assert table.num_rows == lake.read(spec.fqn).count(), spec.fqn
        assert set(spec.column_names) == set(table.column_names), spec.fqn
    stations = DeltaTable(lake.path("silver.stations")).to_pyarrow_table()
    assert pc.sum(pc.equal(stations.column("kind"), "supersite")).as_py() == 1  # EPA St. Louis


def test_files_ingested_before_are_skipped_unread_and_a_rewritten_file_is_read(spark, settings, landing, tmp_path, monkeypatch):
    """A night does not hash the landing zone's history: a file with the size it had and last
    modified before its ingest is skipped without reading it; one rewritten in place since (same
    name, same size, other bytes) is hashed and ingested as the new delivery it is. (A lake of
    its own: the session's lake stays as the other tests expect it.)"""
    import dataclasses
    import os

    from jobs.bronze import ingest as ingest_module
    from smartmon.io import Lake

    lake = Lake(spark, dataclasses.replace(settings, lake=str(tmp_path / "lake")))

    folder = tmp_path / "cnemc-again"
    folder.mkdir()
    day = folder / "china_sites_20190104.csv"
    text = (landing / "cnemc" / "china_sites_20190102.csv").read_text(encoding="utf-8").replace("20190102", "20190104")
    day.write_text(text, encoding="utf-8")
    (first,) = ingest(lake, "cnemc-archive", [folder])
    assert [f.status for f in first.files] == ["ingested"]

    hashed: list[str] = []
    real = ingest_module.sha256_file
    monkeypatch.setattr(ingest_module, "sha256_file", lambda p: hashed.append(str(p)) or real(p))
    (again,) = ingest(lake, "cnemc-archive", [folder])
    assert [f.status for f in again.files] == ["skipped"] and hashed == []

    # the same number of bytes, one value changed (line 2, first station: "1" digits swapped for "2")
    lines = text.split("\n")
    fields = lines[1].split(",")
    col = next(i for i in range(3, len(fields)) if fields[i] and fields[i][0] in "13456789")
    fields[col] = ("2" if fields[col][0] != "2" else "3") + fields[col][1:]
    changed = "\n".join([lines[0], ",".join(fields), *lines[2:]])
    assert len(changed.encode()) == len(text.encode()) and changed != text
    day.write_text(changed, encoding="utf-8")
    stamp = day.stat().st_mtime + 5  # a clock step a coarse file system might not show
    os.utime(day, (stamp, stamp))
    (rewritten,) = ingest(lake, "cnemc-archive", [folder])
    assert [f.status for f in rewritten.files] == ["ingested"] and hashed == [str(day)]
