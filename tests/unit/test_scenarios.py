"""Scenario maths without Spark or Ray: specs, CO2 accounting, the linear response, the water
mass balance and hotspots. These are the checks that cannot pass by accident."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartmon.errors import InputError
from smartmon.scenario import carbon, control, factors, response, spec, water

EXAMPLES = Path(__file__).resolve().parents[2] / "infra" / "scenarios"


def test_example_specs_parse():
    kinds = {spec.load(p).kind for p in EXAMPLES.glob("*.yaml")}
    assert kinds == {"carbon", "water", "control"}


@pytest.mark.parametrize("raw, message", [
    ({"kind": "wind"}, "kind must be one of"),
    ({"kind": "carbon", "period": {"from": "2019-01-03", "to": "2019-01-01"}, "changes": [{"change": -0.1}]}, "ends"),
    ({"kind": "carbon", "period": {"from": "2019-01-01", "to": "2019-01-03"}}, "at least one change"),
    ({"kind": "carbon", "period": {"from": "2019-01-01", "to": "2019-01-03"}, "changes": [{"sector": "power"}]}, "numeric change"),
    ({"kind": "carbon", "period": {"from": "2019-01-01", "to": "x"}, "changes": [{"change": -0.1}]}, "not a date"),
    ({"kind": "control", "period": {"from": "2019-01-01", "to": "2019-01-03"}, "sources": ["E1"], "days": ["2019-02-01"]}, "within the period"),
])
def test_bad_specs_are_refused_naming_the_field(raw, message):
    with pytest.raises(InputError, match=message):
        spec.parse(raw, "test.yaml")


def test_unknown_region_or_sector_is_refused_with_what_is_known():
    s = spec.parse({"kind": "carbon", "period": {"from": "2019-01-01", "to": "2019-01-01"},
                    "changes": [{"sector": "power", "region": "990000", "change": -0.2}]})
    with pytest.raises(InputError, match="unknown region.*990000.*known provinces: 110000"):
        spec.validate(s, {"110000", "110100"}, {"power"})
    s = spec.parse({"kind": "carbon", "period": {"from": "2019-01-01", "to": "2019-01-01"},
                    "changes": [{"sector": "bakery", "region": "110000", "change": -0.2}]})
    with pytest.raises(InputError, match="unknown sector.*bakery.*known: power"):
        spec.validate(s, {"110000"}, {"power"})


def _activities(n: int, rng: np.random.Generator) -> carbon.Activities:
    prov = rng.choice(["11", "13", "44", "51"], n)
    return carbon.Activities(np.array([f"E{i}" for i in range(n)]), prov, rng.uniform(0, 1e6, n), rng.uniform(0, 500, n),
                             rng.uniform(0, 50, n), rng.uniform(0, 20, n), 39 + rng.uniform(0, 2, n), 115 + rng.uniform(0, 2, n))


def test_co2_totals_are_activities_times_factors():
    a = _activities(30, np.random.default_rng(1))
    by_hand = sum(k * factors.grid_factor(p) / 1000 + c * 20.908e-3 * 94.6 + g * 389.31e-3 * 56.1
                  for k, c, g, p in zip(a.kwh, a.coal_t, a.gas_1e4m3, a.province, strict=True))
    assert carbon.co2_t(a, np.ones(30), None)[0] == pytest.approx(by_hand, rel=1e-12)
    # the grid factors are the MEE 2022 regional ones
    assert factors.grid_factor("130000") == 0.6776 and factors.grid_factor("510000") == 0.2268


def _delta_pm(a: carbon.Activities, mult: np.ndarray) -> np.ndarray:
    rec_lat, rec_lon = np.array([39.9, 40.5, 41.0]), np.array([116.4, 115.5, 116.0])
    t = response.transfer(rec_lat, rec_lon, a.lat, a.lon, response.Response())
    ones = {k: np.ones(1) for k in factors.draws(np.random.default_rng(0), 1)}
    return carbon.region_draws(a, mult, t, ones, np.ones(1))["delta_pm25"][0]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=-1, max_value=0), min_size=12, max_size=12), st.integers(0, 1000))
def test_cutting_never_raises_a_concentration(cuts, seed):
    a = _activities(12, np.random.default_rng(seed))
    assert (_delta_pm(a, 1 + np.array(cuts)) <= 1e-12).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=-0.5, max_value=0), min_size=12, max_size=12),
       st.lists(st.floats(min_value=-0.5, max_value=0), min_size=12, max_size=12), st.integers(0, 1000))
def test_two_cuts_add_up(cut_a, cut_b, seed):
    a = _activities(12, np.random.default_rng(seed))
    ca, cb = np.array(cut_a), np.array(cut_b)
    both = _delta_pm(a, 1 + ca + cb)
    assert both == pytest.approx(_delta_pm(a, 1 + ca) + _delta_pm(a, 1 + cb), rel=1e-9, abs=1e-12)
    co2 = carbon.co2_t(a, 1 + ca + cb, None) - carbon.co2_t(a, np.ones(12), None)
    parts = (carbon.co2_t(a, 1 + ca, None) - carbon.co2_t(a, np.ones(12), None)) + (carbon.co2_t(a, 1 + cb, None) - carbon.co2_t(a, np.ones(12), None))
    assert co2 == pytest.approx(parts, rel=1e-9)


def test_spec_changes_add_up_per_entity():
    s = spec.parse({"kind": "carbon", "period": {"from": "2019-01-01", "to": "2019-01-01"},
                    "changes": [{"sector": "power", "region": "130000", "change": -0.2},
                                {"sector": ["power", "steel"], "region": "130100", "change": -0.1}]})
    m = spec.multipliers(s, ["power", "power", "steel", "cement"], ["130000"] * 4, ["130100", "130200", "130100", "130100"],
                         ["130102", "130202", "130102", "130102"])
    assert m == pytest.approx([0.7, 0.8, 0.9, 1.0])


def test_response_fit_recovers_a_known_calibration_and_keeps_the_prior_without_signal():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 50, 40)
    fitted = response.fit(12 + 0.6 * x + rng.normal(0, 0.5, 40), x, response.Response())
    assert fitted.calibrated and fitted.b == pytest.approx(0.6, abs=0.05) and fitted.background == pytest.approx(12, abs=1)
    kept = response.fit(30 - 0.5 * x, x, response.Response())
    assert not kept.calibrated and kept.b == 1.0


def _river(rng: np.random.Generator, n: int, days: int = 2):
    sections = pd.DataFrame({"section_id": [f"S{k}" for k in range(n)], "river": "R", "seq": range(1, n + 1)})
    dates = pd.date_range("2019-01-01", periods=days).date
    q = np.cumsum(rng.uniform(5, 20, n))
    flow = pd.DataFrame([(f"S{k}", d, q[k] * rng.uniform(0.9, 1.1)) for d in dates for k in range(n)],
                        columns=["section_id", "date", "flow_m3s"])
    dis = pd.DataFrame([(f"S{k}", d, rng.uniform(0, 500), rng.uniform(0, 50), rng.uniform(0, 5), rng.uniform(0, 20000))
                        for d in dates for k in range(n) if rng.random() < 0.6],
                       columns=["section_id", "date", "cod", "nh3n", "tp", "wastewater_m3"])
    return sections, flow, dis


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 8))
def test_mass_balance_holds_along_every_reach(seed, n):
    df = water.balance(*_river(np.random.default_rng(seed), n))
    for (_, _), g in df.groupby(["river", "date"]):
        for p in water.PARAMETERS:
            load = g[f"load_{p}"].to_numpy()
            inflow = g[f"discharge_{p}"].to_numpy() + g[f"tributary_{p}"].to_numpy()
            assert np.allclose(np.diff(load), inflow[1:]) and load[0] == pytest.approx(inflow[0])
            assert np.allclose(g[f"conc_{p}"], load / (g["flow_m3s"] * 86.4))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.floats(min_value=0, max_value=1))
def test_cutting_discharges_never_raises_a_section_concentration(seed, cut):
    sections, flow, dis = _river(np.random.default_rng(seed), 5)
    base = water.balance(sections, flow, dis)
    less = water.balance(sections, flow, dis.assign(cod=dis["cod"] * (1 - cut)))
    assert (less["conc_cod"].to_numpy() <= base["conc_cod"].to_numpy() + 1e-12).all()


def test_a_cell_sums_its_stations_hours_and_takes_their_longest_run():
    # per station: valid hours, exceedances, longest run (control.station_runs, on Spark)
    stations = pd.DataFrame({"station_id": ["A", "B", "C", "D", "E"], "hours": [6, 4, 10, 10, 20],
                             "exceed": [4, 0, 1, 1, 1], "run": [3, 0, 1, 1, 1], "h3_r7": [7, 7, 3, 2, 9]})
    hot = control.hotspots(stations, "h3_r7")
    # cell 7: 4 of 10 hours, longest run 3 (A's); cells 2 and 3 tie (1 of 10, run 1): in cell
    # order; cell 9 (1 of 20) is below HOTSPOT_FREQ
    assert hot["cell"].tolist() == [7, 2, 3] and hot["rank"].tolist() == [1, 2, 3]
    assert hot["hours"].tolist() == [10, 10, 10] and hot["persistence_h"].tolist() == [3, 1, 1]
    assert hot["exceedance_freq"].tolist() == pytest.approx([0.4, 0.1, 0.1])
    assert hot["score"].iloc[0] == pytest.approx(0.4 * (1 + np.log1p(3)))


def test_a_standing_spec_rolls_to_end_on_the_run_date_keeping_length_and_day_offsets():
    from datetime import date

    from experiments.standing_scenarios import DEFAULT_FOLDER, rolled

    st = rolled(DEFAULT_FOLDER / "control_temporary_cut.yaml", date(2019, 3, 1), draws=5)
    assert st.period == (date(2019, 2, 27), date(2019, 3, 1)) and st.days == (date(2019, 2, 28),) and st.draws == 5
    same = rolled(DEFAULT_FOLDER / "carbon_coal_power_cut.yaml", date(2019, 1, 31))
    assert same.period == (date(2019, 1, 29), date(2019, 1, 31)) and same.days == ()


@pytest.mark.parametrize("block", [1, 7, 10_000_000])
def test_transfer_in_blocks_equals_one_piece_and_modelled_equals_the_product(monkeypatch, block):
    """The national matrix is computed in blocks of receptors (one piece did not fit in memory at
    100,000 stations): the blocks must give the very same values, and the calibration's
    transfer @ emissions must not need the matrix at all."""
    import numpy as np

    from smartmon.scenario import response

    rng = np.random.default_rng(3)
    r_lat, r_lon = 39 + rng.random(23), 116 + rng.random(23)
    s_lat, s_lon, q = 39 + rng.random(5), 116 + rng.random(5), rng.random(5) * 10
    r = response.Response(b=0.8, wind_rose=tuple(rng.dirichlet(np.ones(response.SECTORS))))
    monkeypatch.setattr(response, "BLOCK_CELLS", 10_000_000)
    whole = response.transfer(r_lat, r_lon, s_lat, s_lon, r)
    monkeypatch.setattr(response, "BLOCK_CELLS", block)
    assert np.array_equal(response.transfer(r_lat, r_lon, s_lat, s_lon, r), whole)
    np.testing.assert_allclose(response.modelled(r_lat, r_lon, s_lat, s_lon, q, r), whole @ q, rtol=1e-12)
    pairs = response.transfer(r_lat[:5], r_lon[:5], s_lat, s_lon, r, pairs=True)
    assert np.array_equal(pairs, np.diag(whole[:5]))


@pytest.mark.parametrize("draws", [1, 7, 8, 129, 200])
def test_distribution_rows_at_once_equal_one_entity_at_a_time(draws):
    """The national scenario summarises 10^5 entities in one call (the draws of each reduced as one
    row) instead of one call each: the figures must be the very same, bit for bit, including for
    an entity's draws taken as a column of the draws x receptors matrix as the simulation gives it."""
    from experiments.scenario_carbon import distribution

    rng = np.random.default_rng(draws)
    dpm = rng.lognormal(0, 2, (draws, 57)) * rng.choice([-1, 1], 57)  # draws x receptors
    nominal = rng.normal(size=57)
    rows = distribution("delta_pm25", "station", [f"s{i}" for i in range(57)], dpm.T, nominal, "ug/m3")
    assert list(rows.columns) == ["output", "entity_kind", "entity_id", "nominal", "mean", "p05", "p50", "p95", "unit"]
    for i, row in enumerate(rows.itertuples()):
        v = dpm[:, i]
        assert (row.entity_id, row.nominal, row.mean) == (f"s{i}", nominal[i], v.mean())
        assert (row.p05, row.p50, row.p95) == tuple(np.percentile(v, q) for q in (5, 50, 95))
    assert distribution("x", "station", [], np.empty((0, draws)), np.empty(0), "u").empty
