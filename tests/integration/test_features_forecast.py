"""Feature tables are point-in-time correct; the control forecast trains on Ray, is tracked and
registered in MLflow, and its aliases are recorded in Delta (smoke settings)."""

from datetime import datetime, timedelta

import pytest
from pyspark.sql import functions as F

from features import air_forecast
from smartmon.catalog.features import feature_columns
from smartmon.qc.apply import valid_air

ISSUE = datetime(2015, 6, 10, 0, 0)
NATIONAL_ISSUE = datetime(2015, 6, 10, 16, 0)  # the nightly's: the end of the Beijing day


@pytest.fixture(scope="module")
def inputs(lake, ingested):
    air = valid_air(lake.read("silver.air_hourly").where("source = 'uci-beijing'"), None).cache()
    meteo = lake.read("silver.meteo_hourly").join(air.select("station_id").distinct(), "station_id").cache()
    stations = lake.read("silver.stations").join(air.select("station_id").distinct(), "station_id")
    return air, meteo, stations


@pytest.fixture(scope="module")
def features_built(lake, inputs):
    return air_forecast.run(lake, sources=("uci-beijing",))


def _rows_at(air, meteo, stations, issue=ISSUE, issues=None):
    feats, clim = air_forecast.build(air, meteo, stations, issues)
    f = {r.station_id: r.asDict() for r in feats.where(F.col("issued_at") == F.lit(issue)).collect()}
    c = sorted(tuple(r) for r in clim.where(F.col("day") == F.lit(issue.date())).collect())
    return f, c


def _scramble(df, cols, after_or_at, issue=ISSUE):
    cond = (F.col("ts") >= F.lit(issue)) if after_or_at else (F.col("ts") > F.lit(issue))
    for c in cols:
        df = df.withColumn(c, F.when(cond, F.col(c) * 7 + 311).otherwise(F.col(c)))
    return df


@pytest.mark.parametrize("issue, issues, known", [(ISSUE, None, ISSUE), (NATIONAL_ISSUE, [NATIONAL_ISSUE], air_forecast.known_until(NATIONAL_ISSUE))],
                         ids=["research-00utc", "nightly-16utc"])
def test_no_feature_uses_data_after_the_issue_time(inputs, issue, issues, known):
    """No feature of an issue depends on an hour after the last one it knows: the issue hour for
    the research forecaster, the hour before it for the nightly (whose night does not have its
    own hour yet: NIGHTLY_DATA_LAG)."""
    air, meteo, stations = inputs
    base_f, base_c = _rows_at(air, meteo, stations, issue, issues)
    assert base_f and base_c
    pollutants = ["pm25", "pm10", "o3", "no2", "co", "so2"]
    weather = ["temp_c", "dewpoint_c", "humidity_pct", "pressure_hpa", "rain_mm", "wind_u", "wind_v"]
    future_f, future_c = _rows_at(_scramble(air, pollutants, False, known), _scramble(meteo, weather, False, known), stations, issue, issues)
    assert future_f == base_f and future_c == base_c
    if issues:  # the nightly's rows also do not depend on whether any hour after the one it knows exists at all
        cut_f, cut_c = _rows_at(air.where(F.col("ts") <= F.lit(known)), meteo.where(F.col("ts") <= F.lit(known)), stations, issue, issues)
        assert cut_f == base_f and cut_c == base_c
        assert 1 <= next(iter(base_f.values()))["history_days"] <= 31
    # The check can fail: scrambling the last hour known changes what was known at issue.
    now_f, _ = _rows_at(_scramble(air, pollutants, True, known), meteo, stations, issue, issues)
    sid = next(iter(base_f))
    assert now_f[sid]["pm25_last"] != base_f[sid]["pm25_last"]


def test_the_hours_near_the_issues_give_what_the_whole_grid_gives(inputs):
    """A night's issues keep only the hours their statistics reach (FEATURE_SPAN), and take the
    days counted and the climatology from the air rows: the same rows as the whole grid gives,
    for two issues a day apart (their spans meet at the first one's hour)."""
    air, meteo, stations = inputs
    issues = [NATIONAL_ISSUE - timedelta(days=1), NATIONAL_ISSUE]
    air = air.where(F.col("ts") <= F.lit(NATIONAL_ISSUE))  # as build_issues reads it
    feats, clim = air_forecast.build(air, meteo, stations, issues)
    grid = air_forecast.hourly_grid(air, meteo, until=NATIONAL_ISSUE)
    whole = air_forecast.history_days(grid, air_forecast.station_features(grid, issues))
    cols = [c for c in whole.columns if c in feats.columns]

    def rows(df):
        return sorted(tuple(r) for r in df.select(*cols).collect())

    got, want = rows(feats), rows(whole)
    assert len(got) == len(want) == 2 * stations.count()
    assert got == want
    days = sorted({i.date() for i in issues})
    want_clim = sorted(tuple(r) for r in air_forecast.climatology(grid, days).collect())
    assert sorted(tuple(r) for r in clim.collect()) == want_clim and len(want_clim) == 2 * 24 * stations.count()


