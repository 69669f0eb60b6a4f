"""Minimise Q = sum(((X - GF) / U)^2) over G, F >= 0, as EPA PMF defines it, in robust mode.

Q(robust) is EPA PMF's: a scaled residual |e/u| beyond alpha (4) counts as alpha * |e/u| instead
of its square (the uncertainty of that cell is raised to u * sqrt(|e/u| / alpha)), so a few
outlying samples cannot pull the factors. The solver minimises Q(robust) directly: weighted
multiplicative updates (LS-NMF, Wang et al. 2006, weights 1/u^2) with the robust uncertainties
recomputed every iteration (iteratively reweighted least squares), which keeps G and F
non-negative without projections and never increases the weighted objective of a step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ALPHA = 4.0
TINY = 1e-12


@dataclass(frozen=True)
class Solution:
    G: np.ndarray  # contributions, samples x factors
    F: np.ndarray  # profiles, factors x species
    q_true: float
    q_robust: float
    iterations: int
    converged: bool
    seed: int


def q_true(X: np.ndarray, U: np.ndarray, G: np.ndarray, F: np.ndarray) -> float:
    return float(np.sum(((X - G @ F) / U) ** 2))


def robust_uncertainty(X: np.ndarray, U: np.ndarray, G: np.ndarray, F: np.ndarray, alpha: float = ALPHA) -> np.ndarray:
    """U where |e/u| <= alpha, else u * sqrt(|e/u| / alpha) (EPA PMF robust mode)."""
    scaled = np.abs(X - G @ F) / U
    return np.where(scaled > alpha, U * np.sqrt(scaled / alpha), U)


def q_robust(X: np.ndarray, U: np.ndarray, G: np.ndarray, F: np.ndarray, alpha: float = ALPHA) -> float:
    scaled = np.abs(X - G @ F) / U
    return float(np.sum(np.where(scaled > alpha, alpha * scaled, scaled**2)))


def initial(X: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random non-negative start scaled so G F has the data's magnitude (column and row means)."""
    m, n = X.shape
    col = np.sqrt(np.maximum(X.mean(axis=0), TINY) / k)
    row = np.sqrt(np.maximum(X.mean(axis=1), TINY) / k)
    F = col * rng.uniform(0.1, 1.0, size=(k, n))
    G = row[:, None] * rng.uniform(0.1, 1.0, size=(m, k))
    return G, F


def fit(X: np.ndarray, U: np.ndarray, k: int, seed: int, *, max_iter: int = 20_000, converge_delta: float = 0.1,
        converge_n: int = 100, robust: bool = True, alpha: float = ALPHA, F0: np.ndarray | None = None) -> Solution:
    """One start: converged when Q(robust) fell by less than converge_delta over the last
    converge_n iterations (ESAT's rule and defaults). F0 starts from given profiles (bootstrap)."""
    X = np.asarray(X, dtype=np.float64)
    U = np.maximum(np.asarray(U, dtype=np.float64), TINY)
    rng = np.random.default_rng(seed)
    G, F = initial(X, k, rng)
    if F0 is not None:
        F = np.maximum(np.array(F0, dtype=np.float64), TINY)
    W = 1.0 / U**2
    history = np.full(converge_n + 1, np.inf)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        if robust:
            R = X - G @ F
            scaled = np.abs(R) / U
            W = np.where(scaled > alpha, alpha / (scaled * U**2), 1.0 / U**2)
            q = float(np.sum(np.where(scaled > alpha, alpha * scaled, scaled**2)))
        else:
            q = float(np.sum((X - G @ F) ** 2 * W))
        history[it % (converge_n + 1)] = q
        if it > converge_n and history[(it + 1) % (converge_n + 1)] - q < converge_delta:
            converged = True
            break
        WX = W * X
        F *= (G.T @ WX) / np.maximum(G.T @ (W * (G @ F)), TINY)
        G *= (WX @ F.T) / np.maximum((W * (G @ F)) @ F.T, TINY)
    return Solution(G, F, q_true(X, U, G, F), q_robust(X, U, G, F, alpha), it, converged, seed)


def normalise(sol: Solution) -> Solution:
    """Scale each factor so its mean contribution is 1 (EPA's convention): profiles then read in
    concentration units and factors of different starts compare directly."""
    scale = np.maximum(sol.G.mean(axis=0), TINY)
    return Solution(sol.G / scale, sol.F * scale[:, None], sol.q_true, sol.q_robust, sol.iterations, sol.converged, sol.seed)
