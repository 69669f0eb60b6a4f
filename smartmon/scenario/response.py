"""Source-receptor response: a linear transfer matrix from emission sources to receptors.

Physics (the prior): the sector-averaged Gaussian plume of long-term dispersion models (as in
EPA's ISCLT), 16 wind sectors, Briggs' rural sigma_z for neutral conditions (class D:
0.06 x (1 + 0.0015 x)^-1/2, x in m), an effective release height of 60 m, a removal length of
200 km, and the frequency with which the wind blows from the source towards the receptor
(the wind rose of the period; uniform when the lake has no winds for it):

    C [ug/m3] = 1e6 x sqrt(2/pi) x Q [g/s] x f / (sigma_z x u x 2 pi x / 16) x exp(-H^2 / 2 sigma_z^2) x exp(-x / L)

PM2.5 responds to primary dust and to SO2 and NOx through secondary sulfate and nitrate:
PM-equivalent emission = dust + 0.3 SO2 + 0.2 NOx (assumed yields). A calibration factor b >= 0
(fitted against observed station means: obs = background + b x modelled) corrects the prior;
the response stays linear, so a cut never raises a concentration and two cuts add up.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from smartmon.geo.distance import distance_km
from smartmon.upwind import bearing

SECTORS = 16
# Receptor x source cells computed at once. plume() holds about ten temporaries of the block's
# size, so a national matrix in one piece (about 10^5 stations x 5 x 10^3 sources, gigabytes a
# temporary) cannot fit in memory; a block of 4 M cells keeps them to a few hundred MB.
BLOCK_CELLS = 4_000_000
YIELD = {"smoke_dust": 1.0, "so2": 0.3, "nox": 0.2}


@dataclass(frozen=True)
class Response:
    """Parameters of the fitted response (what MLflow registers)."""

    b: float = 1.0  # calibration factor on the plume prior
    background: float = 0.0  # ug/m3 not explained by the registered sources
    wind_speed: float = 2.5  # m/s
    height_m: float = 60.0
    removal_km: float = 200.0
    r2: float = float("nan")
    n_receptors: int = 0
    calibrated: bool = False  # False: the physical prior (b = 1) was kept
    wind_rose: tuple[float, ...] = tuple([1 / SECTORS] * SECTORS)  # frequency the wind blows TOWARDS each sector

    def params(self) -> dict:
        d = asdict(self)
        d["wind_rose"] = ",".join(f"{f:.4f}" for f in self.wind_rose)
        return d


def geometry(r_lat, r_lon, s_lat, s_lon) -> tuple[np.ndarray, np.ndarray]:
    """(distance m, sector index of the receptor as seen from the source), elementwise with numpy
    broadcasting: aligned pairs, or receptors[:, None] against sources[None, :] for a matrix."""
    dist = distance_km(s_lat, s_lon, r_lat, r_lon) * 1000
    return dist, (np.round(bearing(s_lat, s_lon, r_lat, r_lon) / (360 / SECTORS)).astype(int) % SECTORS)


def plume(dist_m: np.ndarray, freq: np.ndarray, r: Response) -> np.ndarray:
    """ug/m3 per g/s emitted (the prior, before b)."""
    x = np.maximum(dist_m, 500.0)
    sz = 0.06 * x / np.sqrt(1 + 0.0015 * x)
    c = np.sqrt(2 / np.pi) * freq / (sz * r.wind_speed * 2 * np.pi * x / SECTORS)
    return 1e6 * c * np.exp(-(r.height_m ** 2) / (2 * sz ** 2)) * np.exp(-x / (r.removal_km * 1000))


def transfer(r_lat, r_lon, s_lat, s_lon, r: Response, *, pairs: bool = False) -> np.ndarray:
    """ug/m3 per kg/h of PM-equivalent emission, calibration included: a receptors x sources
    matrix (computed in blocks of receptors, the same values as in one piece), or one value per
    aligned (receptor, source) pair when pairs."""
    ra, rb, sa, sb = (np.asarray(v, dtype=float) for v in (r_lat, r_lon, s_lat, s_lon))
    if pairs:
        return _transfer(ra, rb, sa, sb, r)
    out = np.empty((len(ra), len(sa)))
    step = max(1, BLOCK_CELLS // max(len(sa), 1))
    for i in range(0, len(ra), step):
        out[i:i + step] = _transfer(ra[i:i + step, None], rb[i:i + step, None], sa[None, :], sb[None, :], r)
    return out


def block_rows(n_sources: int, block_cells: int | None = None) -> int:
    """Receptors per block of a receptors x sources computation (BLOCK_CELLS cells a block)."""
    return max(1, (BLOCK_CELLS if block_cells is None else block_cells) // max(n_sources, 1))


def modelled(r_lat, r_lon, s_lat, s_lon, emission_kg_h, r: Response, block_cells: int | None = None) -> np.ndarray:
    """transfer @ emissions per receptor without holding the whole matrix: what calibration
    needs, at any number of receptors and sources. block_cells: BLOCK_CELLS unless given (a
    Ray task is given its caller's, so the blocks and their bits are the caller's)."""
    ra, rb = np.asarray(r_lat, dtype=float), np.asarray(r_lon, dtype=float)
    q = np.asarray(emission_kg_h, dtype=float)
    out = np.empty(len(ra))
    step = block_rows(len(q), block_cells)
    for i in range(0, len(ra), step):
        out[i:i + step] = transfer(ra[i:i + step], rb[i:i + step], s_lat, s_lon, r) @ q
    return out


def _transfer(ra: np.ndarray, rb: np.ndarray, sa: np.ndarray, sb: np.ndarray, r: Response) -> np.ndarray:
    dist, sector = geometry(ra, rb, sa, sb)
    return r.b * plume(dist, np.asarray(r.wind_rose)[sector], r) * (1000 / 3600)


def wind_rose(u: np.ndarray, v: np.ndarray) -> tuple[float, ...]:
    """Frequency the wind blows TOWARDS each of 16 sectors (u east, v north); uniform without data."""
    ok = np.isfinite(u) & np.isfinite(v) & ((u != 0) | (v != 0))
    if not ok.any():
        return tuple([1 / SECTORS] * SECTORS)
    towards = (np.degrees(np.arctan2(u[ok], v[ok])) + 360) % 360
    counts = np.bincount(np.round(towards / (360 / SECTORS)).astype(int) % SECTORS, minlength=SECTORS)
    return tuple((counts / counts.sum()).tolist())


def fit(observed: np.ndarray, modelled_prior: np.ndarray, prior: Response) -> Response:
    """obs = background + b x modelled by least squares (b > 0, background >= 0). With fewer than
    3 receptors, or a fit that finds no positive relation (b <= 0: the sources do not explain the
    spatial pattern), the physical prior b = 1 is kept and calibrated is False: a response of zero
    would claim that cutting emissions changes nothing."""
    ok = np.isfinite(observed) & np.isfinite(modelled_prior)
    y, x = observed[ok], modelled_prior[ok]
    if len(y) < 3 or np.var(x) == 0:
        return Response(**{**asdict(prior), "background": float(np.nanmean(y)) if len(y) else 0.0, "n_receptors": len(y)})
    slope, intercept = np.polyfit(x, y, 1)
    if slope <= 0:
        background = max(0.0, float(np.mean(y - prior.b * x)))
        pred = background + prior.b * x
        r2 = 1 - float(((y - pred) ** 2).sum() / max(((y - y.mean()) ** 2).sum(), 1e-12))
        return Response(**{**asdict(prior), "background": background, "r2": r2, "n_receptors": len(y), "calibrated": False})
    if intercept < 0:
        intercept, slope = 0.0, float((x @ y) / (x @ x))
    pred = intercept + slope * x
    r2 = 1 - float(((y - pred) ** 2).sum() / max(((y - y.mean()) ** 2).sum(), 1e-12))
    return Response(**{**asdict(prior), "b": float(slope), "background": float(intercept), "r2": r2, "n_receptors": len(y),
                        "calibrated": True})
