"""The three example scenario specs end to end on the simulated Beijing network (1-2 April 2018):
Ray, MLflow registration, gold.scenario_results, and the checks that cannot pass by accident."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from pyspark.sql import functions as F

from experiments import scenarios
from smartmon.errors import InputError
from smartmon.scenario import factors

EXAMPLES = Path(__file__).resolve().parents[2] / "infra" / "scenarios"
PERIOD = (date(2018, 4, 1), date(2018, 4, 2))


@pytest.fixture(scope="module")
def ran(lake, simulated):
    return {p.stem: scenarios.run(lake, p, draws=20, period=PERIOD, days=[date(2018, 4, 2)]) for p in sorted(EXAMPLES.glob("*.yaml"))}


def _rows(lake, summary):
    return lake.read("gold.scenario_results").where(F.col("scenario_id") == summary["scenario_id"]).toPandas()


def test_carbon_totals_equal_activities_times_factors(lake, ran):
    s = ran["carbon_coal_power_cut"]
    rows = _rows(lake, s)
    assert "smartmon.carbon.response" in json.loads(rows["model_versions"].iloc[0])
    base = rows.query("output == 'co2_base_t' and entity_kind == 'total'")["nominal"].iloc[0]
    power = lake.read("silver.power_use").where(F.col("date").between(*PERIOD)).toPandas()
    by_hand = sum(k * factors.grid_factor(c[:2]) / 1000 for k, c in zip(power["kwh"], power["county_code"], strict=True))
    energy = lake.read("silver.energy_use").toPandas()  # one month, both days of the period covered
    by_hand += sum(a * factors.FUEL_T_CO2[f] * min(1.0, 2 / d) for a, f, d in zip(energy["amount"], energy["fuel"],
                                                                                    energy["days_covered"], strict=True))
    assert base == pytest.approx(by_hand, rel=1e-9)
    regions = rows.query("output == 'co2_base_t' and entity_kind == 'region'")["nominal"].sum()
    assert regions == pytest.approx(base, rel=1e-12)
    delta = rows.query("output == 'delta_co2_t' and entity_kind == 'total'").iloc[0]
    assert delta["nominal"] < 0 and delta["p05"] <= delta["mean"] <= delta["p95"]
    pm = rows.query("output == 'delta_pm25'")
    assert len(pm) and (pm["nominal"] <= 1e-12).all() and (pm["p95"] <= 1e-12).all()  # cuts never raise a concentration


def test_water_sections_get_classes_and_probabilities(lake, ran):
    rows = _rows(lake, ran["water_discharge_cut"])
    sections = lake.read("silver.river_sections").count()
    p = rows.query("output == 'p_meets_target'")
    assert len(p) == sections and p["mean"].between(0, 1).all()
    cls = rows.query("output == 'section_class'")
    assert cls["nominal"].between(1, 6).all()


def test_control_rows_and_rerun_writes_nothing(lake, ran):
    rows = _rows(lake, ran["control_temporary_cut"])
    hot = rows.query("output == 'hotspot_rank'")
    delta = rows.query("output == 'delta_pm25_control_days'")
    assert len(delta) == len(hot) and (delta["nominal"] <= 0).all()
    again = scenarios.run(lake, EXAMPLES / "carbon_coal_power_cut.yaml", draws=20, period=PERIOD, days=[date(2018, 4, 2)])
    assert again["scenario_id"] == ran["carbon_coal_power_cut"]["scenario_id"] and again["rows_out"] == 0
    assert again["skipped"] == 1  # same spec, same input versions: not run again


def test_unknown_region_is_refused(lake, simulated, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: carbon\nperiod: {from: 2018-04-01, to: 2018-04-02}\nchanges: [{sector: power, region: '990000', change: -0.2}]\n")
    with pytest.raises(InputError, match="unknown region"):
        scenarios.run(lake, bad)


def test_the_nightly_runs_standing_specs_over_the_days_ending_on_the_run_date(lake, simulated, tmp_path, monkeypatch):
    from experiments.standing_scenarios import run_standing

    folder = tmp_path / "standing"
    folder.mkdir()
    (folder / "water.yaml").write_text((EXAMPLES / "water_discharge_cut.yaml").read_text())
    monkeypatch.setenv("SMARTMON_SCENARIO_DRAWS", "5")
    # before the simulated network existed there is no section flow: skipped, nothing written
    before = lake.version("gold.scenario_results")
    assert run_standing(lake, date(2017, 6, 1), folder) == {"rows_in": 0, "scenarios": 0, "skipped": 1, "unchanged": 0}
    assert lake.version("gold.scenario_results") == before
    done = run_standing(lake, date(2018, 4, 2), folder)
    assert done["scenarios"] == 1 and done["rows_in"] > 0
    rows = lake.read("gold.scenario_results").where(F.col("name") == "water-discharge-cut").where(F.col("draws") == 5).toPandas()
    spec = json.loads(rows["spec"].iloc[0])
    assert spec["period"] == {"from": "2018-03-31", "to": "2018-04-02"} and len(rows) == done["rows_in"]
    # the same night again: same spec, same input versions, so it is not run again
    again = run_standing(lake, date(2018, 4, 2), folder)
    assert again == {"rows_in": 0, "scenarios": 0, "skipped": 0, "unchanged": 1}


def test_standing_carbon_and_control_of_a_period_share_one_basis(lake, simulated, tmp_path, monkeypatch):
    """The control spec reuses the carbon spec's activities and fitted response when they cover
    the same period and table versions (at national scale their reading and fit cost most of a
    minute a spec): read once, and the control rows equal those of a basis built afresh."""
    from experiments import scenario_carbon, scenario_control, scenario_inputs
    from experiments.standing_scenarios import rolled, run_standing
    from smartmon.scenario import spec as specs

    folder = tmp_path / "shared"
    folder.mkdir()
    for name in ("carbon_coal_power_cut", "control_temporary_cut"):
        (folder / f"{name}.yaml").write_text((EXAMPLES / f"{name}.yaml").read_text())
    monkeypatch.setenv("SMARTMON_SCENARIO_DRAWS", "6")
    calls = []
    real = scenario_inputs.carbon_inputs
    monkeypatch.setattr(scenario_inputs, "carbon_inputs", lambda lk, sp: calls.append(sp.period) or real(lk, sp))
    done = run_standing(lake, date(2018, 4, 2), folder)
    assert done["scenarios"] == 2 and calls == [(date(2018, 3, 31), date(2018, 4, 2))]

    st = rolled(folder / "control_temporary_cut.yaml", date(2018, 4, 2), 6)
    spec = specs.load(st.path, st.draws, st.period, list(st.days))
    cin = real(lake, spec)
    fresh = scenario_control.result_rows(scenario_inputs.control_inputs(lake, spec), cin, scenario_carbon.fit_response(cin), spec)
    stored = lake.read("gold.scenario_results").where(F.col("scenario_id") == spec.hash).toPandas()
    cols = ["output", "entity_kind", "entity_id", "nominal", "mean", "p05", "p50", "p95"]
    assert len(fresh) > 0
    pd.testing.assert_frame_equal(stored[cols].sort_values(cols[:3]).reset_index(drop=True),
                                  fresh[cols].sort_values(cols[:3]).reset_index(drop=True))


@pytest.mark.parametrize("tasks, block", [(2, 35), (3, 10**7), (4, 13), (2, 5)])
def test_the_calibration_on_ray_equals_one_process_bit_for_bit(tasks, block):
    """The calibration's modelled means are split over Ray tasks at the blocks one process uses:
    the same values to the last bit, whatever the number of tasks or the block size."""
    import numpy as np

    from experiments.scenario_carbon import modelled_on_ray
    from smartmon.ray_session import get_ray
    from smartmon.scenario import response

    rng = np.random.default_rng(tasks * block)
    r_lat, r_lon = 39 + rng.random(101), 116 + rng.random(101)
    s_lat, s_lon, q = 39 + rng.random(5), 116 + rng.random(5), rng.random(5) * 10
    r = response.Response(b=0.7, wind_rose=tuple(rng.dirichlet(np.ones(response.SECTORS))))
    one = response.modelled(r_lat, r_lon, s_lat, s_lon, q, r, block)
    assert np.array_equal(modelled_on_ray(get_ray(), r_lat, r_lon, s_lat, s_lon, q, r, tasks, block), one)
