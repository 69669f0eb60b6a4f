"""`smartmon scenario run --spec FILE [--draws N]`: validate the spec against the lake, run it on
Ray, track it in MLflow and write gold.scenario_results."""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path

import pandas as pd
from pyspark.sql import functions as F

from experiments import (
    scenario_carbon,
    scenario_control,
    scenario_inputs,
    scenario_water,
)
from smartmon.catalog.names import (
    GOLD_SCENARIO_RESULTS,
    SILVER_EMISSION_SOURCES,
    SILVER_RIVER_SECTIONS,
    SILVER_STATIONS,
)
from smartmon.io import Lake
from smartmon.lineage import now_utc
from smartmon.scenario import spec as specs

log = logging.getLogger(__name__)
EXPERIMENT = "smartmon-scenarios"


def known(lake: Lake, kind: str) -> tuple[set[str], set[str], set[str]]:
    """(regions, sectors, sources) the lake knows for a kind of scenario."""
    regions: set[str] = set()
    for table in (SILVER_EMISSION_SOURCES, SILVER_STATIONS, SILVER_RIVER_SECTIONS):
        for r in lake.read(table).select("province_code", "city_code", "county_code").distinct().collect():
            regions |= {c for c in r if c}
    src = lake.read(SILVER_EMISSION_SOURCES).select("source_id", "sector", "receiving_section").toPandas()
    if kind == "water":
        sectors = set(src.loc[src["receiving_section"].fillna("") != "", "sector"]) | {"wastewater", "paper"}
    else:
        sectors = set(src["sector"]) | SECTOR_VOCABULARY | set(scenario_inputs.COUNTY_SECTORS.values())
    return regions, sectors, set(src["source_id"])


# the registry's sector vocabulary (TABLES.md, silver.emission_sources.sector) and the county
# electricity sectors: a spec may name a sector the lake has no source of yet (it changes nothing)
SECTOR_VOCABULARY = {"power", "steel", "cement", "coking", "chemical", "wastewater", "paper"}


class Laps:
    """Seconds of a run's phases, each from the end of the one before: a national scenario runs
    for minutes, and its log should say where they went."""

    def __init__(self) -> None:
        self.t = time.perf_counter()
        self.laps: dict[str, float] = {}

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self.t
        self.t = now

    def __str__(self) -> str:
        return ", ".join(f"{k} {v:.1f} s" for k, v in self.laps.items())


def run(lake: Lake, path: Path, draws: int | None = None, period=None, days=None, shared: dict | None = None) -> dict:
    """shared: a dict the caller keeps across runs (the nightly's standing specs): the carbon and
    control kinds read the same activities and fit the same response for the same period and
    table versions, which at national scale is a large part of a run; the second run takes them
    from it."""
    from smartmon.mlflow_session import get_mlflow
    from smartmon.ray_session import get_ray

    t0 = time.time()
    spec = specs.load(path, draws, period, days)
    regions, sectors, sources = known(lake, spec.kind)
    specs.validate(spec, regions, sectors, sources if spec.kind == "control" else None)
    inputs = scenario_inputs.input_versions(lake, spec.kind)
    if unchanged(lake, spec, inputs):
        log.info("scenario %s (%s): same spec, same input versions as its results: skipped", spec.name, spec.hash)
        return {"scenario_id": spec.hash, "name": spec.name, "kind": spec.kind, "draws": spec.draws, "rows": 0, "rows_out": 0,
                "skipped": 1, "seconds": round(time.time() - t0, 1), "model_versions": inputs}
    mlflow, ray = get_mlflow(experiment=EXPERIMENT), get_ray()
    with mlflow.start_run(run_name=f"{spec.kind}:{spec.name}") as run:
        mlflow.set_tags({"scenario_id": spec.hash, "kind": spec.kind})
        mlflow.log_params({"scenario_id": spec.hash, "name": spec.name, "kind": spec.kind, "draws": spec.draws, "seed": spec.seed,
                           "period": f"{spec.period[0]}..{spec.period[1]}"})
        mlflow.log_dict(spec.raw, "spec.json")
        versions: dict = {}
        lap = Laps()
        if spec.kind in ("carbon", "control"):
            key = ("carbon-basis", spec.period, tuple(sorted(inputs.items())))
            if shared is not None and key in shared:
                cin, resp = shared[key]
                log.info("scenario %s: the activities and response of %s..%s taken from an earlier run", spec.name, *spec.period)
            else:
                cin = scenario_inputs.carbon_inputs(lake, spec)
                lap("inputs")
                resp = scenario_carbon.fit_response(cin, ray)
                if shared is not None:
                    shared[key] = (cin, resp)
            versions = {**cin.versions, scenario_carbon.MODEL: scenario_carbon.register_response(mlflow, resp)}
            mlflow.log_metrics({"response_b": resp.b, "response_background": resp.background,
                                "response_r2": resp.r2 if resp.r2 == resp.r2 else 0.0})
            lap("response")
            if spec.kind == "carbon":
                out, nom = scenario_carbon.simulate(cin, spec, resp, ray)
                lap("simulate")
                rows = scenario_carbon.result_rows(cin, out, nom)
            else:
                rows = scenario_control.result_rows(scenario_inputs.control_inputs(lake, spec), cin, resp, spec)
        else:
            win = scenario_inputs.water_inputs(lake, spec)
            versions = win.versions
            lap("inputs")
            rows = scenario_water.result_rows(win, scenario_water.simulate(win, spec, ray))
        lap("results")
        summary = summarise(spec, rows)
        mlflow.log_metrics({k: v for k, v in summary.items() if isinstance(v, float)})
        with tempfile.TemporaryDirectory() as tmp:
            csv = Path(tmp) / "results.csv"
            rows.to_csv(csv, index=False)
            mlflow.log_artifact(str(csv))
        run_id = run.info.run_id
        lap("mlflow")
    written = write(lake, spec, rows, versions, run_id)
    lap("write")
    summary.update(scenario_id=spec.hash, name=spec.name, kind=spec.kind, draws=spec.draws, rows=len(rows), rows_out=written,
                   mlflow_run_id=run_id, seconds=round(time.time() - t0, 1), model_versions=versions)
    log.info("scenario %s: %s", spec.name, lap)
    log.info("scenario %s (%s): %d result rows, %d written", spec.name, spec.hash, len(rows), written)
    return summary


