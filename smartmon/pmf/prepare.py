"""From speciation rows to the PMF input matrices, by the EPA PMF 5.0 user guide's conventions.

- Missing concentration (or missing uncertainty): the species median, uncertainty 4 x median
  (down-weighted so the gap barely pulls the fit).
- Zero or negative uncertainty is an error in the feed, named with its sample and species.
- Signal-to-noise per species (guide eq. 5-3): mean over samples of (x - s) / s where x > s,
  else 0. Below 0.5 the species is "bad" (excluded), below 1.0 "weak" (uncertainty tripled).
- The total variable (PM2.5 mass, TNMOC) is set weak, as the guide recommends, so it informs
  the factor masses without dominating the fit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from smartmon.errors import InputError

log = logging.getLogger(__name__)
BAD_BELOW = 0.5
WEAK_BELOW = 1.0
TOTAL_NAMES = ("pm2.5", "pm25", "mass", "tnmoc", "totalpm2.5", "pm2.5mass")


class PMFInputError(InputError):
    """Speciation rows that cannot make a PMF input (named sample and species)."""


@dataclass
class PMFInput:
    X: np.ndarray
    U: np.ndarray
    species: list[str]
    samples: list
    categories: dict[str, str]
    signal_to_noise: dict[str, float]
    replaced_missing: int = 0
    excluded: list[str] = field(default_factory=list)


def signal_to_noise(X: np.ndarray, U: np.ndarray) -> np.ndarray:
    d = np.where(X > U, (X - U) / U, 0.0)
    return d.mean(axis=0)


def is_total(name: str) -> bool:
    return name.replace(" ", "").replace("_", "").lower() in TOTAL_NAMES


def categorise(species: list[str], sn: np.ndarray, overrides: dict[str, str] | None = None) -> dict[str, str]:
    cats = {}
    for s, v in zip(species, sn, strict=True):
        cats[s] = "bad" if v < BAD_BELOW else "weak" if v < WEAK_BELOW or is_total(s) else "strong"
    for s, c in (overrides or {}).items():
        if s not in cats:
            raise PMFInputError(f"category override names unknown species {s!r}")
        if c not in ("strong", "weak", "bad"):
            raise PMFInputError(f"category for {s!r} must be strong, weak or bad, not {c!r}")
        cats[s] = c
    return cats


def matrices(rows: pd.DataFrame, overrides: dict[str, str] | None = None) -> PMFInput:
    """rows: sample_time, species, concentration, uncertainty (one dataset)."""
    if rows.empty:
        raise PMFInputError("no speciation rows")
    conc = rows.pivot_table(index="sample_time", columns="species", values="concentration", aggfunc="first", dropna=False)
    unc = rows.pivot_table(index="sample_time", columns="species", values="uncertainty", aggfunc="first", dropna=False)
    unc = unc.reindex(index=conc.index, columns=conc.columns)
    bad_u = (unc <= 0) & conc.notna()
    if bad_u.any().any():
        t, s = next((t, s) for s in bad_u.columns for t in bad_u.index[bad_u[s]])
        raise PMFInputError(f"uncertainty <= 0 for species {s!r} at sample {t} ({int(bad_u.sum().sum())} cells)")
    missing = conc.isna() | unc.isna()
    median = conc.median()
    X = conc.where(~missing, median, axis=1)
    U = unc.where(~missing, 4 * median, axis=1)
    dead = [s for s in X.columns if X[s].isna().all() or not (U[s] > 0).all()]
    if dead:
        raise PMFInputError(f"species without any usable value: {dead}")
    species = list(X.columns)
    sn = signal_to_noise(X.to_numpy(float), U.to_numpy(float))
    cats = categorise(species, sn, overrides)
    keep = [s for s in species if cats[s] != "bad"]
    Xk, Uk = X[keep].to_numpy(float), U[keep].to_numpy(float)
    Uk = Uk * np.array([3.0 if cats[s] == "weak" else 1.0 for s in keep])
    log.info("PMF input: %d samples x %d species (%d weak, %d bad excluded, %d missing cells replaced)", len(X), len(keep),
             sum(c == "weak" for c in cats.values()), len(species) - len(keep), int(missing.sum().sum()))
    return PMFInput(Xk, Uk, keep, list(X.index), cats, dict(zip(species, map(float, sn), strict=True)),
                    int(missing.sum().sum()), [s for s in species if cats[s] == "bad"])
