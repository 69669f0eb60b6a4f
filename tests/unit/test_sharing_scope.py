"""Tier scopes, row rules, tokens and signed URLs of the sharing server (no server, no Spark)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartmon.sharing.areas import Area, parse_area, visible_mask
from smartmon.sharing.errors import InvalidRequest, PermissionDenied, Unauthenticated
from smartmon.sharing.recipients import RecipientStore, hash_token, utcnow
from smartmon.sharing.scoping import RowRule, StationIndex, filter_rows, parse_rule, resolve_rule, row_codes
from smartmon.sharing.shares import DEFAULT_SHARES_FILE, load_shares
from smartmon.sharing.signing import UrlSigner


# ------------------------------------------------------------------------------ areas
@pytest.mark.parametrize(("tier", "code", "prefix", "key"), [
    ("province", "110000", "11", "province-110000"),
    ("city", "110100", "1101", "city-110100"),
    ("county", "110101", "110101", "county-110101"),
    ("city", "130100", "1301", "city-130100"),
    ("county", "419001", "419001", "county-419001"),  # a directly administered county-level city
    ("nation", None, "", "nation-000000"),
    ("national", "000000", "", "nation-000000"),
    ("Province", "650000", "65", "province-650000"),
])
def test_area_prefix(tier, code, prefix, key):
    a = parse_area(tier, code)
    assert (a.prefix, a.key) == (prefix, key)


@pytest.mark.parametrize(("tier", "code", "message"), [
    ("province", "110100", "ending in 0000"),
    ("city", "110000", "use --tier province"),
    ("city", "110101", "use --tier county"),
    ("county", "110100", "last two digits are not 00"),
    ("county", "11010", "6-digit"),
    ("county", None, "6-digit"),
    ("province", "00000a", "6-digit"),
    ("province", "000000", "do not exist"),
    ("town", "110101", "unknown tier"),
    ("nation", "110000", "takes no code"),
])
def test_area_refuses_bad_codes_saying_why(tier, code, message):
    with pytest.raises(InvalidRequest, match=message):
        parse_area(tier, code)


@pytest.mark.parametrize(("area", "code", "inside"), [
    (("province", "110000"), "110101", True),
    (("province", "110000"), "110000", True),
    (("province", "110000"), "120101", False),
    (("province", "110000"), None, False),
    (("city", "130100"), "130102", True),
    (("city", "130100"), "130000", False),  # the province total is not the city's
    (("city", "130100"), "130202", False),
    (("county", "110101"), "110101", True),
    (("county", "110101"), "110100", False),
    (("nation", None), None, True),
    (("nation", None), "650000", True),
])
def test_area_contains(area, code, inside):
    a = parse_area(*area)
    assert a.contains(code) is inside
    assert visible_mask(pa.array([code], pa.string()), a).to_pylist() == [inside]


six_digit_county = st.tuples(st.integers(11, 65), st.integers(1, 99), st.integers(1, 99)).map(lambda t: f"{t[0]:02d}{t[1]:02d}{t[2]:02d}")
row_code = st.one_of(st.none(), six_digit_county, st.sampled_from(["110000", "110100", "130100", "000000"]))


@given(county=six_digit_county, code=row_code)
def test_visible_to_a_county_implies_visible_to_its_city_province_and_nation(county, code):
    c = parse_area("county", county)
    city, province, nation = parse_area("city", county[:4] + "00"), parse_area("province", county[:2] + "0000"), parse_area("nation", None)
    chain = [c.contains(code), city.contains(code), province.contains(code), nation.contains(code)]
    assert chain == sorted(chain)  # False* True*: once visible, visible to every wider area


@given(codes=st.lists(row_code, max_size=40))
def test_provinces_partition_the_placed_rows(codes):
    arr = pa.array(codes, pa.string())
    per_province = sum(sum(visible_mask(arr, Area("province", f"{p:02d}0000")).to_pylist()) for p in range(11, 66))
    unplaced = sum(1 for c in codes if c is None or c == "000000")
    assert per_province + unplaced == len(codes) == sum(visible_mask(arr, Area("nation", "000000")).to_pylist())


# ------------------------------------------------------------------------------ row rules
@pytest.mark.parametrize(("columns", "declared", "expected"), [
    (["station_id", "province_code", "city_code", "county_code"], None, "admin:county_code,city_code,province_code"),
    (["county_code", "year"], None, "admin:county_code"),
    (["station_id", "day"], None, "station:station_id"),
    (["scope", "code", "day"], None, "entity:scope,code"),
    (["entity_kind", "entity_id", "mean"], None, "entity:entity_kind,entity_id"),
    (["resolution", "cell", "day"], None, "national"),
    (["receptor_id", "candidate_id"], "station:receptor_id", "station:receptor_id"),
    (["station_id", "day"], "national", "national"),
])
def test_rule_from_columns(columns, declared, expected):
    assert str(resolve_rule(columns, parse_rule(declared) if declared else None, "t")) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("stations:station_id", "unknown row rule"),
    ("station", "takes one column"),
    ("entity:scope", "takes two columns"),
    ("national:x", "takes no columns"),
    ("admin:region_code", "admin columns are"),
])
def test_bad_rules_are_refused(text, message):
    with pytest.raises(InvalidRequest, match=message):
        parse_rule(text)


def test_declared_rule_must_name_real_columns():
    with pytest.raises(InvalidRequest, match=r"missing column.*receptor_id"):
        resolve_rule(["station_id"], parse_rule("station:receptor_id"), "gold.x")


STATIONS = StationIndex(pa.table({"station_id": ["A", "B", "C"], "province_code": ["110000", "130000", None],
                                  "city_code": ["110100", "130100", None], "county_code": ["110101", None, None]}), 3)


def test_station_rule_places_rows_through_the_registry():
    t = pa.table({"station_id": ["A", "B", "C", "unknown", None], "v": [1, 2, 3, 4, 5]})
    assert row_codes(t, RowRule("station", ("station_id",)), STATIONS).to_pylist() == ["110101", "130100", None, None, None]
    assert filter_rows(t, RowRule("station", ("station_id",)), parse_area("province", "110000"), STATIONS)["v"].to_pylist() == [1]
    assert filter_rows(t, RowRule("station", ("station_id",)), parse_area("nation", None), STATIONS).num_rows == 5
    assert filter_rows(t, RowRule("station", ("station_id",)), parse_area("province", "110000"), None).num_rows == 0


def test_entity_rule_mixes_regions_stations_and_unplaceable_kinds():
    t = pa.table({"entity_kind": ["region", "station", "hex_r7", "total", "province", "county", None],
                  "entity_id": ["130100", "A", "608819", "all", "110000", "130102", "110101"]})
    rule = RowRule("entity", ("entity_kind", "entity_id"))
    assert row_codes(t, rule, STATIONS).to_pylist() == ["130100", "110101", None, None, "110000", "130102", None]
    assert filter_rows(t, rule, parse_area("city", "130100"), STATIONS)["entity_id"].to_pylist() == ["130100", "130102"]


def test_admin_rule_uses_the_finest_known_code():
    t = pa.table({"province_code": ["110000", "110000", None], "city_code": ["110100", None, None],
                  "county_code": ["110105", None, None]})
    rule = resolve_rule(t.column_names, None, "t")
    assert row_codes(t, rule, None).to_pylist() == ["110105", "110000", None]
    assert filter_rows(t, rule, parse_area("city", "110100"), None).num_rows == 1
    assert filter_rows(t, rule, parse_area("province", "110000"), None).num_rows == 2


# ------------------------------------------------------------------------------ share file
def test_repo_share_file_names_registered_tables_and_places_all_but_hex():
    from smartmon import catalog

    cfg = load_shares(DEFAULT_SHARES_FILE)
    for share in cfg.shares:
        for t in share.tables:
            spec = catalog.get(t.fqn)
            rule = resolve_rule(spec.column_names, t.rule, t.fqn)
            assert rule.national_only == (t.fqn == "gold.hex_daily"), (t.fqn, rule)


@pytest.mark.parametrize(("yaml_text", "message"), [
    ("shares: []", "at least one share"),
    ("shares: [{name: a, tables: [platinum.x]}]", "not layer.table"),
    ("shares: [{name: a, tables: [{table: gold.x, rows: everywhere}]}]", "unknown row rule"),
    ("shares: [{name: a, tables: [gold.x, gold.x]}]", "listed twice"),
    ("shares: [{name: A-1, tables: [gold.x]}]", "must be lower-case"),
    ("shares: [{name: a, tables: [gold.x]}, {name: a, tables: [gold.y]}]", "defined twice"),
    ("shares: [{name: a", "not valid YAML"),
])
def test_bad_share_files_are_refused_naming_the_entry(tmp_path: Path, yaml_text, message):
    p = tmp_path / "shares.yaml"
    p.write_text(yaml_text)
    with pytest.raises(InvalidRequest, match=message):
        load_shares(p)


# ------------------------------------------------------------------------------ tokens
def test_tokens_are_stored_only_as_hashes_and_checked(tmp_path: Path):
    store = RecipientStore(tmp_path)
    r, token = store.add("hebei", parse_area("province", "130000"), ["smartmon"], expires_days=1)
    assert len(token) >= 40 and r.token_sha256 == hash_token(token) and len(r.token_sha256) == 64
    text = (tmp_path / "recipients.json").read_text()
    assert token not in text and json.loads(text)["recipients"][0]["token_sha256"] == hash_token(token)
    assert store.authenticate(token).name == "hebei"
    with pytest.raises(Unauthenticated, match="not recognised"):
        store.authenticate(token + "x")
    with pytest.raises(Unauthenticated, match="missing bearer token"):
        store.authenticate(None)
    with pytest.raises(Unauthenticated, match="expired"):
        store.authenticate(token, now=utcnow() + timedelta(days=2))
    with pytest.raises(InvalidRequest, match="exists"):
        store.add("hebei", parse_area("province", "130000"), ["smartmon"])
    _, new = store.rotate("hebei")
    with pytest.raises(Unauthenticated):
        store.authenticate(token)
    assert RecipientStore(tmp_path).authenticate(new).name == "hebei"  # another process sees the rotation
    store.revoke("hebei")
    with pytest.raises(Unauthenticated, match="revoked"):
        RecipientStore(tmp_path).authenticate(new)
    with pytest.raises(PermissionDenied):
        store.get_active("hebei")
    with pytest.raises(InvalidRequest, match="recipient name"):
        store.add("Bad Name", parse_area("nation", None), ["smartmon"])


def test_signed_urls_cover_path_recipient_and_expiry():
    signer = UrlSigner(b"k" * 32, ttl_seconds=60)
    url = signer.sign("http://h:1/", "_sharing/cache/gold.t/province-110000/abc.parquet", "beijing", now=1000.0)
    assert url.startswith("http://h:1/files/_sharing/cache/gold.t/province-110000/abc.parquet?r=beijing&expires=1060&sig=")
    sig = url.rsplit("sig=", 1)[1]
    signer.verify("_sharing/cache/gold.t/province-110000/abc.parquet", "beijing", "1060", sig, now=1059.0)
    for path, who, exp, now, message in [
        ("_sharing/cache/gold.t/province-120000/abc.parquet", "beijing", "1060", 1000.0, "does not match"),
        ("_sharing/cache/gold.t/province-110000/abc.parquet", "tianjin", "1060", 1000.0, "does not match"),
        ("_sharing/cache/gold.t/province-110000/abc.parquet", "beijing", "9999", 1000.0, "does not match"),
        ("_sharing/cache/gold.t/province-110000/abc.parquet", "beijing", "1060", 1061.0, "expired"),
        ("_sharing/cache/gold.t/province-110000/abc.parquet", "beijing", "soon", 1000.0, "expires"),
    ]:
        with pytest.raises(PermissionDenied, match=message):
            signer.verify(path, who, exp, sig, now=now)
    with pytest.raises(PermissionDenied, match="does not match"):
        UrlSigner(b"x" * 32).verify("_sharing/cache/gold.t/province-110000/abc.parquet", "beijing", "1060", sig, now=1000.0)
