"""PMF on the real EPA St. Louis supersite feed (ingested by the session fixture): starts and
bootstrap on Ray, gold rows, MLflow, an idempotent re-run; and, in `make test-all`, Baton Rouge
with 6 factors and 20 starts against EPA's ESAT on the same matrices."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pyspark.sql import functions as F

ESAT_PY = Path(__file__).resolve().parents[2] / ".venv-esat" / "bin" / "python"


@pytest.fixture(scope="module")
def stlouis(lake, ingested):
    from jobs.gold import source_apportionment

    return source_apportionment.run(lake, "stlouis", 4, starts=4, replicates=6)


def test_pmf_writes_profiles_with_intervals_and_contributions(lake, stlouis):
    assert stlouis["factors"] == 4 and stlouis["starts"] == 4 and 0 < stlouis["q_robust"] <= stlouis["q_true"]
    df = lake.read("gold.source_apportionment").where("dataset = 'stlouis' AND factors = 4")
    counts = {r.kind: r["count"] for r in df.groupBy("kind").count().collect()}
    species = df.where("kind = 'profile'").select("species").distinct().count()
    samples = lake.read("silver.speciation").where("dataset = 'stlouis'").select("sample_time").distinct().count()
    total = lake.read("silver.speciation").where("dataset = 'stlouis'").select("species").distinct().count()
    assert counts == {"profile": 4 * species, "contribution": 4 * samples} and 5 <= species <= total  # bad species not modelled
    shares = df.where("kind = 'profile'").groupBy("species").agg(F.sum("species_share").alias("s")).collect()
    assert all(abs(r.s - 1) < 1e-9 for r in shares)
    means = df.where("kind = 'contribution'").groupBy("factor").agg(F.avg("value").alias("m")).collect()
    assert all(abs(r.m - 1) < 1e-9 for r in means)  # normalised contributions
    prof = df.where("kind = 'profile' AND bs_mapped > 0").collect()
    assert prof and all(r.bs_p05 <= r.bs_p50 <= r.bs_p95 for r in prof)


def test_pmf_run_is_tracked_and_rerunning_changes_nothing(lake, stlouis):
    from jobs.gold import source_apportionment
    from smartmon.mlflow_session import get_mlflow

    run = get_mlflow().MlflowClient().get_run(stlouis["mlflow_run_id"])
    assert run.data.metrics["q_robust"] == pytest.approx(stlouis["q_robust"], rel=1e-6)
    assert run.data.params["data_version.silver.speciation"].isdigit()
    again = source_apportionment.run(lake, "stlouis", 4, starts=4, replicates=6)
    assert again["q_robust"] == stlouis["q_robust"] and again["rows_out"] == 0


def test_unknown_dataset_and_impossible_factor_counts_are_refused_by_name(lake, ingested):
    from jobs.gold import source_apportionment
    from smartmon.pmf.prepare import PMFInputError

    with pytest.raises(PMFInputError, match="no speciation dataset 'nowhere'.*stlouis"):
        source_apportionment.run(lake, "nowhere", 4)
    with pytest.raises(PMFInputError, match="factors must be between 1 and"):
        source_apportionment.run(lake, "stlouis", 0, starts=1, replicates=0)


def test_cli_prints_a_json_last_line(lake, stlouis, capsys):
    from pipelines.cli import main

    assert main(["trace-sources", "pmf", "--dataset", "stlouis", "--factors", "4", "--starts", "4", "--bootstrap", "0"]) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(last) == {"dataset", "factors", "starts", "q_true", "q_robust", "seconds"}
    assert last["q_robust"] == pytest.approx(stlouis["q_robust"], rel=1e-6)


@pytest.mark.heavy
@pytest.mark.skipif(not ESAT_PY.exists(), reason="EPA ESAT environment missing: run `make esat`")
def test_baton_rouge_6_factors_20_starts_within_2_percent_of_esat(lake, ingested, data_root, tmp_path):
    from jobs.bronze.ingest import ingest
    from jobs.gold.source_apportionment import load, solve
    from smartmon.pmf.prepare import matrices
    from tests.conftest import run_silver

    ingest(lake, "epa-pmf", [data_root / "epa_pmf_esat" / f for f in ("Dataset-BatonRouge-con.csv", "Dataset-BatonRouge-unc.csv")])
    run_silver(lake)
    inp = matrices(load(lake, "batonrouge")[0])
    base, _, _ = solve(inp, 6, 20)
    np.savez(tmp_path / "br.npz", X=inp.X, U=inp.U)
    out = subprocess.run([str(ESAT_PY), "bench/esat_reference.py", str(tmp_path / "br.npz"), "--factors", "6", "--models", "20"],
                         capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2])
    esat = json.loads(out.stdout.strip().splitlines()[-1].split("\x1b[H")[-1])
    print(f"smartmon Q(robust) {base.q_robust:.1f} vs ESAT {esat['q_robust']:.1f}", file=sys.stderr)
    assert base.q_robust <= 1.02 * esat["q_robust"]
