"""silver.stations on the real station lists."""

import csv

import h3
import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable

from jobs.silver import stations as job


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
    assert by_id["1001A"]["province_code"] == "110000" and by_id["1001A"]["city_code"] == "110100"
    listed = [r for r in by_id.values() if r["network"] in ("cnemc", "beijing-municipal", "kdd2018-meo", "kdd2018-grid")]
    assert all(r["province_code"] for r in listed)


def test_county_accuracy_on_stations_named_after_their_district(registry, data_root):
    """Measured accuracy of nearest-seat counties (README figure): stations whose name contains
    exactly one county name of their province are the labelled sample."""
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
    assert correct / labelled >= 0.9, (correct, labelled)


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
