"""Gold products on the session lake: moving values against CNEMC's, daily AQI, HJ 663
evaluation and ranking, water classes, H3 and admin rollups, maintenance and outside readers."""

import json
import random
from datetime import date, datetime

import pytest
from pyspark.sql import functions as F

from jobs import maintenance
from jobs.gold import aggregates, air_moving, aqi_daily, evaluation, water_class
from smartmon.beijing_time import beijing_to_utc
from smartmon.changes import days_of_month
from smartmon.standards.aqi import HJ633_2012, HJ633_2026
from smartmon.standards.aqi import daily_aqi as ref_daily
from smartmon.standards.evaluation import percentile
from smartmon.standards.water import class_column
from smartmon.standards.water import water_class as ref_class

# The test landing has 2019-01-01 and -02 and a faulty copy of the 2nd dated the 3rd: compare
# published moving values only up to the end of the 2nd (16:00 UTC).
REAL_UNTIL = datetime(2019, 1, 2, 16, 0)


@pytest.fixture(scope="module")
def built(lake, ingested):
    from jobs.qc import flags as qc

    qc.run(lake, days=days_of_month("2019-01"))  # explicit days leave the change mark, so test_qc still sees a first run
    first = {"moving": air_moving.run(lake), "daily": aqi_daily.run(lake), "eval": evaluation.run(lake),
             "agg": aggregates.run(lake), "water": water_class.run(lake)}
    return first


def test_moving_values_agree_with_cnemc_where_the_window_is_complete(lake, built):
    air = lake.read("silver.air_hourly").where("source = 'cnemc-archive'").where(F.col("ts") < F.lit(REAL_UNTIL))
    frame = air_moving.moving_frame(air)
    per_day = air_moving.agreement(frame, air_moving.published_frame(air)).where("window = 'complete'")
    assert per_day.select("day").distinct().count() >= 2  # one row per day and measure
    sums = per_day.groupBy("measure").agg(*[F.sum(c).alias(c) for c in ("n_compared", "n_equal", "n_tie", "n_equal_or_tie")])
    got = {r.measure: r for r in sums.collect()}
    for measure in ("pm25_24h", "pm10_24h", "so2_24h", "no2_24h", "o3_8h", "o3_24h"):
        r = got[measure]
        assert r.n_compared > 10_000 and r.n_equal / r.n_compared >= 0.99, (measure, r)
    co = got["co_24h"]
    assert co.n_equal_or_tie / co.n_compared >= 0.99 and co.n_tie > 0  # CO: unrounded inputs decide ties


def test_daily_means_close_the_day_at_the_hour_ending_midnight(lake, built):
    # CNEMC's PM2.5_24h at 00:00 on the 2nd is the mean of the hours ending 01:00 .. 24:00 on the 1st.
    pub = (lake.read("silver.air_hourly").where(F.col("ts") == beijing_to_utc(F.lit("2019-01-02 00:00:00")))
           .select("station_id", "pm25_24h"))
    daily = lake.read("gold.aqi_daily").where("day = DATE'2019-01-01' AND n_pm25 = 24").select("station_id", "pm25")
    both = daily.join(pub, "station_id").where("pm25_24h IS NOT NULL")
    n, same = both.select(F.count("*"), F.sum((F.col("pm25") == F.col("pm25_24h")).cast("int"))).first()
    assert n > 1000 and same / n >= 0.99


def test_daily_aqi_in_spark_equals_the_reference(spark):
    rng = random.Random(7)
    rows = []
    for i in range(300):
        c = {k: rng.choice([None, rng.uniform(0, 900)]) if rng.random() < 0.1 else rng.uniform(0, 900)
             for k in ("so2", "no2", "pm10", "pm25", "o3_8h_max")}
        c["co"] = rng.uniform(0, 70)
        c["o3_1h_max"] = (c["o3_8h_max"] or 0) + rng.uniform(0, 300)
        day = "2019-06-01" if i % 2 else "2026-06-01"
        rows.append((f"s{i}", day, c["so2"], c["no2"], c["co"], c["pm10"], c["pm25"], c["o3_1h_max"], c["o3_8h_max"]))
    df = spark.createDataFrame(rows, "station_id string, day string, so2 double, no2 double, co double, pm10 double, "
                                     "pm25 double, o3_1h_max double, o3_8h_max double").withColumn("day", F.to_date("day"))
    got = {r.station_id: r for r in aqi_daily.daily_aqi(df).collect()}
    for sid, day, so2, no2, co, pm10, pm25, o3, o38 in rows:
        rs = HJ633_2026 if day.startswith("2026") else HJ633_2012
        ref = ref_daily({"so2": so2, "no2": no2, "co": co, "pm10": pm10, "pm25": pm25, "o3": o3, "o3_8h": o38}, rs)
        r = got[sid]
        assert (r.rule_set, r.aqi, r.primary_pollutant) == (rs, ref.aqi, ref.primary), (sid, r, ref)
        assert r.iaqi_so2 == ref.iaqi["so2"] and r.iaqi_o3_8h == ref.iaqi.get("o3_8h")


