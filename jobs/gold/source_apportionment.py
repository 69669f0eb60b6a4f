"""gold.source_apportionment: PMF of one speciation dataset (random starts and bootstrap on Ray),
tracked in MLflow.

Re-running with the same dataset, factors, starts and seed gives the same solution (seeded
starts, deterministic updates), so the MERGE changes nothing; a different factor count is a
separate solution beside it.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.sql import functions as F

from smartmon.catalog.names import GOLD_SOURCE_APPORTIONMENT, SILVER_SPECIATION
from smartmon.io import Lake
from smartmon.pmf.batch import BootstrapResult, bootstrap, run_starts
from smartmon.pmf.prepare import PMFInput, PMFInputError, matrices
from smartmon.pmf.solver import Solution, normalise

log = logging.getLogger(__name__)
TABLE = GOLD_SOURCE_APPORTIONMENT
DEFAULTS = {"max_iter": 20_000, "converge_delta": 0.1, "converge_n": 100}


@dataclass
class PMFRun:
    dataset: str
    station_id: str | None
    inp: PMFInput
    base: Solution
    starts: list[Solution]
    boot: BootstrapResult | None
    seconds: float

    @property
    def q_expected(self) -> float:
        m, n = self.inp.X.shape
        k = self.base.F.shape[0]
        return float(m * n - k * (m + n))

    def summary(self) -> dict:
        return {"dataset": self.dataset, "factors": int(self.base.F.shape[0]), "starts": len(self.starts),
                "q_true": round(self.base.q_true, 2), "q_robust": round(self.base.q_robust, 2), "seconds": round(self.seconds, 1)}


def load(lake: Lake, dataset: str) -> tuple[pd.DataFrame, str | None]:
    df = lake.read(SILVER_SPECIATION)
    rows = df.where(F.col("dataset") == dataset).select("station_id", "sample_time", "species", "concentration", "uncertainty").toPandas()
    if rows.empty:
        known = sorted(r.dataset for r in df.select("dataset").distinct().collect())
        raise PMFInputError(f"no speciation dataset {dataset!r} in silver.speciation (known: {', '.join(known) or 'none'})")
    stations = rows["station_id"].dropna().unique()
    return rows, (str(stations[0]) if len(stations) == 1 else None)


def solve(inp: PMFInput, factors: int, starts: int, seed: int = 42, replicates: int = 0, **options) -> tuple[Solution, list[Solution], BootstrapResult | None]:
    """Starts on Ray, the best by Q(robust) normalised, then the bootstrap from it."""
    if factors < 1 or factors >= min(inp.X.shape):
        raise PMFInputError(f"factors must be between 1 and {min(inp.X.shape) - 1} for {inp.X.shape[0]} samples x {inp.X.shape[1]} species")
    opts = {**DEFAULTS, **options}
    sols = run_starts(inp.X, inp.U, factors, starts, seed, **opts)
    base = normalise(sols[0])
    boot = bootstrap(inp.X, inp.U, base, replicates, seed=seed + 1, **opts) if replicates > 0 else None
    return base, sols, boot


def rows(run: PMFRun, mlflow_run_id: str | None) -> pd.DataFrame:
    """The solution as table rows (pure)."""
    base, inp = run.base, run.inp
    k = base.F.shape[0]
    common = {"dataset": run.dataset, "station_id": run.station_id, "factors": k, "q_true": base.q_true, "q_robust": base.q_robust,
              "q_expected": run.q_expected, "starts": len(run.starts), "seed": base.seed, "mlflow_run_id": mlflow_run_id}
    modelled = base.F * base.G.mean(axis=0)[:, None]  # mean modelled concentration per factor and species
    share = modelled / np.maximum(modelled.sum(axis=0), 1e-12)
    n, m = len(inp.species), len(inp.samples)
    factor_s = np.repeat(np.arange(1, k + 1), n)  # profile rows: factor-major, species within
    profile = pd.DataFrame({"kind": "profile", "factor": factor_s, "species": np.tile(inp.species, k), "sample_time": pd.NaT,
                            "value": base.F.ravel(), "species_share": share.ravel(),
                            "category": [inp.categories[s] for s in np.tile(inp.species, k)]})
    for q in (5, 50, 95):
        profile[f"bs_p{q:02d}"] = run.boot.percentiles[q].ravel() if run.boot else None
    profile["bs_mapped"] = run.boot.mapped[factor_s - 1] if run.boot else None
    contribution = pd.DataFrame({"kind": "contribution", "factor": np.repeat(np.arange(1, k + 1), m), "species": "",
                                 "sample_time": np.tile(np.asarray(inp.samples, dtype=object), k), "value": base.G.T.ravel()})
    return pd.concat([profile, contribution], ignore_index=True).assign(**common)


def _track(run: PMFRun, lake_version: int, replicates: int) -> str:
    from smartmon.mlflow_session import get_mlflow

    mlflow = get_mlflow(experiment="smartmon-source-tracing")
    with mlflow.start_run(run_name=f"pmf-{run.dataset}-{run.base.F.shape[0]}f") as r:
        mlflow.log_params({"dataset": run.dataset, "factors": run.base.F.shape[0], "starts": len(run.starts), "bootstrap": replicates,
                           "samples": run.inp.X.shape[0], "species": run.inp.X.shape[1], "excluded_bad": ",".join(run.inp.excluded),
                           "weak": ",".join(s for s, c in run.inp.categories.items() if c == "weak"), "robust_alpha": 4,
                           **DEFAULTS, "data_version.silver.speciation": lake_version})
        mlflow.log_metrics({"q_true": run.base.q_true, "q_robust": run.base.q_robust, "q_expected": run.q_expected,
                            "q_robust_over_expected": run.base.q_robust / run.q_expected, "seconds": run.seconds})
        for i, s in enumerate(run.starts):
            mlflow.log_metric("start_q_robust", s.q_robust, step=i)
        with tempfile.TemporaryDirectory() as tmp:
            prof = pd.DataFrame(run.base.F.T, index=run.inp.species, columns=[f"factor_{f + 1}" for f in range(run.base.F.shape[0])])
            prof.to_csv(f"{tmp}/profiles.csv")
            pd.DataFrame(run.base.G, index=run.inp.samples, columns=prof.columns).to_csv(f"{tmp}/contributions.csv")
            with open(f"{tmp}/signal_to_noise.json", "w") as fh:
                json.dump({s: {"s_n": round(v, 3), "category": run.inp.categories[s]} for s, v in run.inp.signal_to_noise.items()}, fh, indent=1)
            _plot(prof, f"{tmp}/profiles.png")
            mlflow.log_artifacts(tmp, "pmf")
        return r.info.run_id


def _plot(prof: pd.DataFrame, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    share = prof.div(prof.sum(axis=1).replace(0, np.nan), axis=0).fillna(0)
    fig, axes = plt.subplots(len(prof.columns), 1, figsize=(max(8, len(prof) * 0.3), 1.8 * len(prof.columns)), sharex=True)
    for ax, c in zip(np.atleast_1d(axes), prof.columns, strict=True):
        ax.bar(range(len(share)), share[c], color="tab:blue")
        ax.set_ylabel(c, fontsize=7), ax.set_ylim(0, 1)
    np.atleast_1d(axes)[-1].set_xticks(range(len(share)), share.index, rotation=90, fontsize=6)
    fig.suptitle("share of each species explained by the factor"), fig.tight_layout(), fig.savefig(path, dpi=90), plt.close(fig)


def run(lake: Lake, dataset: str, factors: int, starts: int = 20, replicates: int = 50, seed: int = 42,
        overrides: dict[str, str] | None = None, **options) -> dict:
    """Solve, track in MLflow, MERGE into gold.source_apportionment; returns the summary."""
    t0 = time.monotonic()
    raw, station = load(lake, dataset)
    inp = matrices(raw, overrides)
    base, sols, boot = solve(inp, factors, starts, seed, replicates, **options)
    result = PMFRun(dataset, station, inp, base, sols, boot, time.monotonic() - t0)
    run_id = _track(result, lake.version(SILVER_SPECIATION), replicates)
    written = lake.merge(lake.from_pandas(rows(result, run_id), TABLE), TABLE, ignore_in_compare={"mlflow_run_id"}).rows_written
    log.info("%s: %d factors, Q(robust) %.1f, Q(true) %.1f, Q expected %.0f; %d rows written", dataset, factors, base.q_robust,
             base.q_true, result.q_expected, written)
    return {**result.summary(), "rows_out": written, "mlflow_run_id": run_id, "bootstrap": replicates,
            "mapped": boot.mapped.tolist() if boot else None}
