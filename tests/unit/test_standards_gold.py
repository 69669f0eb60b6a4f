"""GB 3095 limit sets, HJ 663 percentiles and index, GB 3838 classes, daily AQI (no Spark)."""

from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartmon.standards.aqi import HJ633_2012, HJ633_2026, daily_aqi, iaqi
from smartmon.standards.evaluation import comprehensive_index, min_days, percentile
from smartmon.standards.limits import (
    GB3095_2012,
    GB3095_2026_FINAL,
    GB3095_2026_TRANSITION,
    index_standards,
    limit,
    limit_set_for,
)
from smartmon.standards.water import exceedance_multiple, water_class


@pytest.mark.parametrize("day, expected", [
    (date(2019, 1, 31), GB3095_2012), (date(2026, 2, 28), GB3095_2012), (date(2026, 3, 1), GB3095_2026_TRANSITION),
    (date(2030, 12, 31), GB3095_2026_TRANSITION), (date(2031, 1, 1), GB3095_2026_FINAL),
])
def test_limit_set_follows_the_date(day, expected):
    assert limit_set_for(day) == expected


@pytest.mark.parametrize("pollutant, averaging, values", [
    ("pm25", "24h", (75, 60, 50)), ("pm25", "annual", (35, 30, 25)), ("pm10", "24h", (150, 120, 100)),
    ("so2", "1h", (500, 500, 150)), ("no2", "24h", (80, 80, 50)), ("o3", "8h_max", (160, 160, 160)),
])
def test_limits_by_version(pollutant, averaging, values):
    sets = (GB3095_2012, GB3095_2026_TRANSITION, GB3095_2026_FINAL)
    assert tuple(limit(pollutant, averaging, s) for s in sets) == values


def test_index_standards_of_hj663_2013():
    assert index_standards(GB3095_2012) == {"so2": 60, "no2": 40, "pm10": 70, "pm25": 35, "co": 4, "o3": 160}


def test_percentile_uses_k_equals_1_plus_n_minus_1_p():
    xs = [10, 20, 30, 40, 50]
    assert percentile(xs, 90) == pytest.approx(46.0)  # k = 1 + 4 * 0.9 = 4.6 -> 40 + 0.6 * 10
    assert percentile(xs, 0) == 10 and percentile(xs, 100) == 50 and percentile([7], 95) == 7
    assert percentile([], 95) is None


@given(st.lists(st.floats(0, 1000, allow_nan=False), min_size=1, max_size=60), st.floats(0, 100))
def test_percentile_equals_linear_interpolation_and_stays_in_range(xs, p):
    got = percentile(xs, p)
    assert min(xs) - 1e-9 <= got <= max(xs) + 1e-9
    assert got == pytest.approx(float(np.percentile(xs, p, method="linear")), abs=1e-6)


def test_comprehensive_index_and_primary_pollutant():
    stats = {"so2": 30, "no2": 40, "pm10": 105, "pm25": 70, "co": 2, "o3": 80}
    total, primary = comprehensive_index(stats, index_standards(GB3095_2012))
    assert total == pytest.approx(0.5 + 1 + 1.5 + 2 + 0.5 + 0.5) and primary == "pm25"


def test_minimum_days_per_period():
    assert (min_days("2019-01"), min_days("2019-02"), min_days("2019")) == (27, 25, 324)


@pytest.mark.parametrize("parameter, value, cls", [
    ("do", 8.0, 1), ("do", 7.5, 1), ("do", 5.5, 3), ("do", 1.9, 6),
    ("nh3n", 0.15, 1), ("nh3n", 0.16, 2), ("nh3n", 1.0, 3), ("nh3n", 2.01, 6),
    ("codmn", 4.0, 2), ("tp", 0.2, 3), ("tp", 0.41, 6), ("cod", 15, 1), ("ph", 7.5, 1), ("ph", 9.2, 6),
    ("tn", 5.0, None), ("water_temp", 20, None), ("nh3n", None, None),
])
def test_water_class_single_factor_for_rivers(parameter, value, cls):
    assert water_class(parameter, value) == cls


def test_water_lakes_use_their_phosphorus_and_nitrogen_limits():
    assert water_class("tp", 0.05, "lake") == 3 and water_class("tp", 0.05) == 2
    assert water_class("tn", 1.2, "lake") == 4


def test_exceedance_multiple_against_class_iii():
    assert exceedance_multiple("nh3n", 2.5) == pytest.approx(1.5)
    assert exceedance_multiple("nh3n", 0.5) == 0.0
    assert exceedance_multiple("do", 1.0) is None and exceedance_multiple("ph", 10) is None


def test_daily_so2_uses_the_24h_table_not_the_1h_one():
    # aqi-hub's bug: 200 ug/m3 on the 1 h table gives 58; on the 24 h table it is 108.
    assert daily_aqi({"so2": 200}).iaqi["so2"] == iaqi(200, "so2_24h") == 108


def test_daily_o3_8h_above_800_by_rule_set():
    assert daily_aqi({"o3": 900, "o3_8h": 850}, HJ633_2012).iaqi["o3_8h"] == iaqi(900, "o3_1h")
    assert daily_aqi({"o3": 900, "o3_8h": 850}, HJ633_2026).iaqi["o3_8h"] == 300


_conc = st.floats(0, 700, allow_nan=False)


@given(st.fixed_dictionaries({"so2": _conc, "no2": _conc, "co": st.floats(0, 60), "pm10": _conc, "pm25": _conc,
                              "o3": _conc, "o3_8h": _conc}),
       st.sampled_from(["so2", "no2", "co", "pm10", "pm25", "o3", "o3_8h"]), st.floats(0, 200),
       st.sampled_from([HJ633_2012, HJ633_2026]))
def test_daily_aqi_never_decreases_when_a_concentration_rises(conc, key, rise, rs):
    # A day's maximum 1 h O3 is never below its maximum 8 h mean; keep both draws physical.
    conc["o3"] = max(conc["o3"], conc["o3_8h"])
    higher = dict(conc, **{key: conc[key] + rise})
    higher["o3"] = max(higher["o3"], higher["o3_8h"])
    a, b = daily_aqi(conc, rs).aqi, daily_aqi(higher, rs).aqi
    assert a is not None and b is not None and b >= a
