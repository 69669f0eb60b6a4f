"""A new source is one adapter module plus its table declaration, and nothing else changes.

The test writes a throwaway air feed as a module of its own in a temporary folder (its adapter,
its bronze table, its `air_rows`), names it in SMARTMON_PLUGINS, and finds it in ingest, in the
silver job's reads and rows, in `smartmon nightly --plan` and in the CLI, on a lake of its own
(so the shared test lake keeps its counts).
"""

from __future__ import annotations

import json
import sys
import textwrap
from dataclasses import replace
from datetime import date

import pytest
from pyspark.sql import functions as F

MODULE = "throwaway_air_feed"
SOURCE = textwrap.dedent('''
    """A throwaway air feed: station,time (Beijing, end of hour),pm25,no2 in a CSV."""
    from pathlib import Path

    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    from jobs.bronze.base import Parsed, flat_csv
    from jobs.silver.air_rows import wide
    from jobs.silver.conform import LINEAGE_COLS, beijing_to_utc
    from smartmon.catalog import LINEAGE, Col, TableSpec, register
    from smartmon.catalog.names import SILVER_AIR_HOURLY

    NAME = "throwaway-air"
    SOURCE = NAME
    FOLDER = ""
    FEEDS = (SILVER_AIR_HOURLY,)
    HEADER = ["station", "time", "pm25", "no2"]
    BRONZE = register(TableSpec(
        layer="bronze", name="throwaway_air", description="a throwaway air feed (tests)",
        columns=(*[Col(c, "string", c) for c in HEADER], *LINEAGE),
        append_only=True,
    )).fqn


    def matches(path: Path) -> bool:
        return path.suffix == ".csv"


    def parse(path: Path) -> Parsed:
        return flat_csv(path, HEADER, HEADER)


    def air_rows(bronze: DataFrame, lake) -> DataFrame:
        local = F.to_timestamp("time", "yyyy-MM-dd HH:mm")
        base = bronze.select(F.col("station").alias("station_id"), beijing_to_utc(local).alias("ts"), "pm25", "no2", *LINEAGE_COLS)
        return wide(base, {"pm25": ("pm25", 1.0, None), "no2": ("no2", 1.0, None)})
''')


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / f"{MODULE}.py").write_text(SOURCE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("SMARTMON_PLUGINS", MODULE)
    yield
    sys.modules.pop(MODULE, None)
    # the throwaway table leaves the registry with its module: later tests see the platform's own
    from smartmon.catalog import spec

    spec._REGISTRY.pop("bronze.throwaway_air", None)


def test_a_new_source_is_one_module(plugin, spark, settings, tmp_path, capsys):
    from jobs.bronze.adapter import adapters, feeding, sources
    from jobs.bronze.ingest import ingest, reconcile
    from pipelines.cli import build_parser, main
    from pipelines.definitions import graph
    from smartmon import catalog
    from smartmon.catalog.names import SILVER_AIR_HOURLY, SILVER_STATIONS
    from smartmon.io import Lake
    from smartmon.jobspec import RunContext

    # the registry, the graph and the plan see it
    assert "throwaway-air" in adapters() and "throwaway-air" in sources()
    assert "throwaway-air" in [a.NAME for a in feeding(SILVER_AIR_HOURLY)]
    g = graph()
    assert g.jobs["ingest.throwaway-air"].writes == ("bronze.throwaway_air",)
    assert "bronze.throwaway_air" in g.jobs[SILVER_AIR_HOURLY].reads
    assert "ingest.throwaway-air" in g.after[SILVER_AIR_HOURLY]
    assert main(["nightly", "--plan", "--json", "--date", "2019-01-31"]) == 0
    plan = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert plan["ingest.throwaway-air"]["writes"] == ["bronze.throwaway_air"]
    assert "ingest.throwaway-air" in plan[SILVER_AIR_HOURLY]["after"]
    # ... and the CLI: `smartmon ingest throwaway-air`, `smartmon run ingest.throwaway-air`
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert "throwaway-air" in sub.choices["ingest"].format_help()
    assert parser.parse_args(["run", "ingest.throwaway-air", "--date", "2019-01-31"]).job == ["ingest.throwaway-air"]

    # ingest and the silver job, on a lake of its own with one registered station
    lake = Lake(spark, replace(settings, lake=str(tmp_path / "lake"), landing=str(tmp_path / "landing")))
    stations = spark.createDataFrame([("1001A", "air", "national", 39.9, 116.4)], "station_id string, kind string, tier string, lat double, lon double")
    spec = catalog.get(SILVER_STATIONS)
    lake.merge(stations.select(*[F.col(c.name).cast(c.type) if c.name in stations.columns else F.lit(None).cast(c.type).alias(c.name)
                                 for c in spec.columns]).fillna({"source": "test"}), SILVER_STATIONS)
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "day1.csv").write_text("station,time,pm25,no2\n1001A,2019-01-31 01:00,35,40\n1001A,2019-01-31 02:00,x,41\n"
                                   "9999Z,2019-01-31 01:00,1,2\n1001A,2019-01-31 03:00\n", encoding="utf-8")
    (report,) = ingest(lake, "throwaway-air", [feed])
    assert (report.total("read"), report.total("accepted"), report.total("quarantined"), report.lost) == (4, 3, 1, 0)
    summary = g.jobs[SILVER_AIR_HOURLY].run(RunContext(lake=lake, run_date=date(2019, 1, 31), run_id="plugin-test"))
    assert summary["batches"] == 1
    rows = {(r.ts.hour, r.pm25, r.no2) for r in lake.read(SILVER_AIR_HOURLY).where("source = 'throwaway-air'").collect()}
    assert rows == {(17, 35.0, 40.0), (18, None, 41.0)}  # 01:00 and 02:00 Beijing = 17:00 and 18:00 UTC the day before
    reasons = [r.reason for r in lake.read("bronze.quarantine").collect()]
    assert any("non-numeric value for pm25" in r for r in reasons) and any("9999Z" in r for r in reasons)
    assert any("expected 4 fields" in r for r in reasons)
    assert [(s, lost) for s, *_, lost in reconcile(lake, ["throwaway-air"])] == [("throwaway-air", 0)]
