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
    rows = lake.read("gold.forecasts").where((F.col("issued_at") == F.lit(issue)) & (F.col("kind") == "nightly"))
    n_stations = eligible.count()
    assert n_stations >= 1 and out["rows_out"] == rows.count() == n_stations * HORIZONS_NIGHTLY * len(NATIONAL_TARGETS)
    got = {(r.target, r.model_version) for r in rows.select("target", "model_version").distinct().collect()}
    assert got == {(t, v) for t, v in served.items()}
    assert rows.where("trained_until IS NULL OR trained_until >= issued_at OR value < 0 OR value IS NULL").count() == 0
    assert rows.agg(F.max("horizon_h")).first()[0] == HORIZONS_NIGHTLY
    assert forecasts.nightly(lake, DAY)["rows_out"] == 0  # same champions, same issue: nothing changes
    # the next night adds its issue and keeps this one
    air_forecast.nightly(lake, DAY + timedelta(days=1))
    forecasts.nightly(lake, DAY + timedelta(days=1))
    issues = {r.issued_at for r in lake.read("gold.forecasts").where("kind = 'nightly'").select("issued_at").distinct().collect()}
    assert {issue, issue_time(DAY + timedelta(days=1))} <= issues
    # what `smartmon nightly` prints at its end
    from pipelines.summary import forecast_lines

    lines = forecast_lines(lake)
    assert lines[0] == f"forecasts: issue {max(issues):%Y-%m-%d %H:%M} UTC in gold.forecasts" and len(lines) == 1 + len(NATIONAL_TARGETS)
    assert all(" x 72 h, trained until " in line for line in lines[1:])


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
