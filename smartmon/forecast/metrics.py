"""Forecast scores as the KDD Cup 2018 defined them, plus RMSE and MAE.

SMAPE = mean of 2|F - A| / (F + A), with 0 where both are 0 (KDD Cup 2018). Negative forecasts
are clipped to 0 first: concentrations are never negative and SMAPE is undefined for F + A < 0.
"""

from __future__ import annotations

import numpy as np

# the horizon blocks the national forecasts are judged by (issue #27, the gate, the report)
HORIZON_BLOCKS = ((1, 3), (4, 12), (13, 24), (25, 48), (49, 72))


def block_of(h: int) -> str:
    """'lo-hi' of the horizon block holding hour h."""
    return next(f"{lo}-{hi}" for lo, hi in HORIZON_BLOCKS if lo <= h <= hi)


def _arrays(forecast, actual) -> tuple[np.ndarray, np.ndarray]:
    f = np.clip(np.asarray(forecast, dtype=float), 0, None)
    a = np.asarray(actual, dtype=float)
    keep = ~(np.isnan(f) | np.isnan(a))
    return f[keep], a[keep]


def smape(forecast, actual) -> float:
    f, a = _arrays(forecast, actual)
    if f.size == 0:
        return float("nan")
    den = f + a
    terms = np.where(den == 0, 0.0, 2 * np.abs(f - a) / np.where(den == 0, 1, den))
    return float(terms.mean())


def rmse(forecast, actual) -> float:
    f, a = _arrays(forecast, actual)
    return float(np.sqrt(np.mean((f - a) ** 2))) if f.size else float("nan")


def mae(forecast, actual) -> float:
    f, a = _arrays(forecast, actual)
    return float(np.mean(np.abs(f - a))) if f.size else float("nan")


def scores(forecast, actual) -> dict[str, float]:
    return {"smape": smape(forecast, actual), "rmse": rmse(forecast, actual), "mae": mae(forecast, actual)}


def mean_smape_by_horizon(forecast, rows, target: str) -> float:
    """Mean over horizons of each horizon's SMAPE (how the report and the gate average), for
    forecasts aligned with `rows` (which carry horizon_h and actual_<target>)."""
    f = np.asarray(forecast, dtype=float)
    a = rows[f"actual_{target}"].to_numpy(dtype=float)
    return float(np.mean([smape(f[idx], a[idx]) for idx in rows.groupby("horizon_h").indices.values()]))