def test_neighbour_means_have_the_same_bits_whatever_the_row_order(lake):
    """The neighbour aggregates sum in sorted order: a shuffle's row order does not move their
    last bits (with F.avg it did, and a re-run rewrote hundreds of unchanged rows)."""
    spark = lake.spark
    values = [1e16, 1.0, -1e16, 0.1, 0.7, 3.3, None]
    issue = datetime(2019, 1, 31, 16)
    feats = spark.createDataFrame([("A", issue, 5.0, 5.0, 5.0)] + [(f"N{k}", issue, v, v, v) for k, v in enumerate(values)],
                                  "station_id string, issued_at timestamp, pm25_last double, pm25_mean24 double, o3_last double")
    pairs = spark.createDataFrame([("A", f"N{k}") for k in range(len(values))], "station_id string, neighbour_id string")
    seen = set()
    for seed in range(6):
        shuffled = feats.orderBy(F.rand(seed)).repartition(3)
        row = air_forecast.with_neighbours(shuffled, pairs.orderBy(F.rand(seed + 10))).where("station_id = 'A'").first()
        seen.add((row.nb_pm25_last, row.nb_pm25_mean24, row.nb_o3_last, row.nb_count))
    present = sorted(v for v in values if v is not None)
    assert seen == {(sum(present) / 6, sum(present) / 6, sum(present) / 6, 6.0)}


def test_feature_table_has_every_declared_column(lake, features_built):
    feats = lake.read("features.air_forecast")
    assert set(feature_columns()) <= set(feats.columns)
    row = feats.where(F.col("issued_at") == F.lit(ISSUE)).first()
    assert row.pm25_mean24 is not None and row.wind_u is not None and row.doy_sin is not None


def test_control_forecast_smoke_trains_registers_and_records_aliases(lake, features_built):
    from experiments.control_forecast import SMOKE_PARAMS, Config, run, smoke
    from smartmon.mlflow_session import get_mlflow

    cfg = smoke(Config(targets=("pm25", "o3")), issues=150)
    result = run(lake, cfg)
    client = get_mlflow().MlflowClient()
    for t in cfg.targets:
        r = result[t]
        assert 0 < r["smape"] < 2 and 0 < r["persistence_smape"] < 2
        name = f"smartmon.control.{t}"
        assert str(client.get_model_version_by_alias(name, "challenger").version) == r["version"]
    log = lake.read("gold.model_aliases").where("alias = 'challenger' AND model_name LIKE 'smartmon.control.%'")
    assert {r.model_name for r in log.collect()} == {"smartmon.control.pm25", "smartmon.control.o3"}
    run_ = client.get_run(result["_run_id"])
    assert "pm25.model.smape" in run_.data.metrics and run_.data.params["data_version.features.air_forecast"].isdigit()
    # tuned through Ray Tune + Optuna: two trials per target, the best one's parameters trained the models
    assert run_.data.params["tune_trials"] == "2" and 0 < run_.data.metrics["o3.tune.best_valid_smape"] < 2
    assert int(run_.data.params["pm25.lgbm_n_estimators"]) != SMOKE_PARAMS["n_estimators"]
    artifacts = {a.path for a in client.list_artifacts(result["_run_id"], "report")}
    assert {"report/tuning_pm25.csv", "report/tuning_o3.csv", "report/smape_by_horizon.png"} <= artifacts


def test_perfect_weather_experiment_is_labelled_and_never_registered(lake, features_built):
    from experiments.control_forecast import Config, run, smoke
    from smartmon.mlflow_session import get_mlflow
    from smartmon.registry import alias_version

    client = get_mlflow().MlflowClient()
    before = alias_version(client, "smartmon.control.pm25", "challenger")
    cfg = smoke(Config(targets=("pm25",), perfect_weather=True, tune_trials=0))
    result = run(lake, cfg)
    assert result["pm25"]["version"] is None and alias_version(client, "smartmon.control.pm25", "challenger") == before
    run_ = client.get_run(result["_run_id"])
    assert run_.data.tags["perfect_weather"] == "true" and "not deployable" in run_.data.tags["inputs"]
    assert client.get_experiment(run_.info.experiment_id).name == "smartmon-control-perfect-weather"
    assert "data_version.silver.meteo_hourly" in run_.data.params