def test_every_city_in_the_data_is_ranked_and_tiers_agree(lake, built, spark):
    daily = lake.read("gold.aqi_daily").where("day <= DATE'2019-01-02'")
    stations = lake.read("silver.stations")
    rows = evaluation.evaluate(daily, stations, annual=False, min_days=1).cache()
    cities_in_data = (daily.join(stations.where("tier = 'national'"), "station_id").select("city_code").distinct().count())
    city = rows.where("scope = 'city' AND period = '2019-01'")
    assert city.count() == cities_in_data > 300
    got = city.collect()
    ranks = sorted(r.rank for r in got if r.rank is not None)
    assert ranks[0] == 1 and len(ranks) >= 0.9 * cities_in_data
    for r in got:  # unranked only where a statistic of the index is missing
        assert (r.rank is None) == any(getattr(r, s) is None for s in ("so2", "no2", "pm10", "pm25", "co_p95", "o3_8h_p90"))
    # A station's 95th percentile equals the HJ 663 reference on its daily values.
    st = rows.where("scope = 'station' AND code = '1001A'").first()
    vals = [r.pm25 for r in daily.where("station_id = '1001A'").collect()]
    assert st.pm25_p95 == round(percentile(vals, 95))
    # A province number is the mean of its cities' numbers; the index is the sum of the ratios.
    prov = rows.where("scope = 'province' AND code = '440000'").first()
    cities = [r.pm25 for r in city.where("parent_code = '440000'").collect()]
    assert prov.pm25 == pytest.approx(round(sum(cities) / len(cities)), abs=0.51)
    c = city.where("code = '110100'").first()
    assert c.comprehensive_index == pytest.approx(c.so2 / 60 + c.no2 / 40 + c.pm10 / 70 + c.pm25 / 35 + c.co_p95 / 4 + c.o3_8h_p90 / 160, abs=0.006)
    assert rows.where("scope = 'nation' AND period = '2019-01'").count() == 1
    rows.unpersist()


def test_a_short_month_is_evaluated_but_marked_not_valid(lake, built):
    monthly = lake.read("gold.eval_monthly").where("period = '2019-01' AND scope = 'city'")
    assert monthly.count() > 300 and monthly.where("valid").count() == 0 and monthly.where("rank = 1").count() >= 1


def test_water_class_leaves_out_error_flagged_values(lake, built):
    wc = lake.read("gold.water_class")
    feb = wc.where("period_type = 'month' AND period = '2020-02' AND parameter = 'nh3n'").first()
    assert feb.n_excluded >= 1 and feb.value < 100
    assert wc.where("parameter = 'nh3n' AND value > 100").count() == 0
    month = wc.where("period_type = 'month'").select("station_id", "period", "section_class").distinct()
    assert month.count() >= 12


def test_water_class_in_spark_equals_the_reference(spark):
    cases = [(p, v) for p in ("do", "codmn", "cod", "bod5", "nh3n", "tp", "ph") for v in (0.01, 0.1, 0.15, 0.5, 1.0, 2.0, 5.0, 6.5, 7.5, 9.5, 20.0)]
    df = spark.createDataFrame(cases, "parameter string, value double")
    got = [(r.parameter, r.value, r.c) for r in df.select("parameter", "value", class_column(F.col("parameter"), F.col("value")).alias("c")).collect()]
    assert got == [(p, v, ref_class(p, v)) for p, v in cases]


