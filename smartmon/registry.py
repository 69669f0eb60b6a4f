"""Model registry conventions: `smartmon.<scenario>.<target>`, aliases champion and challenger,
a promotion gate, and every alias change also appended to gold.model_aliases so anyone can tell
which version served when (MLflow keeps only the current alias)."""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

import smartmon
from smartmon.catalog.names import GOLD_MODEL_ALIASES
from smartmon.io import Lake

log = logging.getLogger(__name__)
CHAMPION, CHALLENGER = "champion", "challenger"


MODEL_RUNTIME = ("mlflow", "cloudpickle", "numpy", "pandas")  # what every smartmon pyfunc needs to load


def pinned(*dists: str) -> list[str]:
    """Exact pins of the installed distributions (uv.lock's versions): a model loaded elsewhere gets
    the versions it was trained and pickled with, not whatever is newest then."""
    return [f"{d}=={metadata.version(d)}" for d in dict.fromkeys((*MODEL_RUNTIME, *dists))]


def _code_tree(module: str, into: Path) -> list[str]:
    """The code a pickled smartmon model refers to: smartmon's package init and the model class's
    own subpackage (smartmon.forecast, smartmon.scenario: numpy, pandas and MLflow only), laid out
    as the package so the pickle's module paths resolve where smartmon is not installed."""
    parts = module.split(".")
    if parts[0] != "smartmon" or len(parts) < 3:
        raise ValueError(f"{module}: a model class must live in a smartmon subpackage (smartmon.<package>.<module>)")
    root = Path(smartmon.__file__).parent
    (into / "smartmon").mkdir(parents=True)
    shutil.copy2(root / "__init__.py", into / "smartmon" / "__init__.py")
    shutil.copytree(root / parts[1], into / "smartmon" / parts[1], ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return [str(into / "smartmon")]


def log_pyfunc(mlflow_module, *, name: str, python_model, registered_model_name: str, input_example, needs: tuple[str, ...] = ()):
    """Log and register a smartmon pyfunc that loads and serves outside smartmon's environment: its
    code through code_paths, exact pins of MODEL_RUNTIME and `needs`, and the input example (from
    which MLflow infers the signature). Returns MLflow's ModelInfo."""
    with tempfile.TemporaryDirectory(prefix="smartmon-model-code-") as tmp:
        return mlflow_module.pyfunc.log_model(
            name=name, python_model=python_model, registered_model_name=registered_model_name,
            input_example=input_example, pip_requirements=pinned(*needs),
            code_paths=_code_tree(type(python_model).__module__, Path(tmp)))


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
