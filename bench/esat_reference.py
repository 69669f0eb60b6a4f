"""EPA ESAT on given PMF matrices: the reference run of the PMF benchmark and test.

Runs inside the separate ESAT environment (.venv-esat, `make esat`): ESAT pins numpy, pandas and
scipy versions of its own, so it never shares smartmon's environment. Reads X and U from an
.npz file, runs BatchSA (ls-nmf, best model by Q(robust)) and prints one JSON line.

    .venv-esat/bin/python bench/esat_reference.py INPUT.npz --factors 6 --models 20 --cores 2
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import time

import numpy as np


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("npz")
    p.add_argument("--factors", type=int, required=True)
    p.add_argument("--models", type=int, default=20)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--max-iter", type=int, default=20_000)
    p.add_argument("--converge-delta", type=float, default=0.1)
    p.add_argument("--converge-n", type=int, default=100)
    a = p.parse_args()
    logging.disable(logging.INFO)
    from esat.model.batch_sa import BatchSA

    data = np.load(a.npz)
    t0 = time.perf_counter()
    batch = BatchSA(V=data["X"], U=data["U"], factors=a.factors, models=a.models, method="ls-nmf", seed=a.seed,
                    max_iter=a.max_iter, converge_delta=a.converge_delta, converge_n=a.converge_n, best_robust=True,
                    parallel=a.cores > 1, cores=a.cores, verbose=False)
    with contextlib.redirect_stdout(io.StringIO()):  # ESAT clears the screen and prints progress bars
        batch.train()
    seconds = time.perf_counter() - t0
    models = [m for m in batch.results if m is not None]
    best = min(models, key=lambda m: float(m.Qrobust))
    print("\n" + json.dumps({"tool": "esat", "factors": a.factors, "models": len(models), "q_robust": float(best.Qrobust),
                      "q_true": float(best.Qtrue), "seconds": round(seconds, 2), "cores": a.cores,
                      "converged": sum(bool(m.converged) for m in models),
                      "all_q_robust": sorted(round(float(m.Qrobust), 2) for m in models)}))


if __name__ == "__main__":
    main()