def test_rollups_add_up_across_tiers_and_resolutions(lake, built):
    region = lake.read("gold.region_daily").where("pollutant = 'pm25' AND day = DATE'2019-01-01'")
    stations = lake.read("silver.stations").where("kind = 'air' AND province_code IS NOT NULL AND city_code IS NOT NULL")
    city_to_prov = stations.select(F.col("city_code").alias("code"), "province_code").distinct()
    from_cities = (region.where("scope = 'city'").join(city_to_prov, "code").groupBy("province_code")
                   .agg(F.sum("value_sum").alias("s"), F.sum("n_stations").alias("n")))
    prov = region.where("scope = 'province'").join(from_cities, F.col("code") == F.col("province_code"))
    bad = prov.where((F.abs(F.col("value_sum") - F.col("s")) > 1e-6) | (F.col("n_stations") != F.col("n")))
    assert prov.count() > 25 and bad.count() == 0
    nation = region.where("scope = 'nation'").first()
    total = region.where("scope = 'province'").agg(F.sum("value_sum"), F.sum("n_stations")).first()
    assert nation.value_sum == pytest.approx(total[0]) and nation.n_stations == total[1]
    hexes = lake.read("gold.hex_daily").where("pollutant = 'pm25' AND day = DATE'2019-01-01'")
    parent = aggregates.air_stations(lake.read("silver.stations")).select(F.col("h3_r7").alias("cell"), "h3_r5").distinct()
    r5 = hexes.where("resolution = 7").join(parent, "cell").groupBy("h3_r5").agg(F.sum("value_sum").alias("s"), F.sum("n_stations").alias("n"))
    cmp = hexes.where("resolution = 5").join(r5, F.col("cell") == F.col("h3_r5"))
    assert cmp.count() > 100 and cmp.where((F.abs(F.col("value_sum") - F.col("s")) > 1e-6) | (F.col("n_stations") != F.col("n"))).count() == 0


def test_a_rerun_changes_nothing(lake, built):
    assert air_moving.run(lake)["rows_out"] == 0
    assert aqi_daily.run(lake)["rows_out"] == 0
    assert evaluation.run(lake)["rows_out"] == 0
    assert aggregates.run(lake)["rows_out"] == 0
    assert water_class.run(lake)["rows_out"] == 0


def test_maintenance_keeps_contents_and_outside_readers_see_the_same_rows(lake, built):
    import polars as pl
    from deltalake import DeltaTable

    aqi_daily.run(lake, days=[date(2019, 1, 1)])  # a day rebuilt by hand: its month now holds a second file
    before = lake.read("gold.aqi_daily")
    n_before = before.count()
    digest = before.select(F.sum(F.xxhash64(*before.columns))).first()[0]
    done = maintenance.maintain(lake, "gold.aqi_daily", force=True)
    after = lake.read("gold.aqi_daily")
    assert done.files_removed >= 1 and after.count() == n_before
    assert after.select(F.sum(F.xxhash64(*after.columns))).first()[0] == digest
    assert DeltaTable(lake.path("gold.aqi_daily")).to_pyarrow_table().num_rows == n_before
    ev = pl.read_delta(lake.path("gold.eval_monthly"))
    assert ev.height == lake.read("gold.eval_monthly").count()
    assert set(ev["scope"].unique().to_list()) == {"station", "city", "province", "nation"}
    assert maintenance.prune_sharing_cache(lake) == 0  # the nightly's maintenance also prunes the sharing cache: none here


