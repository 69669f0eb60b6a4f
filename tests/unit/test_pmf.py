"""PMF: the objective as EPA PMF defines it, the solver on data with known sources, input
conventions (missing values, S/N categories, bad uncertainties) and the bootstrap blocks."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartmon.pmf.batch import block_indices
from smartmon.pmf.prepare import PMFInputError, matrices, signal_to_noise
from smartmon.pmf.solver import fit, normalise, q_robust, q_true, robust_uncertainty


def synthetic(m: int = 200, n: int = 12, k: int = 3, noise: float = 0.05, seed: int = 0):
    rng = np.random.default_rng(seed)
    F = rng.gamma(0.5, 1.0, size=(k, n)) + 0.01
    G = rng.gamma(2.0, 1.0, size=(m, k))
    clean = G @ F
    U = noise * clean + 0.01
    X = np.clip(clean + rng.normal(0, 1, clean.shape) * U, 0, None)
    return X, U, G, F


@pytest.mark.parametrize("scaled, expected", [(0.5, 0.25), (4.0, 16.0), (9.0, 36.0), (-9.0, 36.0), (100.0, 400.0)])
def test_q_robust_counts_alpha_times_the_scaled_residual_beyond_alpha(scaled, expected):
    X, U = np.array([[10.0 + scaled]]), np.array([[1.0]])
    G, F = np.array([[1.0]]), np.array([[10.0]])
    assert q_robust(X, U, G, F) == pytest.approx(expected)
    assert q_true(X, U, G, F) == pytest.approx(scaled**2)
    # the robust uncertainty makes the plain Q of the cell equal its robust Q
    assert q_true(X, robust_uncertainty(X, U, G, F), G, F) == pytest.approx(expected)


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0, max_value=10_000))
def test_q_robust_never_exceeds_q_true(seed):
    rng = np.random.default_rng(seed)
    X, U = rng.gamma(1, 1, (8, 5)), rng.uniform(0.05, 1, (8, 5))
    G, F = rng.gamma(1, 1, (8, 2)), rng.gamma(1, 1, (2, 5))
    assert q_robust(X, U, G, F) <= q_true(X, U, G, F) + 1e-9


def test_fit_recovers_known_sources_with_q_near_its_expected_value():
    X, U, _, F = synthetic()
    sol = normalise(fit(X, U, 3, seed=1))
    assert sol.converged and (sol.G >= 0).all() and (sol.F >= 0).all()
    m, n = X.shape
    q_exp = m * n - 3 * (m + n)
    assert 0.5 * q_exp < sol.q_robust < 1.5 * q_exp
    truth = F / F.sum(axis=1, keepdims=True)
    found = sol.F / sol.F.sum(axis=1, keepdims=True)
    best = [max(np.corrcoef(t, f)[0, 1] for f in found) for t in truth]
    assert min(best) > 0.95


def test_fit_is_deterministic_for_a_seed_and_robust_mode_resists_outliers():
    X, U, _, _ = synthetic(seed=3)
    a, b = fit(X, U, 3, seed=5), fit(X, U, 3, seed=5)
    assert a.q_robust == b.q_robust and np.array_equal(a.F, b.F)
    spoiled = X.copy()
    spoiled[::25, 0] *= 50  # a few gross outliers in one species
    plain, robust = fit(spoiled, U, 3, seed=5, robust=False), fit(spoiled, U, 3, seed=5)
    kept = np.ones_like(X, dtype=bool)
    kept[::25, 0] = False

    def misfit(sol) -> float:  # Q over the cells the outliers did not touch
        return float((((X - sol.G @ sol.F) / U) ** 2)[kept].sum())

    assert misfit(robust) < misfit(plain)


def rows_of(X: np.ndarray, U: np.ndarray, species: list[str]) -> pd.DataFrame:
    t = pd.date_range("2001-01-01", periods=len(X), freq="D")
    return pd.DataFrame([{"sample_time": t[i], "species": s, "concentration": X[i, j], "uncertainty": U[i, j]}
                         for i in range(len(X)) for j, s in enumerate(species)])


def test_inputs_follow_the_pmf_conventions():
    rng = np.random.default_rng(0)
    X = rng.gamma(4, 1, (30, 4))
    U = np.column_stack([X[:, 0] * 0.1, X[:, 1] * 0.6, X[:, 2] * 3.0, X[:, 3] * 0.1])  # strong, weak, bad, total
    rows = rows_of(X, U, ["SO4", "Zn", "Cd", "PM2.5"])
    rows.loc[(rows["species"] == "SO4") & (rows.index == 0), "concentration"] = np.nan  # one missing cell
    rows = rows[~((rows["species"] == "SO4") & (rows["sample_time"] == rows["sample_time"].iloc[-1]))]  # one absent cell
    inp = matrices(rows)
    assert inp.categories == {"SO4": "strong", "Zn": "weak", "Cd": "bad", "PM2.5": "weak"}
    assert inp.species == ["PM2.5", "SO4", "Zn"] and inp.excluded == ["Cd"]
    assert inp.replaced_missing == 2
    so4 = inp.species.index("SO4")
    med = np.nanmedian(np.r_[X[1:-1, 0]])
    assert inp.X[0, so4] == pytest.approx(med) and inp.U[0, so4] == pytest.approx(4 * med)
    zn = inp.species.index("Zn")
    assert np.allclose(inp.U[:, zn], 3 * U[:, 1])
    sn = signal_to_noise(X, U)
    assert sn[0] > 1 > sn[1] >= 0.5 > sn[2]


def test_overrides_and_bad_uncertainties_are_named():
    X = np.ones((5, 2)) * 2
    U = np.ones((5, 2)) * 0.1
    inp = matrices(rows_of(X, U, ["a", "b"]), {"b": "weak"})
    assert inp.categories["b"] == "weak"
    with pytest.raises(PMFInputError, match="unknown species 'c'"):
        matrices(rows_of(X, U, ["a", "b"]), {"c": "weak"})
    U[3, 1] = 0
    with pytest.raises(PMFInputError, match="uncertainty <= 0 for species 'b' at sample 2001-01-04"):
        matrices(rows_of(X, U, ["a", "b"]))


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=5, max_value=500), st.integers(min_value=2, max_value=12), st.integers(min_value=0, max_value=99))
def test_bootstrap_blocks_cover_the_sample_count_with_runs_of_consecutive_samples(m, block, seed):
    block = min(block, m)
    idx = block_indices(m, block, np.random.default_rng(seed))
    assert len(idx) == m and idx.min() >= 0 and idx.max() < m
    runs = np.split(idx, np.arange(block, m, block))
    assert all((np.diff(r) == 1).all() for r in runs)
