"""The nightly's national forecast (smoke settings, on the suite's lake): the night's issue of
every station with data, pooled models trained on the days before the run date only, 72-hour
forecasts of every station with a week of data, every issue kept with the model version and the
last hour that model learned from."""

from datetime import date, timedelta

import pytest
from pyspark.sql import functions as F

from features import air_forecast
from features.air_forecast import HORIZONS_NIGHTLY, MIN_HISTORY_DAYS, issue_time
from smartmon.catalog.features import NATIONAL_TARGETS

DAY = date(2017, 2, 20)  # UCI Dongsi: the suite's lake holds its 26 months up to 2017-02-28
CNEMC_DAY = date(2019, 1, 3)  # the national stations: only January 1-3 in the suite's lake


@pytest.fixture(scope="module")
def trained(lake, ingested):
    from experiments import national_forecast as nf

    first = air_forecast.nightly(lake, DAY)
    result = nf.run(lake, DAY, nf.smoke(nf.Config()), build_missing=False)
    return first, result


@pytest.fixture(scope="module")
def served(lake, trained):
    """Each target's smoke model behind @champion, whatever the gate said of it."""
    from smartmon.mlflow_session import get_mlflow
    from smartmon.registry import CHAMPION, alias_version, model_name, set_alias

    client = get_mlflow().MlflowClient()
    _, result = trained
    for t in NATIONAL_TARGETS:
        name = model_name("national", t)
        if alias_version(client, name, CHAMPION) != result[t]["version"]:
            set_alias(lake, client, name, CHAMPION, result[t]["version"], "test: serve the smoke model", None)
    return {t: result[t]["version"] for t in NATIONAL_TARGETS}


def test_a_first_night_builds_the_retrains_issues_and_later_nights_only_their_own(lake, trained):
    first, _ = trained
    assert first["issues"] == air_forecast.TRAINING_ISSUES and first["rows_out"] > 0
    again = air_forecast.nightly(lake, DAY)
    assert again == {"issues": 0, "rows_out": 0}  # built, and no input changed since: nothing read
    row = lake.read("features.air_forecast").where(F.col("issued_at") == F.lit(issue_time(DAY))).first()
    assert row.issued_at.hour == 16 and row.history_days == 31 and row.lat is not None and row.pm25_mean24 is not None


def test_the_models_learn_only_from_before_the_holdout_and_the_issue(lake, trained):
    from smartmon.mlflow_session import get_mlflow

    _, result = trained
    client = get_mlflow().MlflowClient()
    holdout_start = issue_time(DAY - timedelta(days=2))  # smoke: two held-out issues
    assert result["trained_until"] <= holdout_start < issue_time(DAY)
    for t in NATIONAL_TARGETS:
        r = result[t]
        assert 0 < r["smape"] < 2 and 0 < r["persistence_smape"] < 2
        mv = client.get_model_version(f"smartmon.national.{t}", r["version"])
        assert mv.tags["trained_until"] == result["trained_until"].isoformat()
    aliases = {r.model_name for r in lake.read("gold.model_aliases").where("model_name LIKE 'smartmon.national.%'").collect()}
    assert aliases == {f"smartmon.national.{t}" for t in NATIONAL_TARGETS}


def test_each_target_is_fitted_with_the_parameters_its_optuna_search_chose(trained):
    from smartmon.mlflow_session import get_mlflow

    _, result = trained
    run = get_mlflow().MlflowClient().get_run(result["_run_id"])
    for t in NATIONAL_TARGETS:
        assert 0 < result[t]["tuned_valid_smape"] < 2 and run.data.metrics[f"{t}.tune.best_valid_smape"] == result[t]["tuned_valid_smape"]
        booster = result["_models"][t].booster.params
        for k in ("num_leaves", "learning_rate", "min_child_samples"):
            assert run.data.params[f"{t}.lgbm_{k}"] == str(booster[k]), (t, k)


def test_the_weekly_retrain_is_due_a_week_after_the_last_training_hour(trained):
    from experiments.national_forecast import due

    _, result = trained
    assert due(DAY) == []
    assert due(DAY + timedelta(days=9)) == list(NATIONAL_TARGETS)


