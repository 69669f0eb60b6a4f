"""The nightly under the `cluster` profile on a real loopback cluster (`make test-cluster`)
writes the same table contents as the embedded default.

One small national day: 3 days of the CNEMC archive (up to 7 January 2019), the KDD April 2018
API files, the water and HJ 212 samples, and a simulated Beijing network of 40 stations over the
three days (so the standing scenarios have activity data to run on Ray). Both runs read the same
data root and landing folder; the local lake is a folder, the cluster's lives in the object store.
Then a smoke training on the Ray cluster registers a model on the MLflow server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from deltalake import DeltaTable

from smartmon.config import default_data_root
from tests.cluster.loopback import BUCKET, LoopbackCluster

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(10800)]

RUN_DATE = "2019-01-07"
SMARTMON = str(Path(sys.executable).parent / "smartmon")
# what differs between two runs by design: when they ran, their ids, the Delta versions and
# model runs they record, fingerprints built from ingest times
VOLATILE = {"batch_id", "run_id", "mlflow_run_id", "delta_versions", "model_versions", "fingerprint", "manifest",
            "prev_hash", "entry_hash", "air_last_ingested"}


def _clean_env(**extra: str) -> dict[str, str]:
    """The parent's environment minus every smartmon/Spark/Ray/MLflow setting (the suite's
    conftest points them at its own lake), plus the run's own."""
    drop = ("SMARTMON_", "MLFLOW_", "RAY_", "SPARK_", "PYSPARK_", "AWS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**env, "MLFLOW_DISABLE_TELEMETRY": "true", "RAY_USAGE_STATS_ENABLED": "0", **extra}


def _run(cmd: list[str], env: dict[str, str], log: Path, timeout: int) -> float:
    t0 = time.monotonic()
    with log.open("w") as out:
        done = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
    tail = log.read_text(errors="replace")[-3000:]
    assert done.returncode == 0, f"`{' '.join(cmd[1:])}` failed (log {log}):\n{tail}"
    return time.monotonic() - t0


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    full = default_data_root()
    root = tmp_path_factory.mktemp("cluster-inputs")
    data = root / "data"
    data.mkdir()
    for folder in ("china_admin_divisions", "china_surface_water", "hj212_messages"):
        (data / folder).symlink_to(full / folder)
    cnemc = data / "china_national_aq_hourly"
    cnemc.mkdir()
    for f in ["StationList-2020.01.01.csv"] + [f"china_sites_2019010{d}.csv" for d in (5, 6, 7)]:
        (cnemc / f).symlink_to(full / "china_national_aq_hourly" / f)
    kdd = data / "kddcup2018_beijing"
    kdd.mkdir()
    for f in ("Beijing_AirQuality_Stations_en.csv", "Beijing_grid_weather_station.csv", "beijing_meo_stations_geo.csv"):
        if (full / "kddcup2018_beijing" / f).exists():
            (kdd / f).symlink_to(full / "kddcup2018_beijing" / f)
    (kdd / "api_aq_2018-04").mkdir()
    for f in sorted((full / "kddcup2018_beijing" / "api_aq_2018-04").glob("*.csv"))[-10:]:
        (kdd / "api_aq_2018-04" / f.name).symlink_to(f)
    landing = root / "landing"
    env = _clean_env(SMARTMON_DATA=str(data), SMARTMON_LAKE=str(root / "unused-lake"))
    _run([SMARTMON, "simulate", "--stations", "40", "--days", "3", "--start", "2019-01-05", "--provinces", "11",
          "--out", str(landing)], env, root / "simulate.log", 900)
    return {"root": root, "data": data, "landing": landing}


def _common(inputs: dict[str, Path], name: str) -> dict[str, str]:
    return {"SMARTMON_DATA": str(inputs["data"]), "SMARTMON_LANDING": str(inputs["landing"]),
            "SMARTMON_REPORTS_DIR": str(inputs["root"] / f"reports-{name}"), "SMARTMON_SCENARIO_DRAWS": "10"}


@pytest.fixture(scope="module")
def local_run(inputs) -> dict:
    root = inputs["root"]
    env = _clean_env(**_common(inputs, "local"), SMARTMON_PROFILE="local", SMARTMON_LAKE=str(root / "local-lake"),
                     MLFLOW_TRACKING_URI=f"sqlite:///{root / 'local-mlflow.db'}",
                     SMARTMON_MLFLOW_ARTIFACTS=str(root / "local-artifacts"))
    seconds = _run([SMARTMON, "nightly", "--date", RUN_DATE], env, root / "nightly-local.log", 3600)
    return {"lake": str(root / "local-lake"), "seconds": seconds, "storage": None}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with LoopbackCluster(tmp_path_factory.mktemp("cluster")) as c:
        yield c


@pytest.fixture(scope="module")
def cluster_run(inputs, cluster, local_run) -> dict:
    root = inputs["root"]
    env = _clean_env(**_common(inputs, "cluster"), **cluster.env())
    seconds = _run([SMARTMON, "nightly", "--date", RUN_DATE], env, root / "nightly-cluster.log", 5400)
    storage = {"AWS_ENDPOINT_URL": cluster.s3_endpoint, "AWS_ACCESS_KEY_ID": env["AWS_ACCESS_KEY_ID"],
               "AWS_SECRET_ACCESS_KEY": env["AWS_SECRET_ACCESS_KEY"], "AWS_REGION": env["AWS_REGION"], "AWS_ALLOW_HTTP": "true"}
    return {"lake": env["SMARTMON_LAKE"], "seconds": seconds, "storage": storage, "env": env}


def _tables(lake: Path) -> list[str]:
    return sorted(f"{p.parent.parent.name}.{p.parent.name}" for p in lake.glob("*/*/_delta_log"))


def _read(run: dict, fqn: str) -> pd.DataFrame:
    layer, name = fqn.split(".")
    return DeltaTable(f"{run['lake']}/{layer}/{name}", storage_options=run["storage"]).to_pandas()


def comparable(df: pd.DataFrame) -> pd.DataFrame:
    """Contents without what differs between runs by design, floats to 9 significant digits
    (sums may add in another order across partitions), rows in one order."""
    keep = [c for c in df.columns if c not in VOLATILE and not c.endswith("_at") and c not in ("started_at", "ended_at")]
    out = df[keep].copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            v = out[c].to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                mag = np.where(np.isfinite(v) & (v != 0), np.floor(np.log10(np.abs(v))), 0)
            out[c] = np.round(v / 10**mag, 8) * 10**mag
        out[c] = out[c].astype(str)
    return out.sort_values(list(out.columns)).reset_index(drop=True)


def test_the_cluster_nightly_writes_what_the_local_one_does(local_run, cluster_run, cluster):
    local_tables = _tables(Path(local_run["lake"]))
    assert "silver.air_hourly" in local_tables and "gold.aqi_daily" in local_tables
    differ, sizes = [], {}
    for fqn in local_tables:
        a = _read(local_run, fqn)
        try:
            b = _read(cluster_run, fqn)
        except Exception as exc:  # noqa: BLE001 - named in the failure below
            differ.append(f"{fqn}: not in the cluster lake ({exc})")
            continue
        sizes[fqn] = len(a)
        if fqn == "gold.pipeline_runs":  # when and how often differ; what ran and how it ended must not
            a, b = a[["task", "status"]], b[["task", "status"]]
        ca, cb = comparable(a), comparable(b)
        if list(ca.columns) != list(cb.columns) or not ca.equals(cb):
            diff = pd.concat([ca.assign(_side="local"), cb.assign(_side="cluster")]).drop_duplicates(
                subset=list(ca.columns), keep=False)
            differ.append(f"{fqn}: local {len(a)} rows, cluster {len(b)}; differing rows:\n{diff.head(10).to_string()}")
    print(f"\ncompared {len(local_tables)} tables, {sum(sizes.values()):,} rows; local nightly {local_run['seconds']:.0f} s, "
          f"cluster nightly {cluster_run['seconds']:.0f} s")
    assert not differ, "\n".join(differ)
    # every task ran and none failed (gold.forecasts may skip: no champion is registered yet)
    runs = _read(cluster_run, "gold.pipeline_runs")
    assert set(runs["status"]) <= {"ok", "skipped"}, runs[["task", "status", "error"]]


def test_the_cluster_run_used_the_cluster(cluster_run, cluster, inputs):
    """Not the embedded default in disguise: the lake is in the bucket, the Spark application
    ran on the standalone master, the scenarios' Ray tasks ran on the Ray cluster."""
    log = (inputs["root"] / "nightly-cluster.log").read_text(errors="replace")
    assert f"s3a://{BUCKET}/lake" in log
    assert DeltaTable.is_deltatable(f"s3a://{BUCKET}/lake/silver/air_hourly", storage_options=cluster_run["storage"])
    assert not Path(f"s3a:/{BUCKET}").exists()
    apps = (cluster.root / "logs" / "spark-master.log").read_text(errors="replace")
    assert "Registering app smartmon" in apps
    scenarios = _read(cluster_run, "gold.scenario_results")
    assert len(scenarios) and scenarios["draws"].max() == 10


def test_bronze_parsing_ran_as_tasks_on_the_worker(cluster_run, cluster, inputs):
    """The driver sent paths; the worker's executor parsed the files (its Python workers log each
    file to the executor's stderr, kept by the worker under its work folder)."""
    log = (inputs["root"] / "nightly-cluster.log").read_text(errors="replace")
    assert "files parsed as Spark tasks on the executors" in log
    executor_logs = "".join(p.read_text(errors="replace") for p in (cluster.root / "spark-work").glob("app-*/*/stderr"))
    for name in ("china_sites_20190107.csv", "china_sites_20190105.csv", "bj_aq_2018-04"):
        parsed = [line for line in executor_logs.splitlines() if "smartmon.bronze.task parsed" in line and name in line]
        assert parsed, f"no executor on the worker parsed {name}"
    landed = [line for line in executor_logs.splitlines() if "smartmon.bronze.task parsed" in line and str(inputs["landing"]) in line]
    assert landed, "the simulated network's landing files were not parsed on the worker"


def test_training_on_the_ray_cluster_registers_on_the_mlflow_server(cluster, tmp_path):
    """Dongsi (UCI, July 2016 - February 2017) into a lake of its own in the bucket, then the
    control scenario's smoke training: Optuna trials through Ray Tune on the two Ray nodes, runs
    and the model on the MLflow server. Independent of the nightly comparison above."""
    full = default_data_root()
    data = tmp_path / "data"
    (data / "china_national_aq_hourly").mkdir(parents=True)
    (data / "china_admin_divisions").symlink_to(full / "china_admin_divisions")
    station_list = "StationList-2020.01.01.csv"
    (data / "china_national_aq_hourly" / station_list).symlink_to(full / "china_national_aq_hourly" / station_list)
    (data / "kddcup2018_beijing").mkdir()
    for f in ("Beijing_AirQuality_Stations_en.csv", "Beijing_grid_weather_station.csv", "beijing_meo_stations_geo.csv"):
        (data / "kddcup2018_beijing" / f).symlink_to(full / "kddcup2018_beijing" / f)
    # the registry matches the UCI sites to national stations by the files in beijing_multisite/
    lines = (full / "beijing_multisite/PRSA_Data_Dongsi_20130301-20170228.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if ",2016,7,1,0," in line)
    (data / "beijing_multisite").mkdir()
    (data / "beijing_multisite" / "PRSA_Data_Dongsi_20160701-20170228.csv").write_text("".join(lines[:1] + lines[first:]), encoding="utf-8")
    env = _clean_env(**cluster.env(lake=f"s3a://{BUCKET}/train-lake"), SMARTMON_DATA=str(data), SMARTMON_LANDING=str(tmp_path / "landing"))
    _run([SMARTMON, "stations"], env, tmp_path / "stations.log", 1800)
    _run([SMARTMON, "ingest", "uci-beijing"], env, tmp_path / "ingest.log", 1800)
    _run([SMARTMON, "train", "--scenario", "control", "--smoke-test", "--build-features", "--tune-trials", "2"],
         env, tmp_path / "train.log", 3600)
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=cluster.mlflow_uri)
    models = client.search_registered_models()
    assert models, "no registered model on the MLflow server"
    for model in models:
        for version in client.search_model_versions(f"name='{model.name}'"):
            assert client.list_artifacts(version.run_id), f"{model.name} v{version.version}: its run has no artifacts"
    # the model files went through the server to its artifact store, not to a local folder of the client
    assert any((cluster.root / "mlflow" / "artifacts").rglob("MLmodel"))
