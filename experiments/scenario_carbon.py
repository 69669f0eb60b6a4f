"""Carbon scenario on Ray: fit and register the source-receptor response, then run the draws of
every region (the provinces of the entities) as Ray tasks and aggregate them."""

from __future__ import annotations

import hashlib
import json
import logging
import math

import numpy as np
import pandas as pd

from experiments.scenario_inputs import CarbonInputs
from smartmon.scenario import carbon, factors, response
from smartmon.scenario.spec import Spec, multipliers

log = logging.getLogger(__name__)
MODEL = "smartmon.carbon.response"
CALIBRATION_SIGMA = 0.2  # lognormal sigma of the calibration factor's draws (assumed)


def fit_response(inp: CarbonInputs, ray=None) -> response.Response:
    """Prior physics with the period's wind rose, calibrated against observed station means (the
    prior's modelled means computed on Ray when it is given)."""
    w = inp.winds
    prior = response.Response(wind_rose=response.wind_rose(w["wind_u"].to_numpy(), w["wind_v"].to_numpy()))
    src = inp.entities[inp.entities["lat"].notna() & (inp.entities["pm_eq_kg_h"] > 0)]
    rec = inp.receptors[inp.receptors["observed_pm25"].notna()]
    if src.empty or rec.empty:
        return prior
    args = (rec["lat"].to_numpy(float), rec["lon"].to_numpy(float), src["lat"].to_numpy(float), src["lon"].to_numpy(float),
            src["pm_eq_kg_h"].to_numpy(float), prior)
    modelled = modelled_on_ray(ray, *args) if ray is not None else response.modelled(*args)
    return response.fit(rec["observed_pm25"].to_numpy(), modelled, prior)


def modelled_on_ray(ray, r_lat: np.ndarray, r_lon: np.ndarray, s_lat: np.ndarray, s_lon: np.ndarray, q: np.ndarray,
                    r: response.Response, tasks: int | None = None, block_cells: int | None = None) -> np.ndarray:
    """response.modelled split over Ray tasks (one per CPU unless given) at its own block
    boundaries, so every block, and every bit, is what one process computes. The calibration's
    plume over every receptor and source (10^5 x 5 x 10^3 at national scale) is the largest
    array work of a carbon run, and one process used one core of the cluster."""
    block = response.BLOCK_CELLS if block_cells is None else block_cells
    step = response.block_rows(len(q), block)
    tasks = tasks or max(1, int(ray.cluster_resources().get("CPU", 1)))
    blocks = math.ceil(len(r_lat) / step)
    per = math.ceil(blocks / tasks) * step  # receptors per task: whole blocks
    if len(r_lat) <= per:
        return response.modelled(r_lat, r_lon, s_lat, s_lon, q, r, block)
    task = ray.remote(response.modelled)
    futures = [task.remote(r_lat[i:i + per], r_lon[i:i + per], s_lat, s_lon, q, r, block) for i in range(0, len(r_lat), per)]
    return np.concatenate(ray.get(futures))


def register_response(mlflow, r: response.Response) -> str:
    """Register the response as a new version only when its parameters changed (tag params_hash)."""
    from smartmon.registry import log_pyfunc
    from smartmon.scenario.pyfunc import ResponseModel

    client = mlflow.MlflowClient()
    digest = hashlib.sha256(json.dumps(r.params(), sort_keys=True).encode()).hexdigest()[:16]
    try:
        for v in client.search_model_versions(f"name='{MODEL}'"):
            if v.tags.get("params_hash") == digest:
                return str(v.version)
    except Exception:  # noqa: BLE001 - no such model yet
        log.debug("no versions of %s yet", MODEL)
    example = pd.DataFrame({"r_lat": [39.9], "r_lon": [116.4], "s_lat": [39.8], "s_lon": [116.3], "pm_eq_kg_h": [10.0]})
    mlflow.log_params({f"response_{k}": v for k, v in r.params().items()})
    info = log_pyfunc(mlflow, name="carbon_response", python_model=ResponseModel(r), registered_model_name=MODEL,
                      input_example=example)
    client.set_model_version_tag(MODEL, str(info.registered_model_version), "params_hash", digest)
    return str(info.registered_model_version)


def _regions(entities: pd.DataFrame) -> dict[str, np.ndarray]:
    return {p: np.flatnonzero(entities["province_code"].to_numpy() == p) for p in sorted(entities["province_code"].unique())}


def activities(ent: pd.DataFrame) -> carbon.Activities:
    """The region's entities as plain arrays: what a Ray task receives (numpy pickles without
    copying through the object store; a DataFrame costs a pandas rebuild in every task)."""
    return carbon.Activities(ent["entity"].to_numpy(), ent["province_code"].str[:2].to_numpy(), ent["kwh"].to_numpy(float),
                             ent["coal_t"].to_numpy(float), ent["gas_1e4m3"].to_numpy(float), ent["pm_eq_kg_h"].to_numpy(float),
                             ent["lat"].to_numpy(float), ent["lon"].to_numpy(float))


def _task(a: carbon.Activities, mult: np.ndarray, rec_latlon: np.ndarray, r: response.Response, draws: dict,
          calib: np.ndarray) -> dict:
    """One region: its transfer matrix once, then every draw and the nominal case."""
    located = ~np.isnan(a.lat)
    t = np.zeros((len(rec_latlon), len(a.lat)))
    if located.any() and len(rec_latlon):
        t[:, located] = response.transfer(rec_latlon[:, 0], rec_latlon[:, 1], a.lat[located], a.lon[located], r)
    nominal = {k: np.ones(1) for k in draws}  # every factor at its central value
    return {"draws": carbon.region_draws(a, mult, t, draws, calib), "nominal": carbon.region_draws(a, mult, t, nominal, np.ones(1))}