def test_nightly_forecasts_every_station_with_a_week_of_data_and_keeps_every_issue(lake, served):
    from jobs.gold import forecasts

    out = forecasts.nightly(lake, DAY)
    issue = issue_time(DAY)
    eligible = lake.read("features.air_forecast").where((F.col("issued_at") == F.lit(issue)) & (F.col("history_days") >= MIN_HISTORY_DAYS))
    every = lake.read("gold.forecasts").where((F.col("issued_at") == F.lit(issue)) & (F.col("kind") == "nightly"))
    rows = every.where(F.col("target").isin(*NATIONAL_TARGETS))
    n_stations = eligible.count()
    assert n_stations >= 1 and rows.count() == n_stations * HORIZONS_NIGHTLY * len(NATIONAL_TARGETS)
    assert out["rows_out"] == every.count() and {r.target for r in every.select("target").distinct().collect()} == {
        *NATIONAL_TARGETS, "o3_8h", "aqi"}
    got = {(r.target, r.model_version) for r in rows.select("target", "model_version").distinct().collect()}
    assert got == {(t, v) for t, v in served.items()}
    assert rows.where("trained_until IS NULL OR trained_until >= issued_at OR value < 0 OR value IS NULL").count() == 0
    assert rows.agg(F.max("horizon_h")).first()[0] == HORIZONS_NIGHTLY
    assert forecasts.nightly(lake, DAY)["rows_out"] == 0  # same champions, same issue: nothing changes
    # the next night adds its issue and keeps this one, touching only its own issue's rows: a
    # replaceWhere bounded by the issue, not a MERGE over the month's issues
    air_forecast.nightly(lake, DAY + timedelta(days=1))
    forecasts.nightly(lake, DAY + timedelta(days=1))
    from delta.tables import DeltaTable

    last = DeltaTable.forPath(lake.spark, lake.path("gold.forecasts")).history(1).first()
    assert last.operation == "WRITE", last.operation
    assert f"{issue_time(DAY + timedelta(days=1)):%Y-%m-%d %H:%M:%S}" in last.operationParameters["predicate"]
    assert f"{issue:%Y-%m-%d %H:%M:%S}" not in last.operationParameters["predicate"]
    issues = {r.issued_at for r in lake.read("gold.forecasts").where("kind = 'nightly'").select("issued_at").distinct().collect()}
    assert {issue, issue_time(DAY + timedelta(days=1))} <= issues
    # what `smartmon nightly` prints at its end
    from pipelines.summary import forecast_lines

    lines = forecast_lines(lake)
    assert lines[0] == f"forecasts: issue {max(issues):%Y-%m-%d %H:%M} UTC in gold.forecasts"
    assert all(" x 72 h, trained until " in line for line in lines[1:1 + len(NATIONAL_TARGETS)])
    assert lines[1 + len(NATIONAL_TARGETS)].startswith("  city AQI of the next Beijing day (1 cities, gold.forecast_city_daily): ")


def test_forecast_aqi_o3_8h_and_city_days_follow_hj633_from_the_forecast_concentrations(lake, served):
    """Every derived value recomputed here in plain Python from the issue's own concentration
    forecasts (smartmon.standards.aqi, the reference twin of the Spark rules)."""
    import math

    from jobs.gold import forecasts
    from smartmon.beijing_time import beijing_day_of
    from smartmon.standards.aqi import CORE_POLLUTANTS, HOURLY_TABLES, category, combine, iaqi, round_concentration

    forecasts.nightly(lake, DAY)  # built by the test before; nothing changes
    issue = issue_time(DAY)
    fc = lake.read("gold.forecasts").where((F.col("issued_at") == F.lit(issue)) & (F.col("kind") == "nightly")).toPandas()
    wide = fc.pivot_table(index=["station_id", "ts"], columns="target", values="value").reset_index()
    by_key = {(r.station_id, r.target, r.ts): r for r in fc.itertuples()}
    checked = 0
    for row in wide.itertuples():
        conc = {p: getattr(row, p) for p in CORE_POLLUTANTS if p in ("pm25", "pm10", "o3", "no2")}  # primaries in HJ 633 order
        iaqis = {p: iaqi(v, HOURLY_TABLES[p]) for p, v in conc.items()}
        aqi, primary = combine(iaqis, "HJ633-2012", partial_rule=False)
        got = by_key[(row.station_id, "aqi", row.ts)]
        assert (got.value, got.iaqi, got.primary_pollutant or None, got.level) == (aqi, aqi, primary, category(aqi)[0])
        assert all(by_key[(row.station_id, p, row.ts)].iaqi == v for p, v in iaqis.items())
        checked += 1
    assert checked == fc["station_id"].nunique() * HORIZONS_NIGHTLY
    # O3-8h: the 8 hours ending at the hour within its Beijing day (all forecast: the issue ends a day)
    o3 = fc[fc["target"] == "o3"].sort_values("ts").assign(day=lambda d: beijing_day_of(d["ts"]))
    for (sid, _), g in o3.groupby(["station_id", "day"]):
        values = g["value"].tolist()
        for k, ts in enumerate(g["ts"]):
            window = values[max(0, k - 7): k + 1]
            got = by_key[(sid, "o3_8h", ts)]
            assert got.value == round_concentration(sum(window) / len(window), "o3_8h")
            assert got.iaqi == iaqi(got.value, "o3_8h") and got.model_version == by_key[(sid, "o3", ts)].model_version
    aqi_version = fc.loc[fc["target"] == "aqi", "model_version"].iloc[0]
    assert aqi_version == ",".join(f"{t}:{v}" for t, v in sorted(served.items()))
    # the city of the next three Beijing days: means of its stations' 24 h means, then HJ 633's daily rule
    city = lake.read("gold.forecast_city_daily").where(F.col("issued_at") == F.lit(issue)).toPandas()
    stations = lake.read("silver.stations").select("station_id", "city_code").toPandas()
    assert len(city) >= 3 and sorted(city["lead_days"].unique()) == [1, 2, 3]
    pm = fc[fc["target"] == "pm25"].merge(stations, on="station_id").assign(day=lambda d: beijing_day_of(d["ts"]))
    daily = pm.groupby(["city_code", "station_id", "day"])["value"].mean().map(lambda v: round_concentration(v, "pm25"))
    for r in city.itertuples():
        mean = daily.loc[r.city_code].xs(r.day, level="day").mean()
        assert math.isclose(r.pm25, mean) and r.iaqi_pm25 == iaqi(mean, "pm25_24h")
        top = max(v for v in (r.iaqi_pm25, r.iaqi_pm10, r.iaqi_no2, r.iaqi_o3, r.iaqi_o3_8h) if v is not None and v == v)
        assert r.aqi == top and r.level == category(top)[0] and r.aqi_p10 <= r.aqi_p90


