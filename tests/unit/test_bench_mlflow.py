"""bench.national_nightly gives the measured night a copy of the history's MLflow store: the
history's runs and their artifacts are found through the copy, and nothing the night logs
lands in the cache."""

from __future__ import annotations

import os
from pathlib import Path

from bench.national_nightly import carry_mlflow


def _log_run(db: Path, artifacts: Path) -> str:
    import mlflow

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    mlflow.set_tracking_uri(f"sqlite:///{db}")
    artifacts.mkdir(parents=True)
    exp = mlflow.create_experiment("carry", artifact_location=(artifacts / "carry").as_uri())
    with mlflow.start_run(experiment_id=exp) as run:
        mlflow.log_text("champion", "model.txt")
    return run.info.run_id


def test_the_copy_finds_the_history_runs_and_writes_beside_itself(tmp_path: Path) -> None:
    import mlflow

    key, work = tmp_path / "cache", tmp_path / "work"
    work.mkdir()
    run_id = _log_run(key / "mlflow-history.db", key / "artifacts-history")
    carry_mlflow(key / "mlflow-history.db", key / "artifacts-history", work, "later")

    mlflow.set_tracking_uri(f"sqlite:///{work / 'mlflow-later.db'}")
    exp = mlflow.get_experiment_by_name("carry")
    assert exp.artifact_location == (work / "artifacts-later" / "carry").as_uri()
    uri = mlflow.get_run(run_id).info.artifact_uri
    assert uri.startswith((work / "artifacts-later").as_uri())
    assert mlflow.artifacts.load_text(f"{uri}/model.txt") == "champion"
    with mlflow.start_run(experiment_id=exp.experiment_id) as later:
        mlflow.log_text("challenger", "model.txt")
    assert (work / "artifacts-later" / "carry" / later.info.run_id).exists()
    assert not (key / "artifacts-history" / "carry" / later.info.run_id).exists()


def test_no_history_store_leaves_the_night_a_new_one(tmp_path: Path) -> None:
    carry_mlflow(tmp_path / "cache" / "mlflow-history.db", tmp_path / "cache" / "artifacts-history", tmp_path, "later")
    assert not (tmp_path / "mlflow-later.db").exists()
