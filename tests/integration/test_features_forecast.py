"""Feature tables are point-in-time correct; the control forecast trains on Ray, is tracked and
registered in MLflow, and its aliases are recorded in Delta (smoke settings)."""

from datetime import datetime

import pytest
from pyspark.sql import functions as F

from features import air_forecast
from smartmon.catalog.features import feature_columns
from smartmon.qc.apply import valid_air

ISSUE = datetime(2015, 6, 10, 0, 0)


@pytest.fixture(scope="module")
def inputs(lake, ingested):
    air = valid_air(lake.read("silver.air_hourly").where("source = 'uci-beijing'"), None).cache()
    meteo = lake.read("silver.meteo_hourly").join(air.select("station_id").distinct(), "station_id").cache()
    stations = lake.read("silver.stations").join(air.select("station_id").distinct(), "station_id")
    return air, meteo, stations


def _rows_at(air, meteo, stations):
    feats, clim = air_forecast.build(air, meteo, stations)
    f = {r.station_id: r.asDict() for r in feats.where(F.col("issued_at") == F.lit(ISSUE)).collect()}
    c = sorted(tuple(r) for r in clim.where(F.col("day") == F.lit(ISSUE.date())).collect())
    return f, c


def _scramble(df, cols, after_or_at):
    cond = (F.col("ts") >= F.lit(ISSUE)) if after_or_at else (F.col("ts") > F.lit(ISSUE))
    for c in cols:
        df = df.withColumn(c, F.when(cond, F.col(c) * 7 + 311).otherwise(F.col(c)))
    return df


def test_no_feature_uses_data_after_the_issue_time(inputs):
    air, meteo, stations = inputs
    base_f, base_c = _rows_at(air, meteo, stations)
    assert base_f and base_c
    pollutants = ["pm25", "pm10", "o3", "no2", "co", "so2"]
    weather = ["temp_c", "dewpoint_c", "humidity_pct", "pressure_hpa", "rain_mm", "wind_u", "wind_v"]
    future_f, future_c = _rows_at(_scramble(air, pollutants, False), _scramble(meteo, weather, False), stations)
    assert future_f == base_f and future_c == base_c
    # The check can fail: scrambling the issue hour itself changes what was known at issue.
    now_f, _ = _rows_at(_scramble(air, pollutants, True), meteo, stations)
    sid = next(iter(base_f))
    assert now_f[sid]["pm25_last"] != base_f[sid]["pm25_last"]


def test_feature_table_has_every_declared_column(lake, inputs):
    air_forecast.run(lake, sources=("uci-beijing",))
    feats = lake.read("features.air_forecast")
    assert set(feature_columns()) <= set(feats.columns)
    row = feats.where(F.col("issued_at") == F.lit(ISSUE)).first()
    assert row.pm25_mean24 is not None and row.wind_u is not None and row.doy_sin is not None


def test_control_forecast_smoke_trains_registers_and_records_aliases(lake, inputs):
    from experiments.control_forecast import SMOKE_PARAMS, Config, run
    from smartmon.mlflow_session import get_mlflow

    cfg = Config(targets=("pm25", "o3"), params=dict(SMOKE_PARAMS), max_issues_per_station=150, holdout_days=30)
    result = run(lake, cfg)
    client = get_mlflow().MlflowClient()
    for t in cfg.targets:
        r = result[t]
        assert 0 < r["smape"] < 2 and 0 < r["persistence_smape"] < 2
        name = f"smartmon.control.{t}"
        assert client.get_model_version_by_alias(name, "challenger").version == r["version"]
    log = lake.read("gold.model_aliases").where("alias = 'challenger'")
    assert {r.model_name for r in log.collect()} == {"smartmon.control.pm25", "smartmon.control.o3"}
    run_ = client.get_run(result["_run_id"])
    assert "pm25.model.smape" in run_.data.metrics and run_.data.params["data_version.features.air_forecast"].isdigit()
