"""AQI reference: table values at every breakpoint, monotonicity, above-range rules, rounding."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartmon.standards.aqi import (
    BREAKPOINTS,
    HJ633_2012,
    HJ633_2026,
    IAQI_LEVELS,
    RULE_SETS,
    category,
    combine,
    hourly_aqi,
    iaqi,
    round_concentration,
    rule_set_for,
)

ALL = [(rs, t) for rs in RULE_SETS for t in BREAKPOINTS[rs]]


@pytest.mark.parametrize("rule_set, table", ALL)
def test_every_breakpoint_gives_its_table_value(rule_set, table):
    for bp, level in zip(BREAKPOINTS[rule_set][table], IAQI_LEVELS, strict=False):
        assert iaqi(bp, table, rule_set) == level, (bp, level)


@pytest.mark.parametrize("rule_set, table", ALL)
def test_iaqi_never_decreases_when_concentration_rises(rule_set, table):
    top = BREAKPOINTS[rule_set][table][-1]

    @given(st.floats(0, top * 1.2, allow_nan=False), st.floats(0, top * 0.5, allow_nan=False))
    @settings(max_examples=150, deadline=None)
    def check(c, delta):
        a, b = iaqi(c, table, rule_set), iaqi(c + delta, table, rule_set)
        if a is not None and b is not None:
            assert b >= a
        if a is None:  # above a short table's top stays above
            assert b is None

    check()


@given(st.dictionaries(st.sampled_from(["so2", "no2", "co", "o3", "pm10", "pm25"]), st.floats(0, 900, allow_nan=False), min_size=6),
       st.sampled_from(["so2", "no2", "co", "o3", "pm10", "pm25"]), st.floats(0, 300, allow_nan=False))
@settings(max_examples=300, deadline=None)
def test_aqi_never_decreases_when_one_concentration_rises(conc, which, delta):
    conc = {k: (v / 100 if k == "co" else v) for k, v in conc.items()}
    higher = dict(conc, **{which: conc[which] + (delta / 100 if which == "co" else delta)})
    for rs in RULE_SETS:
        a, b = hourly_aqi(conc, rs, so2_24h=conc["so2"]), hourly_aqi(higher, rs, so2_24h=conc["so2"])
        assert b.aqi >= a.aqi


def test_2026_changes_only_the_pm_breakpoints():
    assert iaqi(75, "pm25_24h", HJ633_2012) == 100 and iaqi(75, "pm25_24h", HJ633_2026) == 114  # 100 + 50 * 15 / 55, rounded up
    assert iaqi(120, "pm10_24h", HJ633_2026) == 100 and iaqi(120, "pm10_24h", HJ633_2012) == 85
    assert iaqi(300, "no2_1h", HJ633_2012) == iaqi(300, "no2_1h", HJ633_2026)


def test_above_range_rules():
    # SO2 1 h above 800: 2012 takes the 24 h IAQI, 2026 sets 200.
    assert hourly_aqi({"so2": 900}, HJ633_2012, so2_24h=500).iaqi["so2"] == iaqi(500, "so2_24h")
    assert hourly_aqi({"so2": 900}, HJ633_2026).iaqi["so2"] == 200
    # O3 8 h above 800: 2012 uses the O3 1 h IAQI, 2026 sets 300.
    assert hourly_aqi({"o3": 900, "o3_8h": 850}, HJ633_2012).iaqi["o3_8h"] == iaqi(900, "o3_1h")
    assert hourly_aqi({"o3": 900, "o3_8h": 850}, HJ633_2026).iaqi["o3_8h"] == 300
    # Particles above the table top: 500, as CNEMC publishes.
    assert iaqi(700, "pm10_24h") == 500


def test_2026_missing_pollutant_publishes_only_above_100():
    some = {"so2": 5, "no2": 20, "co": 0.5, "o3": 60, "pm10": 40}  # PM2.5 missing
    assert hourly_aqi(some, HJ633_2012).aqi == iaqi(40, "pm10_24h")
    assert hourly_aqi(some, HJ633_2026).aqi is None
    assert hourly_aqi(dict(some, pm10=300), HJ633_2026).aqi == iaqi(300, "pm10_24h", HJ633_2026)


def test_forecasts_combine_without_the_partial_rule():
    """A forecast has no SO2 and CO: the 2026 partial rule (failed measurements) does not hide its AQI."""
    forecast = {"no2": iaqi(20, "no2_1h"), "o3": iaqi(60, "o3_1h"), "pm10": iaqi(40, "pm10_24h"), "pm25": iaqi(30, "pm25_24h")}
    assert combine(forecast, HJ633_2026) == (None, None)
    assert combine(forecast, HJ633_2026, partial_rule=False) == (max(forecast.values()), None) == (43, None)
    assert combine(forecast, HJ633_2012) == combine(forecast, HJ633_2012, partial_rule=False)


def test_primary_pollutants_ties_and_categories():
    r = hourly_aqi({"so2": 5, "no2": 20, "co": 0.5, "o3": 60, "pm10": 150, "pm25": 75})
    assert r.aqi == 100 and r.primary == "PM10,PM2.5"
    assert hourly_aqi({"so2": 5, "no2": 20, "co": 0.5, "o3": 60, "pm10": 40, "pm25": 20}).primary is None
    assert category(51) == (2, "良", "#FFFF00") and category(301) == (6, "严重污染", "#7E0023")


def test_rounding_is_gbt8170_half_even_and_rule_set_by_date():
    assert round_concentration(0.25, "co_1h") == 0.2 and round_concentration(0.35, "co_1h") == 0.4
    assert round_concentration(34.5, "pm25_24h") == 34 and round_concentration(35.5, "pm25_24h") == 36
    from datetime import date

    assert rule_set_for(date(2026, 2, 28)) == HJ633_2012 and rule_set_for(date(2026, 3, 1)) == HJ633_2026
