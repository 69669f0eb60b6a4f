"""Carbon scenarios per second on Ray with 1 and 2 workers, and how the time grows with draws and
regions. Synthetic but realistic sizes: per region 250 enterprises and 60 county sectors, 2,000
receptor stations; each scenario = one Ray task per region over all its draws (the production
code path: experiments.scenario_carbon._task). The scenarios of a sweep are submitted together
and gathered at the end, so a worker never waits for the slowest region of another scenario."""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

DEFAULT_ARGS = (8,)
GRID = [(100, 4), (400, 4), (100, 16)]  # (draws, regions)


def _inputs(regions: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    provs = ["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41"][:regions]
    parts = []
    for p in provs:
        n = 310
        parts.append(pd.DataFrame({"entity": [f"E{p}{i}" for i in range(n)], "sector": rng.choice(["power", "steel", "cement"], n),
                                   "province_code": p + "0000", "city_code": p + "0100", "county_code": p + "0101",
                                   "lat": 30 + rng.uniform(0, 10, n), "lon": 110 + rng.uniform(0, 10, n), "kwh": rng.uniform(0, 1e6, n),
                                   "coal_t": rng.uniform(0, 500, n), "gas_1e4m3": rng.uniform(0, 50, n), "pm_eq_kg_h": rng.uniform(0, 20, n)}))
    rec = pd.DataFrame({"station_id": [f"S{i}" for i in range(2000)], "lat": 30 + rng.uniform(0, 10, 2000),
                        "lon": 110 + rng.uniform(0, 10, 2000)})
    return pd.concat(parts, ignore_index=True), rec


def measure(workers: int, scenarios: int) -> dict[tuple[int, int], float]:
    """Scenarios per second for every (draws, regions) of GRID with this many Ray workers."""
    import ray

    from experiments.scenario_carbon import _task, activities
    from smartmon.scenario import factors, response

    ray.init(num_cpus=workers, include_dashboard=False, _node_ip_address="127.0.0.1", logging_level="WARNING")
    task = ray.remote(_task)
    out = {}
    try:
        for draws, regions in GRID:
            ent, rec = _inputs(regions)
            rec_ref = ray.put(rec[["lat", "lon"]].to_numpy(float))
            r = response.Response()
            groups = [np.flatnonzero(ent["province_code"].to_numpy() == p) for p in sorted(ent["province_code"].unique())]
            refs = [ray.put(activities(ent.iloc[g])) for g in groups]
            warm = factors.draws(np.random.default_rng(0), 2)
            ray.get([task.remote(refs[i % len(refs)], np.ones(len(groups[i % len(refs)])), rec_ref, r, warm, np.ones(2))
                     for i in range(2 * workers)])  # warm every worker (imports, object store) before timing
            t0 = time.perf_counter()
            pending = []
            for s in range(scenarios):
                rng = np.random.default_rng(s)
                d, calib = factors.draws(rng, draws), np.exp(rng.normal(0, 0.2, draws))
                pending += [task.remote(refs[i], np.full(len(g), 0.9), rec_ref, r, d, calib) for i, g in enumerate(groups)]
            ray.get(pending)
            out[(draws, regions)] = scenarios / (time.perf_counter() - t0)
    finally:
        ray.shutdown()
    return out


def main(scenarios: int) -> None:
    import json
    import subprocess
    import sys

    from bench.common import record

    res = {}
    for w in (1, 2):
        r = subprocess.run([sys.executable, "-m", "bench.scenario_scaling", "--workers", str(w), "--scenarios", str(scenarios)],
                           capture_output=True, text=True, check=True)
        res[w] = {tuple(k): v for k, v in json.loads(r.stdout.strip().splitlines()[-1])}
    rows = []
    for key in GRID:
        one, two = res[1][key], res[2][key]
        rows.append({"case": f"{key[0]} draws x {key[1]} regions", "smartmon": f"{two:.2f} scenarios/s (2 workers)",
                     "reference": f"{one:.2f} scenarios/s (1 worker)", "ratio": f"{one / two:.2f}",
                     "notes": f"speed-up {two / one:.2f}x (target >= 1.7); {scenarios} scenarios, 2,000 receptors, 310 entities/region"})
    record("Carbon scenarios on Ray, 1 vs 2 workers", rows)
    for r in rows:
        print(r)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", type=int, default=DEFAULT_ARGS[0])
    parser.add_argument("--workers", type=int, help="(internal) measure with this many workers and print JSON")
    args = parser.parse_args()
    if args.workers:
        import json

        print(json.dumps([[list(k), v] for k, v in measure(args.workers, args.scenarios).items()]))
    else:
        main(args.scenarios)