def test_skill_rows_come_as_the_hours_come_true_and_not_before(lake, served):
    from jobs.gold import forecast_skill, forecasts
    from jobs.gold.scope import valid_in
    from smartmon.changes import DayWindow
    from smartmon.forecast.metrics import smape

    forecasts.nightly(lake, DAY)
    issue = issue_time(DAY)
    skill = lambda: lake.read("gold.forecast_skill").where(F.col("issued_at") == F.lit(issue))  # noqa: E731
    forecast_skill.nightly(lake, DAY)  # the issue's own night: none of its hours has come true
    assert not lake.exists("gold.forecast_skill") or skill().count() == 0
    forecast_skill.nightly(lake, DAY + timedelta(days=1))  # the first Beijing day after it
    first = skill().where("grain = 'station_hour'")
    # Dongsi's February 21st has gaps (the UCI file's NA hours, and QC): hours 1-24 at most
    lo, hi = first.agg(F.min("horizon_h"), F.max("horizon_h")).first()
    assert first.count() > 0 and 1 <= lo and hi == 24
    assert {r.target for r in first.select("target").distinct().collect()} <= {*NATIONAL_TARGETS, "o3_8h", "aqi"}
    # one cell recomputed from the forecasts and the valid observations
    cell = first.where(F.col("target").isin(*NATIONAL_TARGETS)).orderBy("target", "horizon_h").first()
    assert cell is not None, "no pollutant of the issue came true on its first day"
    fc = lake.read("gold.forecasts").where((F.col("issued_at") == F.lit(issue)) & (F.col("target") == cell.target)
                                           & (F.col("horizon_h") == cell.horizon_h)).select("station_id", "ts", "value")
    fc = fc.join(lake.read("silver.stations").where((F.coalesce("network", F.lit("")) == cell.network)
                                                    & (F.coalesce("city_code", F.lit("")) == cell.city_code)).select("station_id"), "station_id")
    _, valid = valid_in(lake, DayWindow.of([DAY, DAY + timedelta(days=1)]))
    obs = (fc.join(valid.select("station_id", "ts", F.col(cell.target).alias("actual")), ["station_id", "ts"])
           .where("actual IS NOT NULL").toPandas())
    assert cell.n == len(obs) > 0 and abs(cell.smape - smape(obs["value"], obs["actual"])) < 1e-9
    forecast_skill.nightly(lake, DAY + timedelta(days=3))  # every hour of the issue has come true
    full = skill()
    assert full.where("grain = 'station_hour'").agg(F.max("horizon_h")).first()[0] == HORIZONS_NIGHTLY
    days = full.where("grain = 'city_day'").collect()
    assert days and {r.lead_days for r in days} <= {1, 2, 3}  # a day with < 20 valid hours has no observed daily AQI
    assert all(r.level_hit in (0, 1) and r.persistence_level_hit in (0, 1) and r.observed_aqi > 0 for r in days)
    assert forecast_skill.nightly(lake, DAY + timedelta(days=3))["rows_out"] == 0  # re-run: nothing changes


