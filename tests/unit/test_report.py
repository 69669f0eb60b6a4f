"""Consultation reports (smartmon.report): the pure transforms, table-driven, and a whole report
built from a small real Delta lake written with delta-rs (no Spark).

The small lake has two Hebei cities and Beijing on 2019-01-15, with values chosen so the city
AQIs can be worked out by hand (HJ 633-2012, PM2.5 24 h breakpoints 35/75/115):
  石家庄 130100: national stations at PM2.5 100 and 120 -> mean 110 -> IAQI ceil(1.25*35+100) = 144
  保定   130600: one national station at PM2.5 50      -> IAQI ceil(1.25*15+50) = 69
  北京   110100: one national station at PM2.5 20 (PM10 30) -> AQI 30
so within Hebei 保定 ranks 1 and 石家庄 2; nationally 北京 1, 保定 2, 石家庄 3.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import h3
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from deltalake import write_deltalake

from smartmon import catalog
from smartmon.beijing_time import beijing_day_bounds_utc, beijing_day_of
from smartmon.config import SAMPLE_DATA
from smartmon.errors import SmartmonError
from smartmon.report import build_report
from smartmon.report import sections as sec
from smartmon.report.aqi_summary import (
    category_counts,
    month_ranking,
    primary_counts,
    rank_units,
    unit_daily_aqi,
)
from smartmon.report.area import UnknownAreaError, in_area, make_period, resolve_area
from smartmon.report.hexcells import roll_up
from smartmon.report.names import short_name
from smartmon.standards.aqi import category, daily_aqi

DAY = date(2019, 1, 15)
ADMIN = SAMPLE_DATA / "china_admin_divisions"

# ------------------------------------------------------------------------------ pure transforms
KNOWN = {"110000", "110100", "130000", "130100", "130600", "500000", "500100"}


@pytest.mark.parametrize(
    "tier, code, reported, note",
    [
        ("national", None, "000000", False),
        ("national", "000000", "000000", False),
        ("province", "130000", "130000", False),
        ("city", "130100", "130100", False),
        ("city", "110000", "110100", True),  # the issue's own example: a municipality's province code
        ("city", "500000", "500100", True),
    ],
)
def test_resolve_area_accepts_and_maps_municipalities(tier, code, reported, note):
    area = resolve_area(tier, code, KNOWN)
    assert area.code == reported and (area.note is not None) == note
    if note:
        assert code in area.note and reported in area.note


@pytest.mark.parametrize(
    "tier, code, message",
    [
        ("city", "990100", "unknown city code 990100"),
        ("province", "990000", "unknown province code 990000"),
        ("province", "130100", "130100 is not a province code"),
        ("city", "130000", "130000 is not a prefecture"),
        ("city", "130102", "130102 is not a prefecture"),
        ("city", "13010", "'13010' is not a 6-digit"),
        ("national", "110000", "national tier has code 000000"),
        ("county", "130102", "unknown tier 'county'"),
    ],
)
def test_resolve_area_refuses_with_the_code_named(tier, code, message):
    with pytest.raises(UnknownAreaError, match=message) as err:
        resolve_area(tier, code, KNOWN)
    assert isinstance(err.value, SmartmonError)


@pytest.mark.parametrize(
    "prefix, expected",
    [("", [True, True, True, True]), ("13", [False, True, True, False]), ("1301", [False, True, False, False])],
)
def test_in_area_by_code_prefix(prefix, expected):
    codes = pd.Series(["110100", "130100", "130600", None])
    assert in_area(codes, prefix).tolist() == expected


def test_period_bounds_follow_beijing_days():
    p = make_period(date(2019, 1, 15), "month")
    assert (p.start, p.end, p.label, p.n_days) == (date(2019, 1, 1), date(2019, 1, 31), "2019-01", 31)
    d = make_period(DAY)
    assert d.series_start == date(2018, 12, 17) and d.months == ["2018-12", "2019-01"]
    lo, hi = beijing_day_bounds_utc(DAY, DAY)
    assert (lo, hi) == (datetime(2019, 1, 14, 16, tzinfo=UTC), datetime(2019, 1, 15, 16, tzinfo=UTC))
    # the hour ending 00:00 Beijing (16:00 UTC) is the last hour of the day before
    ts = pd.Series(pd.to_datetime(["2019-01-14 16:00", "2019-01-14 17:00", "2019-01-15 16:00"], utc=True))
    assert beijing_day_of(ts).tolist() == [date(2019, 1, 14), DAY, DAY]


@pytest.mark.parametrize(
    "levels, counts, no_aqi",
    [
        ([1, 1, 2, 6], [2, 1, 0, 0, 0, 1], 0),
        ([3, None, 3], [0, 0, 2, 0, 0, 0], 1),
        ([], [0, 0, 0, 0, 0, 0], 0),
    ],
)
def test_category_counts_list_all_six_categories(levels, counts, no_aqi):
    out = category_counts(pd.Series(levels, dtype="float"))
    assert out["count"].tolist() == counts and out["category"].tolist()[0] == "优"
    assert int(out["no_aqi"].iloc[0]) == no_aqi


@pytest.mark.parametrize(
    "primary, expected",
    [(["PM2.5", "PM2.5,PM10", None, "O3_8h"], {"PM2.5": 2, "PM10": 1, "O3_8h": 1}), ([None, None], {})],
)
def test_primary_pollutant_counts_split_ties(primary, expected):
    assert primary_counts(pd.Series(primary, dtype="object")) == expected


@pytest.mark.parametrize(
    "values, ranks",
    [([50, 30, 30, None, 90], [1, 1, 3, 4, None]), ([10], [1])],
)
def test_rank_units_ties_share_the_best_rank_and_missing_go_last(values, ranks):
    units = pd.DataFrame({"code": [f"1{i}0100" for i in range(len(values))], "aqi": pd.array(values, dtype="Int64")})
    ranked = rank_units(units, "aqi")
    got = [None if pd.isna(r) else int(r) for r in ranked["area_rank"]]
    assert sorted(got, key=lambda r: (r is None, r)) == got and got == ranks


def _station_days(rows: list[tuple]) -> pd.DataFrame:
    cols = ["station_id", "tier", "city_code", "county_code", "day", "so2", "no2", "co", "pm10", "pm25", "o3_1h_max",
            "o3_8h_max"]
    return pd.DataFrame(rows, columns=cols)


def test_unit_daily_aqi_is_the_aqi_of_the_national_stations_mean():
    sd = _station_days([
        ("S1", "national", "130100", "130102", DAY, 10, 30, 0.8, 90, 100, 40, 30),
        ("S2", "national", "130100", "130104", DAY, 12, 34, 1.0, 110, 120, 44, 34),
        ("C1", "county", "130100", "130102", DAY, 50, 90, 3.0, 400, 300, 90, 80),  # not a national station
        ("S3", "national", "130600", "130602", DAY, 8, 20, 0.6, 60, 50, 50, 40),
    ])
    out = unit_daily_aqi(sd, "city_code").set_index("code")
    assert out.loc["130100", "aqi"] == 144 and out.loc["130100", "primary_pollutant"] == "PM2.5"
    assert out.loc["130100", "n_stations"] == 2 and out.loc["130100", "pm25"] == 110
    assert out.loc["130600", "aqi"] == 69 and out.loc["130600", "category"] == "良"
    only = unit_daily_aqi(sd, "county_code", "1301")
    assert set(only["code"]) == {"130102", "130104"}


def test_month_ranking_reranks_within_the_area_and_keeps_the_national_rank():
    ev = pd.DataFrame({"scope": ["city", "city", "city", "city", "province"],
                       "code": ["130100", "130600", "110100", "130700", "130000"],
                       "comprehensive_index": [11.0, 10.7, 4.7, 3.3, 8.0], "rank": [334, 331, 140, None, 29]})
    out = month_ranking(ev, "city", "13")
    assert out["code"].tolist() == ["130600", "130100", "130700"]
    assert out["area_rank"].tolist()[:2] == [1, 2] and pd.isna(out["area_rank"].iloc[2])
    assert out["rank"].tolist()[:2] == [331, 334]


def test_roll_up_adds_sums_and_counts_across_resolutions():
    a = h3.latlng_to_cell(38.04, 114.51, 7)
    b = h3.latlng_to_cell(38.05, 114.52, 7)
    assert h3.cell_to_parent(a, 5) == h3.cell_to_parent(b, 5)
    rows = pd.DataFrame({"cell": [h3.str_to_int(a), h3.str_to_int(b), h3.str_to_int(a)],
                         "value_sum": [100.0, 240.0, 60.0], "n_stations": [1, 2, 1]})
    out = roll_up(rows, 5)
    assert len(out) == 1 and out["n"].iloc[0] == 4 and out["value"].iloc[0] == pytest.approx(100.0)


@pytest.mark.parametrize("name, short", [("河北省", "河北"), ("新疆维吾尔自治区", "新疆"), ("延边朝鲜族自治州", "延边"),
                                         ("怀柔区", "怀柔"), ("东区", "东区")])
def test_short_names_for_charts(name, short):
    assert short_name(name) == short


@pytest.mark.parametrize("font, short, pinyin, expected", [
    (None, "朝阳", "Chaoyang", "Chaoyang"),  # the lists' reading beats pypinyin's (zhao yang)
    (None, "怀柔区", None, "Huairou Qu"),
    ("Noto Sans CJK SC", "朝阳", "Chaoyang", "朝阳"),
])
def test_chart_names_in_pinyin_without_a_cjk_font(monkeypatch, font, short, pinyin, expected):
    from smartmon.report import charts

    monkeypatch.setattr(charts, "cjk_font", lambda: font)
    assert charts.chart_name(short, pinyin) == expected


@pytest.mark.parametrize("res, levels", [(5, {"province"}), (6, {"province", "county"})])
def test_hex_map_draws_the_boundaries_under_the_cells(res, levels):
    """A province map (display res 5) over province borders, a city map (res 6) over county
    borders too: grey lines clipped to the frame, under the cells, in WGS84 like the cells."""
    from matplotlib.collections import LineCollection

    from smartmon.report import charts

    cells = pd.DataFrame({"cell": [h3.latlng_to_cell(39.90, 116.40, res), h3.latlng_to_cell(38.04, 114.51, res)],
                          "value": [30.0, 120.0], "n": [1, 1]})
    fig = charts.draw_hex_map(charts.HexMap(cells, cells.iloc[:0], res, "test", DAY, 1.0))
    (ax,) = fig.axes
    lines = {c.get_gid(): c for c in ax.collections if isinstance(c, LineCollection)}
    assert set(lines) == {f"{lv}-boundaries" for lv in levels}
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    for coll in lines.values():
        segs = coll.get_segments()
        assert len(segs) > 0 and coll.get_zorder() < 1  # under the cells (PolyCollection zorder 1)
        pts = np.concatenate(segs)
        assert (pts[:, 0] >= x0 - 1e-9).all() and (pts[:, 0] <= x1 + 1e-9).all()
        assert (pts[:, 1] >= y0 - 1e-9).all() and (pts[:, 1] <= y1 + 1e-9).all()


def _forecast_rows(issued: datetime, hours: int, value: float = 80.0) -> pd.DataFrame:
    return pd.DataFrame({"station_id": "S1", "target": "pm25", "issued_at": pd.Timestamp(issued),
                         "horizon_h": range(1, hours + 1),
                         "ts": [pd.Timestamp(issued + timedelta(hours=h)) for h in range(1, hours + 1)],
                         "value": value, "model_name": "smartmon.control.pm25", "model_version": "4"})


@pytest.mark.parametrize(
    "issued, stations, days_covered, message",
    [
        (datetime(2019, 1, 15, tzinfo=UTC), {"S1"}, ["2019-01-16", "2019-01-17"], "beyond the 48 h horizon"),
        (datetime(2018, 5, 1, tzinfo=UTC), {"S1"}, [], "no forecast covers 2019-01-16 to 2019-01-18"),
        (datetime(2019, 1, 15, tzinfo=UTC), {"S9"}, [], "no forecast was issued on or before 2019-01-15"),
    ],
)
def test_forecast_summary_says_plainly_what_it_lacks(issued, stations, days_covered, message):
    out = sec.forecast_summary(_forecast_rows(issued, 48), stations, date(2019, 1, 16))
    assert [r["day"] for r in out["rows"]] == days_covered and message in out["message"]
    if days_covered:
        full = out["rows"][0]
        # 2019-01-16 Beijing = hours ending 2019-01-15 17:00 .. 2019-01-16 16:00 UTC: horizons 17..40
        assert full["hours"] == 24 and full["mean"] == 80.0 and full["category"] == "轻度污染"
        assert out["rows"][1]["hours"] == 8 and out["rows"][1]["category"] is None


def test_skill_summary_reaggregates_the_rows_by_n_per_block_and_counts_city_day_hits():
    base = {"issued_at": pd.Timestamp("2019-01-15 16:00"), "kind": "nightly", "network": "cnemc", "lead_days": 1}
    rows = pd.DataFrame([
        {**base, "grain": "station_hour", "target": "pm25", "horizon_h": 1, "city_code": "110100", "n": 30,
         "smape": 0.1, "persistence_smape": 0.2, "climatology_smape": 0.5, "n_climatology": 30},
        {**base, "grain": "station_hour", "target": "pm25", "horizon_h": 3, "city_code": "110100", "n": 10,
         "smape": 0.3, "persistence_smape": 0.2, "climatology_smape": None, "n_climatology": 0},
        {**base, "grain": "station_hour", "target": "pm25", "horizon_h": 30, "city_code": "110100", "n": 5,
         "smape": 0.4, "persistence_smape": 0.5, "climatology_smape": 0.6, "n_climatology": 5},
        {**base, "grain": "station_hour", "target": "pm25", "horizon_h": 1, "city_code": "999999", "n": 99,
         "smape": 0.9, "persistence_smape": 0.9, "climatology_smape": 0.9, "n_climatology": 99},
        *({**base, "grain": "city_day", "target": "aqi", "horizon_h": 24 * k, "city_code": "110100", "n": 1,
           "level_hit": hit, "persistence_level_hit": 0, "primary_hit": 1} for k, hit in ((1, 1), (2, 1), (3, 0))),
    ])
    out = sec.skill_summary(rows, {"110100"})
    assert out["issues"] == 1 and [(r["target"], r["block"], r["n"]) for r in out["rows"]] == [("pm25", "1-3", 40), ("pm25", "25-48", 5)]
    first = out["rows"][0]
    assert first["model"] == pytest.approx(0.15) and first["persistence"] == pytest.approx(0.2) and first["climatology"] == pytest.approx(0.5)
    assert out["levels"] == {"n": 3, "level": pytest.approx(2 / 3), "persistence": 0.0, "primary": 1.0}
    assert sec.skill_summary(rows, {"000000"}) == {"rows": [], "issues": 0, "levels": None}


def test_qc_summary_counts_by_rule_and_level_inside_the_area():
    t = pd.Timestamp("2019-01-15 03:00", tz="UTC")
    flags = pd.DataFrame({"station_id": ["S1", "S1", "S2", "X9"], "parameter": ["pm25", "o3", "pm10", "pm25"],
                          "ts_from": t, "ts_to": t, "rule": ["range", "spike", "spike", "range"],
                          "level": ["ERROR", "WARNING", "WARNING", "ERROR"], "detail": "d"})
    scr = pd.DataFrame({"station_id": ["S1", "S2", "X9"], "day": DAY, "score": [1.5, 0.4, 3.0], "rank": [2, 9, 1],
                        "reason": ["drop", "flat", "drop"], "parameter": "pm25"})
    out = sec.qc_summary(flags, scr, {"S1", "S2"}, {"S1": "一号"})
    assert out["levels"] == {"ERROR": 1, "WARNING": 2, "INFO": 0} and out["stations_flagged"] == 2
    assert {r["rule"]: r["total"] for r in out["rules"]} == {"spike": 2, "range": 1}
    assert (out["screened"], out["worth_a_look"], out["reasons"]) == (2, 1, {"drop": 1})
    assert out["top"][0]["station"] == "一号 (S1)" and out["message"] is None
    empty = sec.qc_summary(flags.iloc[0:0], scr.iloc[0:0], {"S1"}, {})
    assert "no QC flag" in empty["message"]


# ------------------------------------------------------------------------------ a small real lake
def _arrow_type(name: str) -> pa.DataType:
    simple = {"string": pa.string(), "double": pa.float64(), "bigint": pa.int64(), "int": pa.int32(),
              "boolean": pa.bool_(), "timestamp": pa.timestamp("us", tz="UTC"), "date": pa.date32()}
    if name.startswith("array<"):
        return pa.list_(_arrow_type(name[6:-1]))
    if name.startswith("map<"):
        key, value = name[4:-1].split(",", 1)
        return pa.map_(_arrow_type(key), _arrow_type(value))
    return simple[name]


def write_table(root: Path, fqn: str, rows: list[dict]) -> None:
    """Write rows as the registry declares the table (TABLES.md): same names, types, partitioning."""
    spec = catalog.get(fqn)
    schema = pa.schema([pa.field(c.name, _arrow_type(c.type), c.nullable) for c in spec.columns])
    table = pa.Table.from_pylist([{c: r.get(c) for c in schema.names} for r in rows], schema=schema)
    write_deltalake(str(root / spec.layer / spec.name), table, partition_by=list(spec.partition_by) or None,
                    configuration=spec.properties)


STATIONS = [  # id, tier, kind, province, city, county, lat, lon
    ("1001A", "national", "air", "110000", "110100", "110101", 39.929, 116.417),
    ("S1", "national", "air", "130000", "130100", "130102", 38.050, 114.520),
    ("S2", "national", "air", "130000", "130100", "130104", 38.020, 114.480),
    ("S3", "national", "air", "130000", "130600", "130602", 38.870, 115.460),
    ("C1", "county", "air", "130000", "130100", "130102", 38.060, 114.540),
    ("W1", "national", "surface_water", "130000", "130100", "130102", 38.100, 114.600),
]
NAMES = {"1001A": "万寿西宫", "S1": "世纪公园", "S2": "西南高教", "S3": "游泳馆", "C1": "长安区区县站1", "W1": "滹沱河断面"}
CONC = {  # station -> so2, no2, co, pm10, pm25, o3_1h_max, o3_8h_max
    "1001A": (4, 20, 0.4, 30, 20, 60, 50),
    "S1": (10, 30, 0.8, 90, 100, 40, 30),
    "S2": (12, 34, 1.0, 110, 120, 44, 34),
    "S3": (8, 20, 0.6, 60, 50, 50, 40),
    "C1": (50, 90, 3.0, 400, 300, 90, 80),
}
POLL = ("so2", "no2", "co", "pm10", "pm25", "o3_1h_max", "o3_8h_max")


def _aqi_row(sid: str, day: date, scale: float) -> dict:
    conc = dict(zip(POLL, (v * scale for v in CONC[sid])))
    a = daily_aqi({"so2": conc["so2"], "no2": conc["no2"], "co": conc["co"], "pm10": conc["pm10"], "pm25": conc["pm25"],
                   "o3": conc["o3_1h_max"], "o3_8h": conc["o3_8h_max"]})
    level, cat, colour = category(a.aqi)
    return {"station_id": sid, "day": day, "month": day.strftime("%Y-%m"), **conc, "n_pm25": 23, "n_pm10": 24, "n_so2": 24,
            "n_no2": 24, "n_co": 24, "n_o3": 24, "rule_set": "HJ633-2012", "aqi": a.aqi, "primary_pollutant": a.primary,
            "level": level, "category": cat, "colour": colour, "exceedances": "PM2.5" if conc["pm25"] > 75 else ""}


def make_lake(root: Path) -> Path:
    """A small lake with every table the report reads except gold.upwind_candidates (absent on
    purpose: the report must say so, not fail)."""
    days = (DAY - timedelta(days=1), DAY)
    cells = {s[0]: h3.str_to_int(h3.latlng_to_cell(s[6], s[7], 7)) for s in STATIONS}
    write_table(root, "silver.stations", [
        {"station_id": s[0], "name": NAMES[s[0]], "tier": s[1], "kind": s[2], "province_code": s[3], "city_code": s[4],
         "county_code": s[5], "lat": s[6], "lon": s[7], "h3_r7": cells[s[0]], "source": "test"} for s in STATIONS])
    write_table(root, "gold.aqi_daily", [_aqi_row(sid, d, 1.0 if d == DAY else 0.5) for sid in CONC for d in days])
    region, hexes = [], []
    for d in days:
        scale = 1.0 if d == DAY else 0.5
        for scope, code, members in (("city", "130100", ["S1", "S2", "C1"]), ("city", "130600", ["S3"]),
                                     ("city", "110100", ["1001A"]), ("province", "130000", ["S1", "S2", "C1", "S3"]),
                                     ("province", "110000", ["1001A"]), ("nation", "000000", list(CONC))):
            for i, p in enumerate(("so2", "no2", "co", "pm10", "pm25", "o3_8h_max")):
                vals = [CONC[m][POLL.index(p)] * scale for m in members]
                region.append({"scope": scope, "code": code, "day": d, "pollutant": p, "value": sum(vals) / len(vals),
                               "value_sum": sum(vals), "n_stations": len(vals), "month": "2019-01"})
        for sid in CONC:
            hexes.append({"resolution": 7, "cell": cells[sid], "day": d, "pollutant": "pm25",
                          "value": CONC[sid][4] * scale, "value_sum": CONC[sid][4] * scale, "n_stations": 1,
                          "month": "2019-01"})
    write_table(root, "gold.region_daily", region)
    write_table(root, "gold.hex_daily", hexes)
    ev = [("city", "130100", "石家庄", "130000", 11.0, 334), ("city", "130600", "保定", "130000", 10.71, 331),
          ("city", "110100", "北京", "110000", 4.73, 140), ("province", "130000", None, "000000", 7.99, 29),
          ("province", "110000", None, "000000", 4.73, 16), ("nation", "000000", "全国", None, 5.4, 1)]
    write_table(root, "gold.eval_monthly", [
        {"scope": s, "code": c, "period": "2019-01", "name": n, "parent_code": p, "n_stations": 2, "n_days": 31,
         "valid": True, "pm25": 90.0, "comprehensive_index": ci, "primary_pollutant": "PM2.5", "good_days": 6,
         "aqi_days": 31, "good_share": 6 / 31, "exceedance_days": 25, "limit_set": "GB3095-2012", "rank": r}
        for s, c, n, p, ci, r in ev])
    water = [("do", 7.0, 2, "II"), ("nh3n", 1.2, 4, "IV")]
    write_table(root, "gold.water_class", [
        {"station_id": "W1", "period_type": "day", "period": "2019-01-15", "parameter": p, "value": v, "n_values": 6,
         "n_excluded": 0, "water_class": c, "class_name": n, "target_class": 3, "section_class": 4,
         "section_class_name": "IV", "worst_parameters": "nh3n", "meets_target": False} for p, v, c, n in water])
    issued = datetime(2019, 1, 15, tzinfo=UTC)
    fc = _forecast_rows(issued, 48).assign(month="2019-01")
    write_table(root, "gold.forecasts", fc.to_dict("records"))
    write_table(root, "gold.forecast_city_daily", [
        {"city_code": "130100", "issued_at": issued, "kind": "nightly", "day": date(2019, 1, 16), "lead_days": 1,
         "month": "2019-01", "pm25": 80.0, "aqi": 106, "aqi_p10": 98.0, "aqi_p90": 112.0, "level": 3, "category": "轻度污染",
         "primary_pollutant": "PM2.5", "n_stations": 2}])
    write_table(root, "gold.forecast_skill", [
        {"grain": "station_hour", "issued_at": issued - timedelta(days=d), "kind": "nightly", "target": "pm25", "horizon_h": 2,
         "lead_days": 1, "network": "cnemc", "city_code": "130100", "month": "2019-01", "n": 10, "smape": 0.2,
         "persistence_smape": 0.25, "climatology_smape": 0.5, "n_climatology": 10} for d in (1, 2)])
    t = datetime(2019, 1, 15, 3, tzinfo=UTC)
    write_table(root, "silver.qc_flags", [
        {"station_id": sid, "parameter": "pm25", "ts_from": t, "ts_to": t + timedelta(hours=h), "month": "2019-01",
         "rule": rule, "rule_version": "qc-test", "level": lv, "detail": f"{rule} seen", "source_table": "silver.air_hourly"}
        for sid, rule, lv, h in (("S1", "range", "ERROR", 0), ("S2", "spike", "WARNING", 2), ("1001A", "pm_ratio", "INFO", 1))])
    write_table(root, "gold.qc_screening", [
        {"station_id": sid, "day": DAY, "month": "2019-01", "score": sc, "rank": r, "reason": why, "n_hours": 24,
         "parameter": "pm25", "rule_version": "qc-test"} for sid, sc, r, why in (("S1", 1.5, 1, "drop"), ("S3", 0.4, 7, "flat"))])
    run1, run2 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    spec = json.dumps({"name": "carbon-test", "kind": "carbon", "period": {"from": "2019-01-01", "to": "2019-01-03"}})
    write_table(root, "gold.scenario_results", [
        {"scenario_id": sid, "name": "carbon-test", "kind": "carbon", "output": "delta_co2_t", "entity_kind": ek,
         "entity_id": eid, "nominal": v, "mean": v, "p05": v - 1, "p95": v + 1, "unit": "t CO2", "draws": 10, "spec": spec,
         "run_at": at}
        for sid, at, ek, eid, v in (("old", run1, "region", "130000", -5.0), ("new", run2, "region", "130000", -123.0),
                                    ("new", run2, "region", "320000", -7.0), ("new", run2, "total", "all", -130.0))])
    write_table(root, "silver.river_sections", [
        {"section_id": "R1", "name": "滹沱河断面", "province_code": "130000", "city_code": "130100", "source": "test"}])
    return root


@pytest.fixture(scope="module")
def small_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_lake(tmp_path_factory.mktemp("report-lake"))


def assert_png_not_blank(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as img:
        img.verify()
    with Image.open(path) as img:
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20)
        assert img.width > 200 and img.height > 100, path
    assert colours is not None and len(colours) > 8, f"{path.name} is (nearly) a single colour"


def test_province_day_report_from_a_small_lake(small_lake: Path, tmp_path: Path):
    r = build_report(str(small_lake), "province", "130000", DAY, "day", tmp_path, admin_dir=ADMIN)
    assert r.folder == tmp_path / "province-130000" / "day-2019-01-15"
    html, md = r.html.read_text(encoding="utf-8"), r.markdown.read_text(encoding="utf-8")
    # rankings within Hebei and nationally, with the hand-computed AQIs
    assert "| 1 | 2 | 保定市 | 130600 | 69 | 良 | PM2.5 |" in md
    assert "| 2 | 3 | 石家庄市 | 130100 | 144 | 轻度污染 | PM2.5 |" in md
    assert "<td>石家庄市</td><td>130100</td><td class=\"num\">144</td>" in html
    # stations per category: S1 (PM2.5 100 -> 良? no: IAQI 132 轻度), S2 (120 -> 158 中度), S3 69 良, C1 severe
    assert r.summary["station_categories"] == {"Good": 1, "Lightly polluted": 1, "Moderately polluted": 1,
                                               "Severely polluted": 1}
    assert "HJ 663 evaluation of 2019-01: comprehensive index 7.99, rank 29 of 2 provinces" in md
    # water, forecast, QC, scenarios, coverage: each from its table
    assert "0 of 1 sections meet their target class" in md and "| W1 | 滹沱河断面 | IV | 3 | no | nh3n |" in md
    assert "| pm25 | 2019-01-16 | 80.0 | 80.0 | 80.0 | 24 | 1 | 轻度污染 |" in md
    assert "beyond the 48 h horizon of this issue: 2019-01-18" in md
    assert "| 石家庄市 | 2019-01-16 | 106 | 98-112 | 轻度污染 | PM2.5 | 2 |" in md
    assert "Skill of the 2 issue(s) of the week before" in md and "| pm25 | 1-3 | 20 | 0.200 | 0.250 | 0.500 |" in md
    assert "2 QC flags on 2 stations overlap the period: 1 ERROR" in md and "| range | 1 | 0 | 0 | 1 |" in md
    assert "1 with a score >= 1 (worth a look): drop 1" in md
    scenarios = md.split("## 7.")[1].split("## 8.")[0]
    assert "| delta_co2_t | region | 130000 | -123 |" in scenarios and "scenario new," in scenarios
    assert "scenario old" not in scenarios and "320000" not in scenarios  # the latest run only, inside the area
    assert "Upwind attribution: no upwind attribution" in md
    assert "gold.upwind_candidates" not in md  # absent table: not among the versions read
    assert {p.name for p in r.pngs} == {"hexmap.png", "series.png", "ranking.png", "water.png", "forecast.png"}
    for png in r.pngs:
        assert_png_not_blank(png)
        assert f'src="{png.name}"' in html and f"]({png.name})" in md


def test_city_report_maps_a_municipality_code_and_says_so(small_lake: Path, tmp_path: Path):
    r = build_report(str(small_lake), "city", "110000", DAY, "day", tmp_path, admin_dir=ADMIN)
    assert r.folder.parent.name == "city-110100"
    md = r.markdown.read_text(encoding="utf-8")
    assert "110000 is a municipality's province-level code" in md and "(asked as 110000)" in md
    assert "City AQI on 2019-01-15: 30 (优)" in md
    assert "rank 1 of 1 in its province and 1 of 3 nationally" in md
    assert "gold.water_class holds no water section of this area" in md
    assert "no forecast was issued on or before 2019-01-15 for any station of this area" in md
    assert "none of this run's results falls inside the area" in md


def test_month_report_and_missing_sections_do_not_fail(small_lake: Path, tmp_path: Path):
    r = build_report(str(small_lake), "national", "000000", DAY, "month", tmp_path, admin_dir=ADMIN)
    md = r.markdown.read_text(encoding="utf-8")
    assert r.folder.name == "month-2019-01"
    assert "| 1 | 140 | 北京市 | 110100 | 4.73 |" in md and "| 3 | 334 | 石家庄市 | 130100 | 11.00 |" in md
    assert "no month evaluation of this area's 1 water section(s) for 2019-01; gold.water_class holds no month" in md
    for png in r.pngs:
        assert_png_not_blank(png)


def test_unknown_code_is_an_error_naming_it(small_lake: Path, tmp_path: Path):
    with pytest.raises(SmartmonError, match="unknown city code 990100"):
        build_report(str(small_lake), "city", "990100", DAY, "day", tmp_path, admin_dir=ADMIN)


def test_cli_prints_the_summary_and_paths(small_lake: Path, tmp_path: Path, monkeypatch, capsys):
    import argparse

    from pipelines import cli_report
    from smartmon import config

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()

    def add(name, fn, help_):
        p = sub.add_parser(name, help=help_)
        p.set_defaults(fn=fn)
        return p

    cli_report.add_commands(add)
    monkeypatch.setenv("SMARTMON_LAKE", str(small_lake))
    config.settings.cache_clear()
    try:
        args = parser.parse_args(["report", "--tier", "city", "--code", "130100", "--date", "2019-01-15",
                                  "--out", str(tmp_path)])
        assert args.fn(args) == 0
    finally:
        config.settings.cache_clear()
    out = capsys.readouterr().out
    assert "report city 130100 石家庄市, day 2019-01-15" in out and "city_aqi           144 轻度污染" in out
    assert str(tmp_path / "city-130100" / "day-2019-01-15" / "report.html") in out
