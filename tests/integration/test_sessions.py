"""The Ray and MLflow factories start the real engines on the embedded default."""

import pytest

from smartmon.config import load_settings


def test_ray_runs_tasks_in_process_and_is_initialised_once():
    from smartmon.ray_session import get_ray

    ray = get_ray(load_settings("local"), num_cpus=2)
    try:
        assert get_ray() is ray

        @ray.remote
        def square(x: int) -> int:
            return x * x

        assert ray.get([square.remote(i) for i in range(8)]) == [i * i for i in range(8)]
        assert ray.cluster_resources()["CPU"] == 2
    finally:
        ray.shutdown()


def test_mlflow_tracks_to_sqlite_with_local_artifacts(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'db' / 'mlflow.db'}")
    cfg = load_settings("local")
    cfg = type(cfg)(**{**cfg.__dict__, "mlflow_artifact_root": str(tmp_path / "artifacts")})
    from smartmon.mlflow_session import get_mlflow

    mlflow = get_mlflow(cfg, experiment="smartmon-test")
    with mlflow.start_run() as run:
        mlflow.log_param("k", 3)
        mlflow.log_metric("smape", 0.25)
        mlflow.log_text("hello", "note.txt")
    got = mlflow.get_run(run.info.run_id)
    assert got.data.params["k"] == "3" and got.data.metrics["smape"] == pytest.approx(0.25)
    assert (tmp_path / "artifacts" / "smartmon-test").is_dir()
    assert mlflow.get_tracking_uri().startswith("sqlite:///")
