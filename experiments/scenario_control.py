"""Control scenario: hotspot cells (H3 res 7 and 9), the registered sources that contribute most to
each (the carbon scenario's response), and the effect of cutting named sources on named days."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd

from experiments.scenario_carbon import distribution
from experiments.scenario_inputs import CarbonInputs
from smartmon.scenario import control, response
from smartmon.scenario.spec import Spec, matches

TOP_HOTSPOTS, TOP_CONTRIBUTORS = 10, 5
CALIBRATION_SIGMA = 0.2


def _row(output: str, kind: str, entity: str, nominal: float, values: np.ndarray | None, unit: str) -> dict:
    """One distribution row (scenario_carbon.distribution's summary; no draws: the nominal value)."""
    v = values if values is not None else np.array([nominal])
    return distribution(output, kind, [entity], v[None, :], np.array([nominal]), unit).iloc[0].to_dict()


def result_rows(stations: pd.DataFrame, carbon_in: CarbonInputs, r: response.Response, spec: Spec) -> pd.DataFrame:
    """stations: scenario_inputs.control_inputs (per station: valid hours, exceedances, longest run, H3 cells)."""
    rng = np.random.default_rng(spec.seed)
    calib = np.exp(rng.normal(0, CALIBRATION_SIGMA, spec.draws) - CALIBRATION_SIGMA ** 2 / 2)
    cut = -float(spec.raw.get("cut", 1.0))  # share of the named sources' emissions removed on the named days
    src = carbon_in.entities[carbon_in.entities["lat"].notna()].reset_index(drop=True)
    named = src["entity"].isin(spec.sources).to_numpy()
    if spec.source_filter is not None:
        named |= np.array([matches(spec.source_filter, *r) for r in
                           src[["sector", "province_code", "city_code", "county_code"]].itertuples(index=False)], dtype=bool)
    share_days = len(spec.days) / ((spec.period[1] - spec.period[0]).days + 1)
    rows = []
    for res in ("h3_r7", "h3_r9"):
        kind = f"hex_r{res[-1]}"
        hot = control.hotspots(stations, res).head(TOP_HOTSPOTS)
        for h in hot.itertuples():
            cell = str(int(h.cell))
            rows.append(_row("exceedance_freq", kind, cell, h.exceedance_freq, None, "share of valid hours > 75 ug/m3"))
            rows.append(_row("persistence_h", kind, cell, h.persistence_h, None, "hours"))
            rows.append(_row("hotspot_rank", kind, cell, h.rank, None, "rank"))
            if src.empty:
                continue
            lat, lon = h3.cell_to_latlng(h3.int_to_str(int(h.cell)))
            t = response.transfer([lat], [lon], src["lat"], src["lon"], r)[0]
            contrib = t * src["pm_eq_kg_h"].to_numpy()
            for i in np.argsort(-contrib)[:TOP_CONTRIBUTORS]:
                if contrib[i] > 0:
                    rows.append(_row("contribution", f"{kind}_source", f"{cell}:{src.at[i, 'entity']}", contrib[i],
                                     contrib[i] * calib, "ug/m3, period mean"))
            # the named days: the named sources' share of the period's mean contribution removed
            delta = cut * float(contrib[named].sum())
            rows.append(_row("delta_pm25_control_days", kind, cell, delta, delta * calib, "ug/m3 on the named days"))
            rows.append(_row("delta_pm25_period", kind, cell, delta * share_days, delta * share_days * calib, "ug/m3, period mean"))
    return pd.DataFrame(rows)
