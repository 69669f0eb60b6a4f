from pathlib import Path

import pytest

from smartmon.config import load_settings
from smartmon.errors import ConfigError


def test_local_profile_is_default_and_relative_paths_are_absolute(monkeypatch):
    monkeypatch.delenv("SMARTMON_PROFILE", raising=False)
    monkeypatch.delenv("SMARTMON_LAKE", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    s = load_settings()
    assert s.profile == "local"
    assert s.spark_master.startswith("local")
    assert Path(s.lake).is_absolute() and s.lake.endswith("/lake")
    assert s.landing == f"{s.lake}/_landing"
    assert s.mlflow_tracking_uri.startswith("sqlite:////")
    assert s.table_path("silver", "stations") == f"{s.lake}/silver/stations"


def test_environment_overrides_single_values(monkeypatch, tmp_path):
    monkeypatch.setenv("SMARTMON_LAKE", str(tmp_path / "x"))
    monkeypatch.setenv("RAY_ADDRESS", "ray://10.0.0.1:10001")
    s = load_settings("local")
    assert s.lake == str(tmp_path / "x")
    assert s.landing == str(tmp_path / "x" / "_landing")
    assert s.ray_address == "ray://10.0.0.1:10001"


def test_cluster_profile_expands_environment(monkeypatch):
    monkeypatch.delenv("SMARTMON_LAKE", raising=False)
    monkeypatch.setenv("SPARK_MASTER", "spark://127.0.0.1:7077")
    monkeypatch.setenv("S3_ENDPOINT", "http://127.0.0.1:9123")
    s = load_settings("cluster")
    assert s.spark_master == "spark://127.0.0.1:7077"
    assert s.lake.startswith("s3a://")
    assert s.spark_conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:9123"
    assert not s.is_local


def test_a_landing_zone_on_object_storage_is_refused_not_skipped(monkeypatch, tmp_path):
    monkeypatch.setenv("SMARTMON_LAKE", "s3a://bucket/lake")
    monkeypatch.delenv("SMARTMON_LANDING", raising=False)
    s = load_settings("local")  # landing defaults to <lake>/_landing: on S3 here
    with pytest.raises(ConfigError, match=r"landing zone s3a://bucket/lake/_landing .* not a local folder"):
        s.landing_dir()
    monkeypatch.setenv("SMARTMON_LANDING", str(tmp_path))
    assert load_settings("local").landing_dir() == tmp_path


def test_a_lake_on_s3_needs_the_s3a_jars(monkeypatch, tmp_path):
    from smartmon import spark
    from smartmon.errors import SetupError

    monkeypatch.setenv("SMARTMON_LAKE", "s3a://bucket/lake")
    monkeypatch.setattr(spark, "S3_JARS_DIR", tmp_path)
    with pytest.raises(SetupError, match="make jars-s3a"):
        spark.base_conf(load_settings("cluster"))


def test_unknown_profile_names_the_choices():
    with pytest.raises(ConfigError, match="unknown profile 'nope'.*cluster.*local"):
        load_settings("nope")


def test_data_root_prefers_environment_then_shared(monkeypatch, tmp_path):
    monkeypatch.setenv("SMARTMON_DATA", str(tmp_path))
    assert load_settings().data_root == tmp_path
    monkeypatch.setenv("SMARTMON_DATA", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="not a directory"):
        load_settings()