@pytest.fixture(scope="module")
def champion(lake, features_built):
    """A pm25 champion for the serving tests (the smoke model, whatever the gate said)."""
    from experiments.control_forecast import Config, run, smoke
    from smartmon.mlflow_session import get_mlflow
    from smartmon.registry import CHAMPION, alias_version, set_alias

    client = get_mlflow().MlflowClient()
    name = "smartmon.control.pm25"
    if alias_version(client, name, CHAMPION) is None:
        if alias_version(client, name, "challenger") is None:
            run(lake, smoke(Config(targets=("pm25",), tune_trials=0), issues=150))
        set_alias(lake, client, name, CHAMPION, alias_version(client, name, "challenger"), "test: serve the smoke model", None)
    return name, alias_version(client, name, CHAMPION)


def test_batch_inference_writes_48_hours_per_station_with_the_champion_version(lake, champion):
    from jobs.gold import forecasts

    name, version = champion
    first = forecasts.run(lake, targets=("pm25",))
    rows = lake.read("gold.forecasts").where("target = 'pm25'")
    latest = lake.read("features.air_forecast").where(F.hour("issued_at") == 0).agg(F.max("issued_at")).first()[0]
    stations = lake.read("features.air_forecast").where(F.col("issued_at") == F.lit(latest)).count()
    got = rows.where(F.col("issued_at") == F.lit(latest))
    assert first["rows_out"] == got.count() == 48 * stations
    assert {(r.model_name, r.model_version) for r in got.select("model_name", "model_version").distinct().collect()} == {(name, version)}
    assert got.where("value < 0 OR value IS NULL").count() == 0
    assert forecasts.run(lake, targets=("pm25",))["rows_out"] == 0  # same champion, same issue: nothing changes


def test_mlflow_models_serve_answers_over_loopback(lake, champion, tmp_path):
    import json
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from jobs.gold import forecasts

    name, _ = champion
    latest = lake.read("features.air_forecast").where(F.hour("issued_at") == 0).agg(F.max("issued_at")).first()[0]
    frame = forecasts.inference_frame(lake, [latest]).head(3)
    x = frame[[*feature_columns(), "horizon_h", "target_hod"]].astype(float).assign(clim=frame["clim_pm25"].astype(float))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # MLflow starts uvicorn by name: the venv's bin must be on PATH even when pytest was started
    # as .venv/bin/python without activating the venv.
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
    cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", f"models:/{name}@champion", "--env-manager", "local",
           "-h", "127.0.0.1", "-p", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=open(tmp_path / "serve.log", "w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(1)
        else:
            raise AssertionError("server did not come up: " + (tmp_path / "serve.log").read_text()[-2000:])
        body = json.dumps({"dataframe_split": json.loads(x.to_json(orient="split", index=False))}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body, headers={"Content-Type": "application/json"})
        answer = json.loads(urllib.request.urlopen(req, timeout=30).read())
        preds = answer["predictions"]
        assert len(preds) == 3 and all(p >= 0 for p in preds)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_neighbour_pairs_are_the_stations_within_two_rings_of_res_5(spark):
    """Built on the executors from the rings of the distinct cells, the pairs must be exactly the
    rule written out: every other station whose res-5 cell is at most KRING[1] cells away (grid
    distance), none for a station without a cell. Table-driven edge cases and random stations."""
    import h3
    import numpy as np

    res, k = air_forecast.KRING
    home = h3.latlng_to_cell(39.9, 116.4, res)
    at = {d: sorted(h3.grid_ring(home, d))[0] for d in (1, 2, 3)}
    table = [("same-a", home), ("same-b", home), ("ring-1", at[1]), ("ring-2", at[2]), ("ring-3", at[3]), ("no-cell", None)]
    rng = np.random.default_rng(5)
    table += [(f"r{i:03d}", h3.latlng_to_cell(39.5 + rng.random(), 116 + rng.random(), res)) for i in range(150)]
    stations = spark.createDataFrame([(sid, h3.str_to_int(c) if c else None) for sid, c in table], "station_id string, h3_r5 bigint")
    got = sorted(tuple(r) for r in air_forecast.neighbour_pairs(stations.repartition(3)).collect())
    want = sorted((a, b) for a, ca in table for b, cb in table if a != b and ca and cb and h3.grid_distance(ca, cb) <= k)
    assert got == want and len(set(got)) == len(got)
    near_home = {b for a, b in got if a == "same-a"}
    assert {"same-b", "ring-1", "ring-2"} <= near_home and not {"ring-3", "no-cell"} & near_home
