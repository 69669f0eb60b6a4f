"""Model registry conventions: `smartmon.<scenario>.<target>`, aliases champion and challenger,
a promotion gate, and every alias change also appended to gold.model_aliases so anyone can tell
which version served when (MLflow keeps only the current alias)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from smartmon.catalog.names import GOLD_MODEL_ALIASES
from smartmon.io import Lake

log = logging.getLogger(__name__)
CHAMPION, CHALLENGER = "champion", "challenger"


def model_name(scenario: str, target: str) -> str:
    return f"smartmon.{scenario}.{target}"


@dataclass(frozen=True)
class Gate:
    promoted: bool
    reason: str


def alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def set_alias(lake: Lake, client: MlflowClient, name: str, alias: str, version: str, reason: str, score: float | None) -> None:
    """Move an alias and record the change (previous version, why, the score it was judged on)."""
    previous = alias_version(client, name, alias)
    client.set_registered_model_alias(name, alias, str(version))
    row = (name, alias, str(version), previous, reason, score, datetime.now(timezone.utc).replace(tzinfo=None))
    lake.append(lake.spark.createDataFrame([row], lake.ensure(GOLD_MODEL_ALIASES).schema), GOLD_MODEL_ALIASES)
    log.info("%s@%s -> v%s (was %s): %s", name, alias, version, previous, reason)


def gate(challenger: float, champion: float | None, baselines: dict[str, float]) -> Gate:
    """Lower is better. The challenger must beat every baseline and the champion (if any)."""
    worse = [f"{k} {v:.4f}" for k, v in baselines.items() if not challenger < v]
    if worse:
        return Gate(False, f"challenger {challenger:.4f} does not beat {', '.join(worse)}")
    if champion is not None and not challenger < champion:
        return Gate(False, f"challenger {challenger:.4f} does not beat the champion {champion:.4f}")
    return Gate(True, f"challenger {challenger:.4f} beats " + ", ".join(f"{k} {v:.4f}" for k, v in baselines.items())
                + (f" and the champion {champion:.4f}" if champion is not None else " (no champion yet)"))
