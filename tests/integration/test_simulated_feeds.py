"""The simulated tiers and external sources end to end (the session's `simulated` Beijing network):
every feed through its adapter into bronze, quarantine and silver, checked against the files and
the generator's truth."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from deltalake import DeltaTable
from pyspark.sql import functions as F

from jobs.bronze.adapter import simulated
from jobs.bronze.ingest import ingest
from smartmon.simulate.air import ppb_to_ugm3
from tests.conftest import nothing_new, run_silver

SOURCES = [m.NAME for m in simulated()] + ["hj212"]
NEW_TABLES = ["silver.emission_sources", "silver.source_emissions", "silver.power_use", "silver.energy_use",
              "silver.river_sections", "silver.section_flow", "silver.land_use", "silver.county_stats"]


@pytest.fixture(scope="module")
def sim(simulated):
    return simulated


def _present(out: Path) -> set[tuple[str, datetime]]:
    """(station, hour end in UTC) of every readable record, read from the files themselves (a record
    whose values are all missing still says the station reported that hour: it gets its row)."""
    present = set()
    for p in (out / "provincial-air").rglob("*.csv"):
        for r in csv.reader(p.read_text(encoding="gbk").splitlines()[1:]):
            present.add((r[0], datetime.strptime(r[1], "%Y/%m/%d %H:%M") - timedelta(hours=8)))
    for p in (out / "county-air").glob("*.csv"):
        for r in csv.reader(p.read_text(encoding="utf-8").splitlines()[1:]):
            if len(r) == 8:
                start = datetime.fromisoformat(r[1]).astimezone(UTC).replace(tzinfo=None)
                present.add((r[0], start + timedelta(hours=1)))
    for p in (out / "township-sensors").glob("*.jsonl"):
        for line in p.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            present.add((rec["device"], datetime.fromtimestamp(rec["ts"], UTC).replace(tzinfo=None)))
    return present


def test_nothing_lost_and_bronze_faults_quarantined(lake, sim):
    out, report, reports = sim
    assert all(r.lost == 0 for r in reports), [r.line() for r in reports]
    faults = pd.read_csv(out / "_truth/faults.csv")
    q = lake.read("bronze.quarantine").where(F.col("source").isin("county-air", "township-sensors"))
    got = {(Path(r.source_file).relative_to(out).as_posix(), r.source_line, r.stage.split(":")[0]) for r in q.collect()}
    want = {(f.file, f.line, f.stage if f.stage == "bronze" else "silver.air_hourly") for f in faults.itertuples()}
    assert got == want and len(want) == report.faults


def test_one_silver_row_per_station_hour_present(lake, sim):
    out, *_ = sim
    rows = lake.read("silver.air_hourly").where(F.col("source").isin("provincial-air", "county-air", "township-sensors"))
    got = {(r.station_id, r.ts) for r in rows.select("station_id", "ts").collect()}
    assert got == _present(out) and rows.count() == len(got)


def test_units_and_clocks_converted_once(lake, sim):
    out, *_ = sim
    air = lake.read("silver.air_hourly")
    rec = json.loads(sorted((out / "township-sensors").glob("*.jsonl"))[-1].read_text().splitlines()[100])
    row = air.where((F.col("station_id") == rec["device"]) & (F.col("ts") == datetime.fromtimestamp(rec["ts"], UTC).replace(tzinfo=None))).first()
    assert row.no2 == pytest.approx(float(ppb_to_ugm3(rec["no2_ppb"], "no2")))
    assert row.co == pytest.approx(float(ppb_to_ugm3(rec["co_ppm"], "co")))
    assert row.source_unit is not None
    first = sorted((out / "county-air").glob("*.csv"))[-1].read_text().splitlines()[1].split(",")
    start = datetime.fromisoformat(first[1]).astimezone(UTC).replace(tzinfo=None)
    row = air.where((F.col("station_id") == first[0]) & (F.col("ts") == start + timedelta(hours=1))).first()
    assert row.co == pytest.approx(float(first[6]) / 1000) and row.so2 == pytest.approx(float(first[4]))


def test_tiers_registered_with_h3(lake, sim):
    out, *_ = sim
    truth = pd.read_csv(out / "_truth/stations.csv", dtype=str)
    reg = lake.read("silver.stations").where(F.col("station_id").isin(list(truth["station_id"]))).toPandas()
    assert len(reg) == len(truth) and reg["h3_r7"].notna().all()
    merged = reg.merge(truth, on="station_id", suffixes=("", "_truth"))
    assert (merged["tier"] == merged["tier_truth"]).all() and (merged["kind"] == merged["kind_truth"]).all()
    assert (merged["county_code"] == merged["county_code_truth"]).all()


def test_external_sources_conformed(lake, sim):
    out, *_ = sim
    ent = pd.read_csv(out / "enterprises/enterprises.csv", dtype=str, encoding="utf-8-sig")
    assert lake.read("silver.emission_sources").count() == len(ent)
    # emissions: the sum of every frame's SO2 Cou equals silver's
    so2 = 0.0
    for p in (out / "hj212").glob("*.hj212"):
        for frame in p.read_bytes().decode().split("\r\n"):
            so2 += sum(float(kv.split("=")[1]) for kv in frame.replace(";", ",").split(",") if kv.startswith("a21026-Cou="))
    got = lake.read("silver.source_emissions").where("pollutant = 'so2'").agg(F.sum("amount")).first()[0]
    assert got == pytest.approx(so2, rel=1e-9)
    # electricity: enterprise kWh as sent, county totals x 10^4
    e = pd.concat(pd.read_csv(p, encoding="utf-8-sig") for p in (out / "power-use").glob("enterprise_*.csv"))
    c = pd.concat(pd.read_csv(p, encoding="utf-8-sig") for p in (out / "power-use").glob("county_*.csv"))
    power = lake.read("silver.power_use").groupBy("consumer_kind").agg(F.sum("kwh").alias("kwh"), F.count("*").alias("n"))
    power = {r.consumer_kind: (r.kwh, r.n) for r in power.collect()}
    assert power["enterprise"] == (pytest.approx(e["用电量(千瓦时)"].sum()), len(e))
    assert power["county-sector"] == (pytest.approx(c["用电量(万千瓦时)"].sum() * 1e4), len(c))
    flow = pd.concat(pd.read_csv(p) for p in (out / "hydrology").glob("flow_*.csv"))
    assert lake.read("silver.section_flow").count() == len(flow)
    sections = lake.read("silver.river_sections")
    # every downstream id is a section of the same river: the network is closed
    assert sections.alias("a").join(sections.alias("b"), F.col("a.downstream_id") == F.col("b.section_id"), "left_anti") \
        .where("a.downstream_id IS NOT NULL AND a.downstream_id <> ''").count() == 0
    shares = lake.read("silver.land_use").select((F.col("cropland") + F.col("forest") + F.col("grassland") + F.col("water")
                                                   + F.col("built_up") + F.col("unused")).alias("s"))
    assert shares.where(F.abs(F.col("s") - 1) > 1e-6).count() == 0 and shares.count() > 0
    assert lake.read("silver.county_stats").count() == len(pd.read_csv(next((out / "statistics").glob("*.csv"))))


def test_reingest_changes_nothing(lake, sim):
    out, *_ = sim
    versions = {t: lake.version(t) for t in ["silver.air_hourly", "silver.stations", *NEW_TABLES]}
    again = [r for s in SOURCES for r in ingest(lake, s, [out / s])]
    assert all(f.status == "skipped" for r in again for f in r.files)
    summaries = run_silver(lake)
    assert summaries == nothing_new(summaries)
    assert versions == {t: lake.version(t) for t in versions}


def test_new_tables_read_back_with_delta_rs(lake, sim):
    for t in NEW_TABLES:
        assert DeltaTable(lake.path(t)).to_pyarrow_table().num_rows == lake.read(t).count(), t


@pytest.mark.parametrize("adapter", ["provincial-air", "county-air", "township-sensors"])
def test_wide_rows_equal_the_long_cell_path(lake, sim, adapter):
    """The flat feeds skip melting to cells (a 6x smaller shuffle); the rows they give must equal
    what the cell path (melt, then one row per station and hour) gives on the same bronze rows."""
    from pyspark.testing import assertDataFrameEqual

    from jobs.silver import air_tiers
    from jobs.silver.air_hourly import rows_of, to_rows
    from jobs.silver.air_rows import wide
    from jobs.silver.conform import melt

    table, base_of = {"provincial-air": ("bronze.provincial_air", air_tiers.provincial_base),
                      "county-air": ("bronze.county_air", air_tiers.county_base),
                      "township-sensors": ("bronze.township_sensors", air_tiers.township_base)}[adapter]
    base, columns = base_of(lake.read(table))
    got, want = rows_of(wide(base, columns)), to_rows(melt(base, columns))
    assert want.count() > 100
    assertDataFrameEqual(got, want, rtol=0, atol=0)