def test_the_reader_example_runs_without_spark_and_agrees_with_spark(lake, built):
    """examples/read_lake.py (the docs' example of delta-rs, Polars, DuckDB and pandas) on this
    lake, in a process of its own with no Spark: the four readers agree with each other and with
    Spark on the same question."""
    import json
    import subprocess
    import sys

    from smartmon.config import REPO_ROOT

    done = subprocess.run([sys.executable, str(REPO_ROOT / "examples" / "read_lake.py"), lake.cfg.lake],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    daily = lake.read("gold.aqi_daily")
    assert got["rows"] == daily.count() and got["version"] == lake.version("gold.aqi_daily")
    assert got["first_version_rows"] == lake.read("gold.aqi_daily", version=0).count()
    month = daily.agg(F.max("month")).first()[0]
    spark_worst = (daily.where((F.col("month") == month) & F.col("aqi").isNotNull()).groupBy("station_id")
                   .agg(F.avg("aqi").alias("m")).orderBy(F.desc("m"), "station_id").limit(5).collect())
    expected = [[r.station_id, round(r.m, 6)] for r in spark_worst]
    assert got["month"] == month and got["worst_polars"] == expected and got["worst_duckdb"] == expected
    assert got["named"] == [s for s, _ in expected]


def _digest(df):
    return df.select(F.count("*"), F.sum(F.xxhash64(*df.columns))).first()


def test_tables_have_names_in_the_lakes_metastore(lake, built, capsys):
    """Every table the jobs met is named `<layer>.<table>`, EXTERNAL at its lake path: a reader's
    spark.table and spark.sql see what the I/O layer wrote, and `smartmon sql` prints it."""
    from pipelines import cli

    spark = lake.spark
    assert _digest(spark.table("gold.aqi_daily")) == _digest(lake.read("gold.aqi_daily"))
    detail = {r.col_name: r.data_type for r in spark.sql("DESCRIBE TABLE EXTENDED gold.aqi_daily").collect()}
    assert detail["Type"] == "EXTERNAL" and detail["Provider"] == "delta"
    assert detail["Location"].removeprefix("file:") == lake.path("gold.aqi_daily")
    joined = spark.sql("SELECT count(*) AS n FROM gold.aqi_daily d JOIN silver.stations s USING (station_id)").first().n
    assert joined == lake.read("gold.aqi_daily").join(lake.read("silver.stations"), "station_id").count() > 0
    assert cli.main(["sql", "SELECT count(*) AS n FROM gold.aqi_daily", "--csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["n", str(lake.read("gold.aqi_daily").count())]
    assert cli.main(["sql", "SELECT nope FROM gold.aqi_daily"]) == 1
    assert "nope" in capsys.readouterr().err


def test_a_moved_lake_points_its_names_at_its_own_paths(lake, built, tmp_path):
    """A lake copied with its metastore inside (as the benchmarks do) names the old paths: the
    marker tells, the names are dropped (EXTERNAL: no data goes) and named again at this lake."""
    import shutil

    from smartmon import metastore

    spark = lake.spark
    before = _digest(lake.read("gold.aqi_daily"))
    old = tmp_path / "old" / "gold" / "aqi_daily"  # where the lake was: a copy of the table
    shutil.copytree(lake.path("gold.aqi_daily"), old)
    spark.sql("DROP TABLE gold.aqi_daily")
    spark.sql(f"CREATE TABLE gold.aqi_daily USING DELTA LOCATION '{old}'")
    (lake.cfg.metastore_dir / metastore.LAKE_MARKER).write_text(f"{tmp_path / 'old'}\n")
    metastore._STATES.clear()
    done = metastore.register_all(spark, lake.cfg)
    assert done.available and done.named == done.present > 0
    assert (lake.cfg.metastore_dir / metastore.LAKE_MARKER).read_text().strip() == lake.cfg.lake
    assert _digest(spark.table("gold.aqi_daily")) == before == _digest(lake.read("gold.aqi_daily"))
    assert metastore.register_all(spark, lake.cfg).named == 0
    assert (old / "_delta_log").is_dir()  # dropping the old name left its data alone
    detail = {r.col_name: r.data_type for r in spark.sql("DESCRIBE TABLE EXTENDED gold.aqi_daily").collect()}
    assert detail["Location"].removeprefix("file:") == lake.path("gold.aqi_daily")


def _second_process(lake, *statements: str) -> tuple[dict, str]:
    """Run statements in a process of their own on this lake (whose metastore this process holds)."""
    import os
    import subprocess
    import sys

    script = "\n".join((
        "import json, logging; logging.basicConfig(level=logging.WARNING)",
        "from jobs import maintenance",
        "from pipelines import cli",
        "from pipelines.cli_common import open_lake",
        "from smartmon import metastore",
        "lake = open_lake()",
        "done = metastore.register_all(lake.spark, lake.cfg)",
        *statements,
        "rc = cli.main(['sql', 'SELECT count(*) FROM gold.aqi_daily'])",
        "print(json.dumps({'available': done.available, 'present': done.present, 'rows': lake.read('gold.aqi_daily').count(), 'sql': rc}))",
    ))
    env = dict(os.environ, SMARTMON_LAKE=lake.cfg.lake)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_a_second_process_goes_by_path_while_the_metastore_is_held(lake, built):
    """The embedded metastore admits one process: a second one on the same lake warns, reads by
    path as always, and `smartmon sql` says why a name is not found."""
    got, err = _second_process(lake)
    assert got == {"available": False, "present": got["present"], "rows": lake.read("gold.aqi_daily").count(), "sql": 1}
    assert got["present"] > 0 and "cannot be used" in err and "another process holds" in err


@pytest.mark.heavy
def test_maintenance_in_a_second_process_vacuums_without_the_metastore(lake, built):
    """VACUUM's SQL on a path needs the metastore: in a process that cannot open it, maintenance
    falls back to the API's full VACUUM (a minute more per table here, hence heavy) and keeps every row."""
    before = _digest(lake.read("gold.aqi_daily"))
    got, err = _second_process(lake, "maintenance.maintain(lake, 'gold.aqi_daily', force=True)")
    assert got["available"] is False and "full VACUUM by path instead of LITE" in err
    assert _digest(lake.read("gold.aqi_daily")) == before
