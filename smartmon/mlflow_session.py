"""MLflow: sqlite backend and a local artifact folder on the embedded default, the tracking
server of the profile (MLFLOW_TRACKING_URI) on a cluster."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from smartmon.config import Settings, settings

log = logging.getLogger(__name__)


def get_mlflow(cfg: Settings | None = None, experiment: str | None = None):
    """Return the mlflow module pointed at the profile's tracking store; create the experiment
    (with its artifact location under the profile's artifact root) when named."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow

    cfg = cfg or settings()
    uri = cfg.mlflow_tracking_uri
    if uri.startswith("sqlite:///"):
        Path(uri[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    if experiment:
        if mlflow.get_experiment_by_name(experiment) is None:
            location = None
            if cfg.mlflow_artifact_root:
                Path(cfg.mlflow_artifact_root).mkdir(parents=True, exist_ok=True)
                location = Path(cfg.mlflow_artifact_root, experiment).as_uri()
            mlflow.create_experiment(experiment, artifact_location=location)
        mlflow.set_experiment(experiment)
    return mlflow
