"""Silver: conformed tables. One time convention (UTC), units converted once, H3 cells, MERGE on keys."""

from smartmon.catalog import LINEAGE, Col, TableSpec, register

TIERS = ("national", "provincial", "municipal", "county", "township")
KINDS = (
    "air",
    "pm_composition",
    "photochemical",
    "traffic",
    "supersite",
    "surface_water",
    "pollution_source",
    "meteorology",
)

STATIONS = register(
    TableSpec(
        layer="silver",
        name="stations",
        description="The national station registry: every monitoring station of every tier and kind, "
        "with GB/T 2260 admin codes and H3 cells. Other tables join to it by station_id.",
        columns=(
            Col("station_id", "string", "CNEMC code for national sites (e.g. 1001A); source id otherwise", False),
            Col("name", "string", "station name as published"),
            Col("former_names", "array<string>", "other names the same code was published under"),
            Col("tier", "string", "national | provincial | municipal | county | township", False),
            Col("kind", "string", "air | pm_composition | photochemical | traffic | supersite | "
                "surface_water | pollution_source | meteorology", False),
            Col("network", "string", "publishing network, e.g. cnemc, beijing-municipal, kdd2018"),
            Col("city_name", "string", "city as written by the source"),
            Col("province_code", "string", "GB/T 2260 6-digit province code, e.g. 110000"),
            Col("city_code", "string", "GB/T 2260 6-digit prefecture code, e.g. 110100"),
            Col("county_code", "string", "GB/T 2260 6-digit county code, e.g. 110101"),
            Col("admin_method", "string", "how the codes were found: name | name+nearest-seat | nearest-seat"),
            Col("lat", "double", "WGS84 latitude as published"),
            Col("lon", "double", "WGS84 longitude as published"),
            Col("h3_r5", "bigint", "H3 cell, resolution 5"),
            Col("h3_r7", "bigint", "H3 cell, resolution 7"),
            Col("h3_r9", "bigint", "H3 cell, resolution 9"),
            Col("same_site_as", "string", "station_id of the same physical site in another network"),
            Col("station_class", "string", "source's own class, e.g. Urban Stations"),
            *LINEAGE,
        ),
        keys=("station_id",),
    )
)

STATION_ALIASES = register(
    TableSpec(
        layer="silver",
        name="station_aliases",
        description="How a source's own station names map to station_id (e.g. the UCI site "
        "'Dongsi' is national station 1003A), with the method and its evidence.",
        columns=(
            Col("source", "string", "source adapter", False),
            Col("source_station", "string", "the name or id the source uses", False),
            Col("station_id", "string", "the registry station", False),
            Col("method", "string", "how the match was made"),
            Col("distance_km", "double", "distance between the two published positions, where both exist"),
        ),
        keys=("source", "source_station"),
    )
)