def unchanged(lake: Lake, spec: specs.Spec, inputs: dict[str, int]) -> bool:
    """Whether gold.scenario_results already holds this spec's results computed from these very
    table versions (the spec's hash covers its changes, period, draws and seed)."""
    if not lake.exists(GOLD_SCENARIO_RESULTS):
        return False
    row = lake.read(GOLD_SCENARIO_RESULTS).where(F.col("scenario_id") == spec.hash).select("model_versions").limit(1).collect()
    if not row or not row[0].model_versions:
        return False
    used = json.loads(row[0].model_versions)
    return all(str(used.get(t)) == str(v) for t, v in inputs.items()) and set(inputs) <= set(used)


def summarise(spec: specs.Spec, rows: pd.DataFrame) -> dict:
    def pick(output: str, kind: str) -> pd.DataFrame:
        return rows[(rows["output"] == output) & (rows["entity_kind"] == kind)] if len(rows) else rows

    s: dict = {}
    if spec.kind == "carbon":
        tot = pick("delta_co2_t", "total")
        if len(tot):
            s.update(delta_co2_t=float(tot["mean"].iloc[0]), delta_co2_t_p05=float(tot["p05"].iloc[0]),
                     delta_co2_t_p95=float(tot["p95"].iloc[0]), co2_base_t=float(pick("co2_base_t", "total")["nominal"].iloc[0]))
        pm = pick("delta_pm25", "station")
        s["min_delta_pm25"] = float(pm["nominal"].min()) if len(pm) else 0.0
        s["stations_changed"] = float(len(pm))
    elif spec.kind == "water":
        p = pick("p_meets_target", "section")
        s["sections"] = float(len(p))
        s["mean_p_meets_target"] = float(p["mean"].mean()) if len(p) else 0.0
    else:
        s["hotspots_r7"] = float(len(pick("hotspot_rank", "hex_r7")))
        d = pick("delta_pm25_control_days", "hex_r7")
        s["min_delta_pm25_control_days"] = float(d["nominal"].min()) if len(d) else 0.0
    return s


def write(lake: Lake, spec: specs.Spec, rows: pd.DataFrame, versions: dict, run_id: str) -> int:
    table = GOLD_SCENARIO_RESULTS
    if rows.empty:
        return 0
    df = rows.assign(scenario_id=spec.hash, name=spec.name, kind=spec.kind, draws=spec.draws, spec=spec.canonical,
                     model_versions=json.dumps(versions, sort_keys=True, default=str), mlflow_run_id=run_id, run_at=now_utc())
    # rerunning the same spec re-derives the same numbers: only the run's bookkeeping differs; the
    # input versions are kept current, so the next night with the same inputs skips (unchanged)
    result = lake.merge(lake.from_pandas(df, table), table, ignore_in_compare={"mlflow_run_id", "run_at"})
    return result.rows_written


def latest(lake: Lake, scenario_id: str) -> pd.DataFrame:
    return lake.read(GOLD_SCENARIO_RESULTS).where(F.col("scenario_id") == scenario_id).toPandas()
