"""Two lakes' tables compared value by value: the check that a change of layout or speed left
the results alone ("results unchanged" of the nightly's benchmarks).

Every silver, gold and features table present in the first lake is read with delta-rs (no
Spark) from both, its rows matched on the table's declared keys (all compared columns for a
table without keys) and every column compared, except those that record when or by which run
or from which landing path a row was made (lineage and run stamps differ between two runs of
the same data by design). Doubles are equal within a relative tolerance: a different file
layout changes the order Spark sums in, which moves the last bits of a float.

    python -m bench.lake_equal LAKE_A LAKE_B [--rtol 1e-12]

Prints one line per table and, last, one JSON object: tables compared, tables equal, the
differing ones. Exit status 1 when any table differs.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import polars as pl
from deltalake import DeltaTable

from smartmon import catalog

log = logging.getLogger(__name__)

# columns that say when, by which run or from which landing path a row was made
RUN_STAMPS = frozenset({
    "source_file", "ingested_at", "batch_id", "run_id", "noted_at", "updated_at", "conformed_at", "changed_at",
    "run_at", "started_at", "ended_at", "mlflow_run_id", "recorded_at", "computed_at", "built_at", "issued_run",
})


def compare_table(a: Path, b: Path, keys: tuple[str, ...], rtol: float) -> list[str]:
    """The problems found comparing one table in two lakes (empty: equal)."""
    x = pl.from_arrow(DeltaTable(str(a)).to_pyarrow_table())
    y = pl.from_arrow(DeltaTable(str(b)).to_pyarrow_table())
    cols = [c for c in x.columns if c not in RUN_STAMPS]
    if missing := sorted(set(cols) - set(y.columns)):
        return [f"columns {missing} missing in the second lake"]
    if x.height != y.height:
        return [f"{x.height} rows vs {y.height}"]
    on = [k for k in keys if k in cols] or [c for c in cols if x.schema[c] not in (pl.Float64, pl.Float32)]
    if x.select(on).is_duplicated().any():  # keys repeat (bookkeeping tables): match on every column
        on = cols
    joined = x.select(cols).join(y.select(cols), on=on, how="full", suffix="_b", nulls_equal=True, coalesce=False)
    problems = []
    left_only = pl.all_horizontal(pl.col(f"{k}_b").is_null() for k in on)
    right_only = pl.all_horizontal(pl.col(k).is_null() for k in on)
    if n := joined.filter(left_only | right_only).height:
        problems.append(f"{n} rows in one lake only")
    joined = joined.filter(~(left_only | right_only))
    for c in cols:
        if c in on:
            continue
        left, right = pl.col(c), pl.col(f"{c}_b")
        if x.schema[c] in (pl.Float64, pl.Float32):
            same = (left.is_null() & right.is_null()) | ((left - right).abs() <= rtol * pl.max_horizontal(left.abs(), right.abs()))
            same = same | (left.is_nan() & right.is_nan())
        else:
            same = left.eq_missing(right)
        n = joined.filter(~same.fill_null(False)).height
        if n:
            problems.append(f"{c}: {n} rows differ")
    return problems


def compare(a: Path, b: Path, rtol: float = 1e-12) -> dict[str, list[str]]:
    """table -> problems, for every silver, gold and features table of lake a."""
    out: dict[str, list[str]] = {}
    for spec in catalog.all_tables():
        if spec.layer not in ("silver", "gold", "features"):
            continue
        pa_, pb = a / spec.layer / spec.name, b / spec.layer / spec.name
        if not (pa_ / "_delta_log").is_dir():
            continue
        out[spec.fqn] = compare_table(pa_, pb, spec.keys, rtol) if (pb / "_delta_log").is_dir() else ["missing in the second lake"]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("lake_a", type=Path)
    ap.add_argument("lake_b", type=Path)
    ap.add_argument("--rtol", type=float, default=1e-12, help="relative tolerance of doubles (default 1e-12)")
    args = ap.parse_args(argv)
    result = compare(args.lake_a, args.lake_b, args.rtol)
    for fqn, problems in result.items():
        print(f"{fqn:32s} {'equal' if not problems else '; '.join(problems)}")
    differ = {k: v for k, v in result.items() if v}
    print(json.dumps({"tables": len(result), "equal": len(result) - len(differ), "differ": differ}))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