def test_a_backtest_forecasts_each_day_with_models_trained_before_it_and_scores_it(lake, served):
    from experiments import national_backtest as bt
    from experiments import national_forecast as nf
    from smartmon.mlflow_session import get_mlflow
    from smartmon.registry import CHAMPION, alias_version, model_name

    first = last = DAY - timedelta(days=3)
    result = bt.run(lake, first, last, "weekly", nf.smoke(nf.Config()))
    assert result["issues"] == [issue_time(first)] and len(result["runs"]) == 1
    rows = lake.read("gold.forecasts").where("kind = 'backtest'")
    assert {r.issued_at for r in rows.select("issued_at").distinct().collect()} == set(result["issues"])
    assert rows.count() > 0 and rows.where("trained_until IS NULL OR trained_until >= issued_at").count() == 0
    assert {r.model_version for r in rows.where("target = 'pm25'").select("model_version").distinct().collect()} == {
        f"run:{result['runs'][0]}"}
    client = get_mlflow().MlflowClient()  # the champions are untouched
    assert {t: alias_version(client, model_name("national", t), CHAMPION) for t in NATIONAL_TARGETS} == served
    blocks = {(r["target"], r["block"]) for r in result["blocks"]}
    assert {("pm25", b) for b in ("1-3", "4-12", "13-24", "25-48", "49-72")} <= blocks
    assert all(0 <= r["smape"] <= 2 and r["n"] > 0 for r in result["blocks"])
    assert result["city_days"] and {r["lead_days"] for r in result["city_days"]} <= {1, 2, 3}
    assert "backtest: 1 issue(s)" in bt.summary(result)


def test_stations_with_less_than_a_week_of_data_are_not_forecast(lake, served):
    from jobs.gold import forecasts

    air_forecast.build_issues(lake, [CNEMC_DAY])
    feats = lake.read("features.air_forecast").where(F.col("issued_at") == F.lit(issue_time(CNEMC_DAY)))
    # 4 Beijing days at most: the files' first hour (00:00) ends December 31st's last
    assert feats.count() > 1000 and feats.agg(F.max("history_days")).first()[0] == 4 < MIN_HISTORY_DAYS
    assert forecasts.nightly(lake, CNEMC_DAY)["rows_out"] == 0


_PREDICT = """
import json, sys
import mlflow.pyfunc
from mlflow.models import Model
import importlib.util
assert importlib.util.find_spec("smartmon") is None, "smartmon is installed here"
model = mlflow.pyfunc.load_model(sys.argv[1])
example = Model.load(sys.argv[1]).load_input_example(sys.argv[1])
print(json.dumps([float(v) for v in model.predict(example)]))
import smartmon
print(json.dumps(smartmon.__file__))
"""


def test_the_champion_loads_and_serves_in_a_fresh_venv_without_smartmon(served, tmp_path):
    """The champion as a downstream platform gets it: a new venv with only the model's own pinned
    requirements (resolved against uv.lock's versions), no smartmon: the same predictions in
    process and from `mlflow models serve` over HTTP."""
    import json
    import os
    import signal
    import socket
    import subprocess
    import time
    import urllib.request

    import numpy as np
    from mlflow.models import Model

    from smartmon.mlflow_session import get_mlflow
    from tests.venvs import activated, fresh_venv

    mlflow = get_mlflow()
    path = mlflow.artifacts.download_artifacts("models:/smartmon.national.pm25@champion", dst_path=str(tmp_path / "model"))
    meta = Model.load(path)
    assert meta.signature is not None and meta.saved_input_example_info is not None
    assert os.path.isfile(f"{path}/code/smartmon/forecast/national.py")
    reqs = open(f"{path}/requirements.txt").read().split()
    assert all("==" in r for r in reqs) and {r.split("==")[0] for r in reqs} >= {"mlflow", "cloudpickle", "lightgbm", "scikit-learn"}
    expected = [float(v) for v in mlflow.pyfunc.load_model(path).predict(meta.load_input_example(path))]

    bin_dir = fresh_venv(tmp_path / "venv", "-r", f"{path}/requirements.txt")
    env = activated(bin_dir)

    got = subprocess.run([str(bin_dir / "python"), "-c", _PREDICT, path], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert got.returncode == 0, got.stderr[-3000:]
    lines = got.stdout.strip().splitlines()
    assert json.loads(lines[-1]).startswith(path)  # smartmon's code came with the model, not from an install
    np.testing.assert_allclose(json.loads(lines[-2]), expected, rtol=1e-9)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(bin_dir / "mlflow"), "models", "serve", "-m", path, "--env-manager", "local",
                               "--host", "127.0.0.1", "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2).read()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read().decode()[-3000:] if server.poll() is not None else "no answer"
                time.sleep(1)
        body = open(f"{path}/serving_input_example.json", "rb").read()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                         headers={"Content-Type": "application/json"})
        answer = json.loads(urllib.request.urlopen(request, timeout=60).read())
        np.testing.assert_allclose([float(v) for v in answer["predictions"]], expected, rtol=1e-9)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
