"""The carbon co-reduction scenario (减污降碳): CO2 from electricity and fuel, and the PM2.5 change
that the same activity changes bring through the source-receptor response.

Activities: each enterprise's electricity (kWh) and fuel over the period, and the counties'
electricity by sector (industry, residential, commercial). A change scales an entity's activity
and, for enterprises, its emissions in proportion. CO2 = kWh x grid factor of its province's
regional grid + fuel x fuel factor (factors.py). Delta PM2.5 at a receptor = the response matrix x
the change in PM-equivalent emissions (response.py). Every draw multiplies the factors and the
calibration by their own draws; the activities and their changes are exact."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartmon.scenario import factors
from smartmon.scenario.response import YIELD


@dataclass
class Activities:
    """Arrays over the entities of one region (all the same length n)."""

    entity: np.ndarray  # source_id, or county:<code>:<sector>
    province: np.ndarray  # 2-digit prefix
    kwh: np.ndarray
    coal_t: np.ndarray
    gas_1e4m3: np.ndarray
    pm_eq_kg_h: np.ndarray  # mean hourly PM-equivalent emission (0 for counties)
    lat: np.ndarray
    lon: np.ndarray


def pm_equivalent(so2: np.ndarray, nox: np.ndarray, dust: np.ndarray) -> np.ndarray:
    return YIELD["smoke_dust"] * dust + YIELD["so2"] * so2 + YIELD["nox"] * nox


def grid_keys(province: np.ndarray) -> list[str]:
    return [f"grid:{factors.PROVINCE_REGION.get(p[:2], 'national')}" for p in province]


def co2_t(a: Activities, mult: np.ndarray, draws: dict[str, np.ndarray] | None) -> np.ndarray:
    """Tonnes of CO2 per draw (one value when draws is None: the nominal factors)."""
    grid = np.array([factors.grid_factor(p) for p in a.province])
    keys = grid_keys(a.province)
    if draws is None:
        g = grid[None, :]
        coal = np.array([factors.FUEL_T_CO2["coal"]])[:, None]
        gas = np.array([factors.FUEL_T_CO2["natural_gas"]])[:, None]
    else:
        g = grid[None, :] * np.stack([draws[k] for k in keys], axis=1) if len(keys) else np.zeros((len(draws["coal"]), 0))
        coal = factors.FUEL_T_CO2["coal"] * draws["coal"][:, None]
        gas = factors.FUEL_T_CO2["natural_gas"] * draws["natural_gas"][:, None]
    per_entity = a.kwh[None, :] * g / 1000 + a.coal_t[None, :] * coal + a.gas_1e4m3[None, :] * gas
    return (per_entity * mult[None, :]).sum(axis=1)


def region_draws(a: Activities, mult: np.ndarray, transfer: np.ndarray, draws: dict[str, np.ndarray], calib: np.ndarray) -> dict[str, np.ndarray]:
    """One region's contribution per draw: CO2 baseline and scenario (t), delta PM2.5 at every
    receptor (draws x receptors, ug/m3). transfer: receptors x entities (ug/m3 per kg/h)."""
    base = co2_t(a, np.ones_like(mult), draws)
    scen = co2_t(a, mult, draws)
    d_emis = (mult - 1.0) * a.pm_eq_kg_h
    dpm = calib[:, None] * (transfer @ d_emis)[None, :]
    return {"co2_base_t": base, "co2_scenario_t": scen, "delta_pm25": dpm}
