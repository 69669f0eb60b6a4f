"""Parsing as Spark tasks (the cluster road) lands what the driver's road lands: the same bronze
rows, the same refusals with their lines, the same manifest; and the driver parses nothing.

Two lakes of their own on the suite's SparkSession, one per road, fed the same real files with
faults: a CNEMC day with an unknown station and a non-numeric cell, and the HJ 212 sample with
frames that fail their CRC."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from jobs.bronze import cnemc_archive, hj212
from jobs.bronze.ingest import ingest
from smartmon.io import Lake

VOLATILE = {"batch_id", "ingested_at"}


def _digest(lake: Lake, fqn: str, order: list[str]) -> tuple[int, str]:
    df = lake.read(fqn)
    cols = [c for c in df.columns if c not in VOLATILE]
    rows = sorted(tuple("" if v is None else str(v) for v in r) for r in df.select(*cols).orderBy(*order).collect())
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


@pytest.fixture(scope="module")
def roads(spark, settings, landing, tmp_path_factory, monkeypatch_module):
    files = {"cnemc-archive": [landing / "cnemc" / "china_sites_20190103.csv"], "hj212": [landing / "hj212"]}
    lakes = {}
    for road in ("driver", "executors"):
        cfg = dataclasses.replace(settings, lake=str(tmp_path_factory.mktemp(f"lake-{road}")), parse_on=road)
        lake = Lake(spark, cfg)
        if road == "executors":
            # the driver must not parse: its copies of the adapters refuse to (the executors'
            # Python workers import their own)
            for adapter in (cnemc_archive, hj212):
                monkeypatch_module.setattr(adapter, "parse", lambda path: pytest.fail(f"the driver parsed {path}"))
        reports = [r for source, paths in files.items() for r in ingest(lake, source, paths)]
        lakes[road] = (lake, reports)
    return lakes


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_the_executors_parse_and_land_what_the_driver_lands(roads):
    (driver, d_reports), (executors, e_reports) = roads["driver"], roads["executors"]
    assert executors.cfg.parses_on_executors and not driver.cfg.parses_on_executors
    for fqn, order in (("bronze.cnemc_hourly", ["source_file"]), ("bronze.hj212_frames", ["source_file"]),
                       ("bronze.quarantine", ["source_file", "source_line"])):
        n, digest = _digest(driver, fqn, order)
        assert n > 0, fqn
        assert _digest(executors, fqn, order) == (n, digest), fqn
    lines = lambda reports: sorted(r.line() for r in reports)  # noqa: E731
    assert lines(e_reports) == lines(d_reports)
    assert all(r.lost == 0 for r in e_reports)
    refused = executors.read("bronze.quarantine").where("reason LIKE '%CRC mismatch%'").count()
    assert refused == 8


def test_a_rerun_on_the_executor_road_changes_nothing(roads, landing):
    lake, _ = roads["executors"]
    before = {fqn: lake.version(fqn) for fqn in ("bronze.cnemc_hourly", "bronze.hj212_frames", "bronze.quarantine")}
    again = ingest(lake, "cnemc-archive", [landing / "cnemc" / "china_sites_20190103.csv"])
    assert all(f.status == "skipped" for r in again for f in r.files)
    assert {fqn: lake.version(fqn) for fqn in before} == before
