"""Water scenario on Ray: the mass balance of every river (a Ray task per river) for the nominal
case and every draw of flow and discharge, the classes and the chance each section meets its target."""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.scenario_inputs import WaterInputs
from smartmon.scenario.spec import Spec, multipliers
from smartmon.scenario.water import CLASS_OF, PARAMETERS, balance, section_class

FLOW_SIGMA, DISCHARGE_SIGMA = 0.15, 0.10  # lognormal sigmas of the draws (assumed)


def _river(sections: pd.DataFrame, flow: pd.DataFrame, discharge: pd.DataFrame, draws: int, seed: int) -> dict:
    """Period-mean concentrations per section: nominal and per draw (draws x sections x parameters)."""
    rng = np.random.default_rng(seed)
    ids = sections.sort_values("seq")["section_id"].tolist()

    def period_mean(df: pd.DataFrame) -> np.ndarray:
        m = df.groupby("section_id")[[f"conc_{p}" for p in PARAMETERS]].mean()
        return m.reindex(ids).to_numpy()

    nominal_df = balance(sections, flow, discharge)
    out = np.empty((draws, len(ids), len(PARAMETERS)))
    for d in range(draws):
        f = flow.assign(flow_m3s=flow["flow_m3s"] * np.exp(rng.normal(0, FLOW_SIGMA) - FLOW_SIGMA ** 2 / 2))
        k = np.exp(rng.normal(0, DISCHARGE_SIGMA, len(discharge)) - DISCHARGE_SIGMA ** 2 / 2)
        dis = discharge.assign(**{p: discharge[p] * k for p in PARAMETERS})
        out[d] = period_mean(balance(sections, f, dis))
    return {"ids": ids, "nominal": period_mean(nominal_df), "draws": out, "balance": nominal_df}


def simulate(inp: WaterInputs, spec: Spec, ray) -> dict[str, dict]:
    d = inp.discharge
    mult = np.array(multipliers(spec, d["sector"].tolist(), d["province_code"].tolist(), d["city_code"].tolist(),
                                d["county_code"].tolist())) if len(d) else np.array([])
    scaled = d.assign(**{p: d[p] * mult for p in PARAMETERS}) if len(d) else d
    task = ray.remote(_river)
    futures = {}
    for i, (river, secs) in enumerate(inp.sections.groupby("river")):
        ids = set(secs["section_id"])
        futures[river] = task.remote(secs, inp.flow[inp.flow["section_id"].isin(ids)], scaled[scaled["section_id"].isin(ids)]
                                     if len(scaled) else pd.DataFrame(columns=["section_id", "date", *PARAMETERS, "wastewater_m3"]),
                                     spec.draws, spec.seed + i)
    return {river: ray.get(f) for river, f in futures.items()}


def result_rows(inp: WaterInputs, out: dict[str, dict]) -> pd.DataFrame:
    target = inp.sections.set_index("section_id")["target_class"].map(CLASS_OF).fillna(3)
    rows = []
    for res in out.values():
        for j, sid in enumerate(res["ids"]):
            for k, p in enumerate(PARAMETERS):
                v = res["draws"][:, j, k]
                rows.append({"output": f"conc_{p}", "entity_kind": "section", "entity_id": sid, "nominal": res["nominal"][j, k],
                             "mean": v.mean(), "p05": np.percentile(v, 5), "p50": np.percentile(v, 50), "p95": np.percentile(v, 95),
                             "unit": "mg/L"})
            classes = np.array([section_class(dict(zip(PARAMETERS, res["draws"][d, j], strict=True))) or 0
                                for d in range(res["draws"].shape[0])], dtype=float)
            nominal_class = section_class(dict(zip(PARAMETERS, res["nominal"][j], strict=True)))
            rows.append({"output": "section_class", "entity_kind": "section", "entity_id": sid, "nominal": nominal_class,
                         "mean": classes.mean(), "p05": np.percentile(classes, 5), "p50": np.percentile(classes, 50),
                         "p95": np.percentile(classes, 95), "unit": "class 1-6 (GB 3838)"})
            meets = (classes <= target.get(sid, 3)).astype(float)
            rows.append({"output": "p_meets_target", "entity_kind": "section", "entity_id": sid,
                         "nominal": float((nominal_class or 9) <= target.get(sid, 3)), "mean": meets.mean(), "p05": np.nan,
                         "p50": np.nan, "p95": np.nan, "unit": "probability"})
    return pd.DataFrame(rows)
