"""CO2 factors with their sources, and their Monte Carlo draws.

| factor | value | uncertainty (1 sigma, assumed) | source |
|---|---|---|---|
| grid electricity, by regional grid | see GRID_REGION (kgCO2/kWh) | 10 % | MEE & NBS announcement of 2024-12-20: 2022 national, regional and provincial average electricity CO2 factors (national 0.5366) |
| raw coal | 20.908 GJ/t x 94.6 tCO2/TJ = 1.978 tCO2/t | 5 % | NCV: China Energy Statistical Yearbook (原煤 20,908 kJ/kg); carbon: IPCC 2006 Guidelines vol. 2 table 1.4, other bituminous coal |
| natural gas | 389.31 GJ/10^4 m3 x 56.1 tCO2/TJ = 21.84 tCO2/10^4 m3 | 3 % | NCV: China Energy Statistical Yearbook (38,931 kJ/m3); IPCC 2006 vol. 2 table 1.4 |

Regional grids as the MEE defines them since the 2021 factors (Southwest split from Central).
"""

from __future__ import annotations

import numpy as np

GRID_REGION = {  # kgCO2/kWh, 2022
    "north": 0.6776, "northeast": 0.5564, "east": 0.5617, "central": 0.5395, "northwest": 0.5857, "south": 0.3869, "southwest": 0.2268,
}
NATIONAL_GRID = 0.5366
PROVINCE_REGION = {
    **dict.fromkeys(("11", "12", "13", "14", "15", "37"), "north"),
    **dict.fromkeys(("21", "22", "23"), "northeast"),
    **dict.fromkeys(("31", "32", "33", "34", "35"), "east"),
    **dict.fromkeys(("41", "42", "43", "36"), "central"),
    **dict.fromkeys(("61", "62", "63", "64", "65"), "northwest"),
    **dict.fromkeys(("44", "45", "46", "52", "53"), "south"),
    **dict.fromkeys(("50", "51", "54"), "southwest"),
}
FUEL_T_CO2 = {"coal": 20.908e-3 * 94.6, "natural_gas": 389.31e-3 * 56.1}  # per t, per 10^4 m3
SIGMA = {"grid": 0.10, "coal": 0.05, "natural_gas": 0.03}


def grid_factor(province_code: str) -> float:
    """kgCO2/kWh of the regional grid a province belongs to (national average if unknown)."""
    return GRID_REGION.get(PROVINCE_REGION.get(province_code[:2], ""), NATIONAL_GRID)


def draws(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Multiplicative draws (mean 1) per factor kind: one grid draw per region and draw, one per fuel."""
    out = {f"grid:{r}": rng.normal(1, SIGMA["grid"], n) for r in GRID_REGION}
    out["grid:national"] = rng.normal(1, SIGMA["grid"], n)
    for fuel in FUEL_T_CO2:
        out[fuel] = rng.normal(1, SIGMA[fuel], n)
    return {k: np.clip(v, 0.0, None) for k, v in out.items()}
