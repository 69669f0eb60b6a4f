"""The QC job on the session lake, audit decisions, gold exclusions, trace and the ledger."""

import shutil
from dataclasses import replace

import pytest
from pyspark.sql import functions as F

from jobs.bronze.ingest import ingest
from jobs.gold import aqi_hourly
from jobs.qc import flags as qc
from smartmon import ledger
from smartmon.errors import InputError
from smartmon.io import Lake
from smartmon.qc import audit
from smartmon.trace import parse_time, trace


@pytest.fixture(scope="module")
def checked(lake, ingested):
    first = qc.run(lake)
    again = qc.run(lake)
    gold = aqi_hourly.run(lake)
    return first, again, gold


def test_absurd_nh3n_values_are_errors_and_a_rerun_changes_nothing(lake, checked):
    first, again, _ = checked
    assert first["days"] >= 1 and first["flags_error"] >= 1
    assert again["days"] == 0 and again["rows_out"] == 0  # same data, same rules: nothing to do
    nh3n = lake.read("silver.qc_flags").where("parameter = 'nh3n' AND rule = 'impossible'")
    assert nh3n.where("level = 'ERROR'").count() >= 4
    worst = lake.read("silver.water_obs").where("parameter = 'nh3n'").agg(F.max("value")).first()[0]
    assert worst > 10_000 and nh3n.where(F.col("detail").contains(f"{worst}")).count() == 1


def test_qc_summary_by_rule_and_level(lake, checked):
    summary = qc.summary_by_rule(lake)
    rules = {(t, r, lvl) for t, r, lvl, _ in summary}
    assert ("silver.water_obs", "impossible", "ERROR") in rules
    assert any(t == "silver.air_hourly" for t, _, _, _ in summary)
    assert lake.read("gold.qc_screening").where("rank = 1").count() == 1


def test_audit_mark_excludes_from_gold_and_unmark_restores(lake, checked):
    station, start, end = "1001A", "2019-01-01T09:00", "2019-01-01T11:00"
    d = audit.Decision(station, "pm25", parse_time(start), parse_time(end), "invalid", "sampler inlet blocked", "qa-team")
    before = lake.read("gold.aqi_hourly").where(F.col("station_id") == station)
    assert before.where("iaqi_pm25 IS NOT NULL").count() > 0
    result = audit.mark(lake, d)
    assert result["rows_audited"] == 3
    rows = lake.read("silver.air_hourly").where(F.col("station_id") == station)
    assert rows.where("status = 'audited'").count() == 3
    flag = lake.read("silver.qc_flags").where("rule = 'manual_audit'").first()
    assert flag.level == "ERROR" and "sampler inlet blocked" in flag.detail
    aqi_hourly.run(lake)
    hit = lake.read("gold.aqi_hourly").where(F.col("station_id") == station).where(
        F.col("ts").between(parse_time(start), parse_time(end)))
    assert [(r.iaqi_pm25, r.n_excluded) for r in hit.collect()] == [(None, 1)] * 3

    with pytest.raises(InputError, match="no active audit mark"):
        audit.unmark(lake, replace(d, ts_to=parse_time("2019-01-01T12:00")))
    audit.unmark(lake, replace(d, verdict=None, reason="inlet checked: fine", auditor="qa-lead"))
    assert lake.read("silver.air_hourly").where("status = 'audited'").count() == 0
    assert lake.read("silver.qc_flags").where("rule = 'manual_audit'").count() == 0
    assert lake.read("silver.audit_log").count() == 2  # history is kept
    aqi_hourly.run(lake)
    assert lake.read("gold.aqi_hourly").where(F.col("n_excluded") > 0).count() == 0


def test_audit_refuses_what_it_cannot_record(lake, checked):
    d = audit.Decision("1001A", "pm25", parse_time("2019-01-01T09:00"), parse_time("2019-01-01T08:00"), "invalid", "x", "y")
    with pytest.raises(InputError, match="ends before it starts"):
        audit.mark(lake, d)
    with pytest.raises(InputError, match="unknown station"):
        audit.mark(lake, replace(d, station_id="NOPE", ts_to=d.ts_from))


def test_trace_an_aqi_value_to_its_landing_line(lake, checked):
    text = trace(lake, "gold.aqi_hourly", ["1001A", "2019-01-01T08:00"]).text()
    assert "gold.aqi_hourly" in text and "silver.air_hourly" in text and "bronze (bronze.cnemc_hourly)" in text
    assert "unchanged since ingest" in text
    assert "type=PM2.5" in text and "line " in text and "20190101,8,PM2.5" in text


def test_trace_an_hj212_value_to_its_frame_and_crc(lake, checked):
    row = lake.read("silver.hj212_values").where("st = '22'").first()
    text = trace(lake, "silver.hj212_values", [row.mn, row.data_time.isoformat() + "Z"]).text()
    assert f"CRC sent {row.crc}, recomputed {row.crc}: ok" in text


def test_ledger_verifies_the_session_lake(lake, ingested):
    v = ledger.verify(lake)
    assert v.ok, v.problems
    assert v.entries == lake.read("bronze.ingest_batches").select("batch_id").distinct().count()


def test_ledger_names_what_was_tampered_with(spark, settings, landing, tmp_path):
    own = Lake(spark, replace(settings, lake=str(tmp_path / "lake")))
    files = tmp_path / "water"
    shutil.copytree(landing / "water", files)
    ingest(own, "water-auto", [files])
    shutil.copytree(landing / "hj212", tmp_path / "hj212")
    ingest(own, "hj212", [tmp_path / "hj212"])
    assert ledger.verify(own).ok

    victim = min(files.rglob("*.csv"))
    data = victim.read_bytes()
    victim.write_bytes(data.replace(b"1", b"2", 1))
    v = ledger.verify(own)
    assert not v.ok and any(str(victim) in p and "changed since ingest" in p for p in v.problems)
    victim.write_bytes(data)
    assert ledger.verify(own).ok

    # an earlier manifest rewritten in bronze.ingest_batches
    own.update("bronze.ingest_batches", f"source_file = '{victim}'", {"records_read": "records_read + 1"})
    v = ledger.verify(own, check_files=False)
    assert any("differs from ledger entry 1" in p for p in v.problems)
    own.update("bronze.ingest_batches", f"source_file = '{victim}'", {"records_read": "records_read - 1"})

    # the ledger itself rewritten (append-only lifted first, as an intruder would have to)
    path = own.path("bronze.ingest_ledger")
    spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ('delta.appendOnly' = 'false')")
    own.update("bronze.ingest_ledger", "seq = 1", {"manifest": "replace(manifest, '\"records_read\":', '\"records_read\": ')"})
    v = ledger.verify(own, check_files=False)
    assert any("ledger entry 1" in p and "manifest altered" in p for p in v.problems)
    own.spark.sql(f"DELETE FROM delta.`{path}` WHERE seq = 1")
    v = ledger.verify(own, check_files=False)
    assert any("entry 1 is missing" in p for p in v.problems)
