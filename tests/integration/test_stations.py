"""silver.stations on the real station lists."""

import csv
from collections import Counter

import h3
import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable

from jobs.silver import stations as job
from smartmon.geo.distance import distance_km


@pytest.fixture(scope="module")
def registry(lake, stations_built):
    return DeltaTable(lake.path("silver.stations")).to_pyarrow_table()


def _list_rows(data_root):
    with open(data_root / job.CNEMC_LIST, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_every_national_station_with_coordinates_and_all_municipal(registry, data_root):
    rows = _list_rows(data_root)
    with_coords = {r["监测点编码"] for r in rows if job._float_or_none(r["经度"]) is not None}
    ids = set(registry.column("station_id").to_pylist())
    assert with_coords <= ids
    assert {r["监测点编码"] for r in rows} <= ids  # also those without coordinates, by rule
    tiers = registry.group_by(["tier", "kind"]).aggregate([("station_id", "count")]).to_pydict()
    counts = {(t, k): n for t, k, n in zip(tiers["tier"], tiers["kind"], tiers["station_id_count"], strict=True)}
    assert counts[("national", "air")] == len({r["监测点编码"] for r in rows})
    assert counts[("municipal", "air")] + counts[("municipal", "traffic")] == 35
    assert counts[(None, "meteorology")] == 18 + 651  # KDD observed stations and grid points


def test_h3_cells_equal_h3_py(registry):
    t = registry.filter(pc.is_valid(registry.column("lat"))).to_pylist()
    assert len(t) > 1600
    for r in t:
        for res in (5, 7, 9):
            assert r[f"h3_r{res}"] == h3.str_to_int(h3.latlng_to_cell(r["lat"], r["lon"], res)), r["station_id"]


def test_duplicate_code_is_one_station_with_its_former_name(registry):
    (row,) = registry.filter(pc.equal(registry.column("station_id"), "3207A")).to_pylist()
    assert row["name"] == "市政府原办公楼(20190308启用)"
    assert row["former_names"] == ["市政府原办公楼(190307启用)"]


def test_missing_coordinates_keep_the_station_with_city_codes(registry):
    rows = {r["station_id"]: r for r in registry.filter(pc.is_null(registry.column("lat"))).to_pylist()}
    assert set(rows) >= {"1028A", "3019A"}
    assert rows["1028A"]["city_code"] == "130100" and rows["1028A"]["h3_r7"] is None
    assert rows["1347A"]["city_code"] == "440100"  # 广州: the suffix rule keeps two characters


def test_admin_codes_for_known_sites(registry):
    by_id = {r["station_id"]: r for r in registry.to_pylist()}
    assert by_id["1007A"]["county_code"] == "110108"  # 海淀区万柳 is in 海淀区
    assert by_id["1339A"]["county_code"] == "430111"  # 雨花区环保局: nearest seat said 天心区
    assert by_id["1730A"]["county_code"] == "140403"  # 长治 审计局 in 潞州区: nearest seat said 壶关县
    assert by_id["1001A"]["province_code"] == "110000" and by_id["1001A"]["city_code"] == "110100"
    listed = [r for r in by_id.values() if r["network"] in ("cnemc", "beijing-municipal", "kdd2018-meo", "kdd2018-grid")]
    assert all(r["province_code"] for r in listed)


def test_county_accuracy_on_stations_named_after_their_district(registry, data_root):
    """Measured accuracy of the boundary counties (bench/RESULTS.md): stations whose name contains
    exactly one county name of their province are the labelled sample. Nearest-seat counties
    got 99 of 108 (91.7%); the boundaries get 104 (96.3%). Of the four left, 苏州工业园区 is an
    NBS statistical area inside 吴中区 (no GB/T 2260 county), 黄岛区子站 is published 22 km
    away in 城阳区, and two lie 0.5 and 1.8 km outside the district they are named after."""
    with open(data_root / "china_admin_divisions/modood_areas.csv", encoding="utf-8") as fh:
        areas = list(csv.DictReader(fh))
    labelled = correct = 0
    for r in registry.to_pylist():
        if r["tier"] != "national" or r["lat"] is None:
            continue
        names = [a for a in areas if a["provinceCode"] == r["province_code"][:2] and len(a["name"]) >= 3 and a["name"] in r["name"]]
        if len(names) == 1:
            labelled += 1
            correct += names[0]["code"] == r["county_code"]
    assert labelled >= 100
    assert correct / labelled >= 0.96 > 99 / 108, (correct, labelled)


def test_boundary_counties_agree_with_the_list_city_names(registry, data_root):
    """The list gives a city (or a county-level city such as 义乌) for every station: the county
    outline holding the station agrees with it for all but two of the stations whose name
    matched, and no national station needs the nearest-seat fallback."""
    national = [r for r in registry.to_pylist() if r["network"] == "cnemc" and r["lat"] is not None]
    methods = Counter(r["admin_method"] for r in national)
    checked = methods["boundary+name"] + methods["boundary-snapped-to-name"] + methods["name-coordinates-elsewhere"]
    assert methods["boundary+name"] / checked >= 0.998, methods
    assert set(methods) <= {"boundary", "boundary+name", "boundary-snapped-to-name", "name-coordinates-elsewhere"}
    by_id = {r["station_id"]: r for r in national}
    assert by_id["2529A"]["admin_method"] == "boundary-snapped-to-name" and by_id["2529A"]["city_code"] == "510900"
    elsewhere = by_id["3216A"]  # 漳州党校, published at 114.66 E in Guangdong
    assert (elsewhere["city_code"], elsewhere["county_code"], elsewhere["admin_method"]) == ("350600", None, "name-coordinates-elsewhere")
    with open(data_root / "china_admin_divisions/modood_areas.csv", encoding="utf-8") as fh:
        known = {a["code"] for a in csv.DictReader(fh)}
    placed = [r for r in registry.to_pylist() if (r["admin_method"] or "").startswith("boundary")]
    assert all(r["county_code"] in known and r["county_code"][:4] == r["city_code"][:4] for r in placed)


def test_share_of_counties_the_boundaries_changed(registry, admin_ref):
    """The nearest-seat rule (the fallback now) recomputed for the national stations the
    boundaries placed within their named city: about one in six changes county (bench/RESULTS.md:
    294 of 1,626 stations with coordinates, 18.1%, counting the two whose coordinates disagree
    with the name)."""
    seats = admin_ref.counties.where("seat_lat IS NOT NULL").toPandas()
    rows = [r for r in registry.to_pylist() if r["network"] == "cnemc" and r["admin_method"] == "boundary+name"]
    changed = 0
    for r in rows:
        mine = seats[seats["city_code"] == r["city_code"]]
        d = distance_km(r["lat"], r["lon"], mine["seat_lat"].to_numpy(float), mine["seat_lon"].to_numpy(float))
        nearest = min(zip(d, mine["county_code"]))[1] if len(mine) else None  # 嘉峪关 has no seat: no county
        changed += nearest != r["county_code"]
    assert 0.15 <= changed / len(rows) <= 0.20, (changed, len(rows))


def test_the_grid_takes_its_counties_from_the_boundaries(registry):
    """The KDD grid is a lattice over Beijing and its neighbours: points in Hebei and Tianjin get
    their counties there, and the few in the Bohai get the nearest seat, flagged."""
    grid = [r for r in registry.to_pylist() if r["network"] == "kdd2018-grid"]
    provinces = Counter(r["province_code"] for r in grid)
    assert {"110000", "120000", "130000"} <= set(provinces)
    fallback = [r for r in grid if r["admin_method"] == "nearest-seat-fallback"]
    assert 0 < len(fallback) <= 10 and all(r["lon"] >= 117.5 for r in fallback)  # offshore, east of Tianjin


def test_uci_and_kdd_aliases_agree(lake, registry, spark):
    aliases = {(r.source, r.source_station): r.station_id for r in lake.read("silver.station_aliases").collect()}
    uci = {k[1]: v for k, v in aliases.items() if k[0] == "uci-beijing"}
    assert len(uci) == 12 and uci["Dongsi"] == "1003A" and uci["Wanliu"] == "1007A"
    same = {r["name"]: r["same_site_as"] for r in registry.to_pylist() if r["network"] == "beijing-municipal"}
    # Every KDD site named like a UCI site is linked to the same national station.
    checked = [site for site in uci if site.lower() in same]
    assert len(checked) >= 10
    for site in checked:
        assert same[site.lower()] == uci[site], site


def test_rerun_changes_nothing(lake, stations_built, admin_ref):
    before = lake.version("silver.stations")
    assert job.run(lake, admin_ref) == {"skipped": 1}  # same lists, same rules: nothing to do
    assert lake.version("silver.stations") == before
    forced = job.run(lake, admin_ref, force=True)
    merge = [w for w in lake.writes if w.table == "silver.stations"][-1]
    assert merge.rows_written == 0 and forced["stations_written"] == 0
    assert lake.read("silver.stations").where("network IN ('cnemc', 'beijing-municipal', 'kdd2018-meo', 'kdd2018-grid')").count() == sum(
        v for k, v in stations_built.items() if k.startswith("stations_") and k != "stations_written"
    )
