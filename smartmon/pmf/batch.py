"""Random starts and bootstrap replicates of PMF as Ray tasks (one CPU each).

Starts: seeds drawn from one seeded generator, so a run is reproducible; the best start by
Q(robust) is the base solution. Bootstrap (EPA PMF's BS): samples resampled in blocks of
consecutive samples (keeps the day-to-day autocorrelation), each replicate fitted from the
base profiles, its factors mapped to the base factors by the correlation of contributions on
the resampled samples (r >= 0.6, EPA's default); mapped profiles give the intervals.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from smartmon.pmf.solver import Solution, fit, normalise

log = logging.getLogger(__name__)
MAP_MIN_R = 0.6


@dataclass
class BootstrapResult:
    percentiles: dict[int, np.ndarray]  # percentile -> factors x species
    mapped: np.ndarray  # per base factor, replicates whose factor mapped to it
    replicates: int
    block: int


def start_seeds(seed: int, starts: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return [int(s) for s in rng.integers(0, 2**31 - 1, size=starts)]


def _remote(ray, fn):
    return ray.remote(num_cpus=1)(fn)


def run_starts(X: np.ndarray, U: np.ndarray, k: int, starts: int, seed: int = 42, concurrency: int | None = None,
               **options) -> list[Solution]:
    """All starts on Ray, at most `concurrency` at a time (default: as many as Ray has CPUs);
    sorted best first by Q(robust)."""
    from smartmon.ray_session import get_ray

    ray = get_ray()
    task = _remote(ray, fit)
    xr, ur = ray.put(X), ray.put(U)
    queue = start_seeds(seed, starts)
    limit = concurrency or max(1, int(ray.cluster_resources().get("CPU", 1)))
    pending = [task.remote(xr, ur, k, s, **options) for s in queue[:limit]]
    queue = queue[limit:]
    out: list[Solution] = []
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        if queue:
            pending.append(task.remote(xr, ur, k, queue.pop(0), **options))
        sol = ray.get(done[0])
        out.append(sol)
        log.info("PMF start %d/%d: seed %d, Q(robust) %.1f, Q(true) %.1f, %d iterations%s", len(out), starts, sol.seed,
                 sol.q_robust, sol.q_true, sol.iterations, "" if sol.converged else " (not converged)")
    return sorted(out, key=lambda s: s.q_robust)


def block_length(m: int) -> int:
    """About m^(1/3) consecutive samples per block (the usual order for block bootstraps)."""
    return max(2, round(m ** (1 / 3)))


def block_indices(m: int, block: int, rng: np.random.Generator) -> np.ndarray:
    n_blocks = math.ceil(m / block)
    starts = rng.integers(0, m - block + 1, size=n_blocks)
    return np.concatenate([np.arange(s, s + block) for s in starts])[:m]


def _replicate(X: np.ndarray, U: np.ndarray, base: Solution, idx: np.ndarray, seed: int, options: dict) -> tuple[np.ndarray, np.ndarray]:
    sol = normalise(fit(X[idx], U[idx], base.F.shape[0], seed, F0=base.F, **options))
    k = base.F.shape[0]
    with np.errstate(invalid="ignore", divide="ignore"):  # a constant contribution column correlates with nothing
        corr = np.nan_to_num(np.corrcoef(sol.G.T, base.G[idx].T)[:k, k:])
    assign = np.full(k, -1)
    for i in range(k):  # each replicate factor to its best-correlated base factor, if r >= MAP_MIN_R
        j = int(np.argmax(corr[i]))
        if corr[i, j] >= MAP_MIN_R:
            assign[i] = j
    return sol.F, assign


def bootstrap(X: np.ndarray, U: np.ndarray, base: Solution, replicates: int, seed: int = 7, block: int | None = None,
              **options) -> BootstrapResult:
    """Replicates on Ray; base must be normalised (mean contribution 1 per factor)."""
    from smartmon.ray_session import get_ray

    ray = get_ray()
    m, k = X.shape[0], base.F.shape[0]
    block = block or block_length(m)
    rng = np.random.default_rng(seed)
    task = _remote(ray, _replicate)
    xr, ur, br = ray.put(X), ray.put(U), ray.put(base)
    futures = [task.remote(xr, ur, br, block_indices(m, block, rng), int(rng.integers(0, 2**31 - 1)), options)
               for _ in range(replicates)]
    per_factor: list[list[np.ndarray]] = [[] for _ in range(k)]
    for n, (F, assign) in enumerate(ray.get(futures), 1):
        for i, j in enumerate(assign):
            if j >= 0:
                per_factor[j].append(F[i])
        if n % 10 == 0 or n == replicates:
            log.info("PMF bootstrap %d/%d replicates", n, replicates)
    mapped = np.array([len(p) for p in per_factor])
    pct = {}
    for q in (5, 25, 50, 75, 95):
        pct[q] = np.vstack([np.percentile(np.vstack(p), q, axis=0) if p else np.full(X.shape[1], np.nan) for p in per_factor])
    return BootstrapResult(pct, mapped, replicates, block)