def simulate(inp: CarbonInputs, spec: Spec, r: response.Response, ray) -> tuple[dict, dict]:
    """(per-draw results, nominal results): co2 per region and delta PM2.5 per receptor."""
    ent = inp.entities
    mult = np.array(multipliers(spec, ent["sector"].tolist(), ent["province_code"].tolist(), ent["city_code"].tolist(),
                                ent["county_code"].tolist()))
    rng = np.random.default_rng(spec.seed)
    draws = factors.draws(rng, spec.draws)
    calib = np.exp(rng.normal(0, CALIBRATION_SIGMA, spec.draws) - CALIBRATION_SIGMA ** 2 / 2)
    task = ray.remote(_task)
    rec_ref = ray.put(inp.receptors[["lat", "lon"]].to_numpy(float))
    regions = _regions(ent)
    # one task per region computes its transfer matrix once, for the draws and the nominal case
    futures = {p: task.remote(activities(ent.iloc[idx]), mult[idx], rec_ref, r, draws, calib) for p, idx in regions.items()}
    done = dict(zip(futures, ray.get(list(futures.values())), strict=True))
    out = {p: d["draws"] for p, d in done.items()}
    nom = {p: d["nominal"] for p, d in done.items()}
    log.info("carbon: %d regions x %d draws on Ray", len(regions), spec.draws)
    return out, nom


def distribution(output: str, kind: str, ids, values: np.ndarray, nominal: np.ndarray, unit: str) -> pd.DataFrame:
    """Distribution rows of many entities at once: values is entities x draws. A national run has
    about 10^5 station and cell rows, too many to summarise one call at a time.
    Each row is reduced over its own contiguous draws, as the one-entity summary reduces its
    array, so the figures are the same to the last bit (tests/unit/test_scenarios.py)."""
    v = np.ascontiguousarray(values, dtype=float)
    if not len(v):
        return pd.DataFrame(columns=["output", "entity_kind", "entity_id", "nominal", "mean", "p05", "p50", "p95", "unit"])
    p05, p50, p95 = np.percentile(v, [5, 50, 95], axis=1)
    return pd.DataFrame({"output": output, "entity_kind": kind, "entity_id": list(ids), "nominal": np.asarray(nominal, dtype=float),
                         "mean": v.mean(axis=1), "p05": p05, "p50": p50, "p95": p95, "unit": unit})


def result_rows(inp: CarbonInputs, out: dict, nom: dict) -> pd.DataFrame:
    """Distribution rows: CO2 baseline, scenario and change per region and in total; delta PM2.5
    per station and per H3 res-7 and res-9 cell (mean of its stations)."""
    parts = []

    def add(output: str, kind: str, entity: str, values: np.ndarray, nominal: float, unit: str) -> None:
        parts.append(distribution(output, kind, [entity], values[None, :], np.array([nominal]), unit))

    total = {k: sum(o[k] for o in out.values()) for k in ("co2_base_t", "co2_scenario_t", "delta_pm25")}
    total_nom = {k: sum(o[k] for o in nom.values()) for k in ("co2_base_t", "co2_scenario_t", "delta_pm25")}
    for p in out:
        o, n = out[p], nom[p]
        add("co2_base_t", "region", p, o["co2_base_t"], n["co2_base_t"][0], "t CO2")
        add("co2_scenario_t", "region", p, o["co2_scenario_t"], n["co2_scenario_t"][0], "t CO2")
        add("delta_co2_t", "region", p, o["co2_scenario_t"] - o["co2_base_t"], n["co2_scenario_t"][0] - n["co2_base_t"][0], "t CO2")
    add("co2_base_t", "total", "all", total["co2_base_t"], total_nom["co2_base_t"][0], "t CO2")
    add("co2_scenario_t", "total", "all", total["co2_scenario_t"], total_nom["co2_scenario_t"][0], "t CO2")
    add("delta_co2_t", "total", "all", total["co2_scenario_t"] - total["co2_base_t"],
        total_nom["co2_scenario_t"][0] - total_nom["co2_base_t"][0], "t CO2")
    dpm, dnom = total["delta_pm25"], total_nom["delta_pm25"][0]
    rec = inp.receptors.reset_index(drop=True)
    changed = np.flatnonzero(np.abs(dnom) > 1e-9)
    parts.append(distribution("delta_pm25", "station", rec["station_id"].to_numpy()[changed], dpm[:, changed].T, dnom[changed], "ug/m3"))
    for res in ("h3_r7", "h3_r9"):
        cells = rec[res].to_numpy()
        keep = np.isin(cells, cells[changed])
        # mean over the stations of each cell, every draw at once (cells x draws)
        per_cell = pd.DataFrame(dpm[:, keep].T).groupby(cells[keep]).mean()
        nominal = pd.Series(dnom[keep]).groupby(cells[keep]).mean()
        parts.append(distribution("delta_pm25", f"hex_r{res[-1]}", [str(int(c)) for c in per_cell.index], per_cell.to_numpy(),
                                  nominal.reindex(per_cell.index).to_numpy(), "ug/m3"))
    return pd.concat([p for p in parts if len(p)] or parts, ignore_index=True)
