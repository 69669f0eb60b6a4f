"""The forecasters' input matrix, shared by training (experiments/), the served pyfunc's
callers and batch inference (jobs/gold/forecasts.py), so all three build the same columns."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from smartmon.catalog.features import feature_columns


def model_columns(extra: Sequence[str] = ()) -> list[str]:
    """Issue-time features, horizon, target hour and the target's climatology (+ extra inputs)."""
    return [*feature_columns(), "horizon_h", "target_hod", "clim", *extra]


def design(df: pd.DataFrame, target: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Rows of features x horizons as floats, with clim = the climatology of `target`."""
    return df.assign(clim=df[f"clim_{target}"])[columns or model_columns()].astype(float)
