"""PMF: smartmon (random starts on Ray) beside EPA ESAT (BatchSA, ls-nmf, its Rust core, 2
processes) on the same input matrices, in the same run: best Q(robust) and wall time; and
smartmon's speed-up from 1 to 2 Ray workers. Needs the lake with the epa-pmf feeds (`make demo`)
and the ESAT environment (`make esat`).

Run: python -m bench.pmf_vs_esat [--starts N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import record

ROOT = Path(__file__).resolve().parents[1]
ESAT_PY = ROOT / ".venv-esat" / "bin" / "python"
CASES = [("batonrouge", 6), ("baltimore", 6), ("stlouis", 5)]
DEFAULT_ARGS = (20,)


def esat(X: np.ndarray, U: np.ndarray, factors: int, starts: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        np.savez(f"{tmp}/in.npz", X=X, U=U)
        out = subprocess.run([str(ESAT_PY), str(ROOT / "bench/esat_reference.py"), f"{tmp}/in.npz", "--factors", str(factors),
                              "--models", str(starts), "--cores", "2"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1].split("\x1b[H")[-1])


def main(starts: int) -> None:
    from jobs.gold.source_apportionment import load
    from smartmon.io import Lake
    from smartmon.pmf.batch import run_starts
    from smartmon.pmf.prepare import matrices
    from smartmon.ray_session import get_ray
    from smartmon.spark import get_spark

    spark = get_spark(app_name="bench-pmf")
    inputs = {name: matrices(load(Lake(spark), name)[0]) for name, _ in CASES}
    spark.stop()
    get_ray()
    rows = []
    for name, k in CASES:
        inp = inputs[name]
        timings = {}
        for workers in (1, 2):
            t0 = time.perf_counter()
            best = run_starts(inp.X, inp.U, k, starts, concurrency=workers)[0]
            timings[workers] = time.perf_counter() - t0
        ref = esat(inp.X, inp.U, k, starts)
        shape = f"{inp.X.shape[0]} x {inp.X.shape[1]}"
        rows.append(dict(case=f"{name} ({shape}), {k} factors, {starts} starts: best Q(robust)", smartmon=f"{best.q_robust:,.1f}",
                         reference=f"ESAT {ref['q_robust']:,.1f}", ratio=f"{best.q_robust / ref['q_robust']:.3f}",
                         notes=f"Q(true) {best.q_true:,.1f} vs ESAT {ref['q_true']:,.1f}; ESAT converged {ref['converged']}/{ref['models']}"))
        rows.append(dict(case=f"{name}: wall time, 2 workers", smartmon=f"{timings[2]:.1f} s", reference=f"ESAT (2 cores) {ref['seconds']:.1f} s",
                         ratio=f"{timings[2] / ref['seconds']:.2f}",
                         notes=f"smartmon 1 worker {timings[1]:.1f} s: speed-up 1 -> 2 workers {timings[1] / timings[2]:.2f}x"))
        print(rows[-2], rows[-1], flush=True)
    record("PMF: smartmon on Ray vs EPA ESAT, same matrices", rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=DEFAULT_ARGS[0])
    main(parser.parse_args().starts)
