"""Silver tables of the external sources: pollution sources and their emissions, electricity and
energy use, hydrology, land use and statistics. Same rules as every silver table: UTC instants,
units converted once, lineage, MERGE on the keys."""

from smartmon.catalog.spec import LINEAGE, Col, TableSpec, register

_H3 = (Col("h3_r5", "bigint", "H3 cell, resolution 5"), Col("h3_r7", "bigint", "H3 cell, resolution 7"),
       Col("h3_r9", "bigint", "H3 cell, resolution 9"))
_ADMIN = (Col("province_code", "string", "GB/T 2260 province code"), Col("city_code", "string", "GB/T 2260 prefecture code"),
          Col("county_code", "string", "GB/T 2260 county code, as the registry gave it"))


def _silver(name: str, description: str, keys: tuple[str, ...], *cols: Col, partition_by: tuple[str, ...] = ()) -> TableSpec:
    return register(TableSpec(layer="silver", name=name, description=description, columns=(*cols, *LINEAGE), keys=keys,
                              partition_by=partition_by))


EMISSION_SOURCES = _silver(
    "emission_sources",
    "The pollution-source registry: every enterprise with its sector, capacity, HJ 212 data logger "
    "(MN), position, admin codes and H3 cells; water dischargers name their receiving section.",
    ("source_id",),
    Col("source_id", "string", "enterprise code", False), Col("name", "string", "enterprise name"),
    Col("sector", "string", "power | steel | cement | coking | chemical | wastewater | paper"),
    Col("mn", "string", "HJ 212 data logger id; joins silver.hj212_values"),
    Col("st", "string", "HJ 212 system type: 31 air source, 32 water source"),
    Col("capacity", "double", "production capacity in capacity_unit"), Col("capacity_unit", "string", "MW, t/h, m3/h"),
    *_ADMIN, Col("lat", "double", "WGS84"), Col("lon", "double", "WGS84"), *_H3,
    Col("receiving_section", "string", "silver.river_sections id the wastewater reaches (water sources)"),
)

SOURCE_EMISSIONS = _silver(
    "source_emissions",
    "Hourly emissions of registered pollution sources from their HJ 212 hourly data (CN 2061): the "
    "amount emitted (Cou) and the mean concentration (Avg) per pollutant. Frames from loggers that "
    "are not in silver.emission_sources stay in silver.hj212_values only.",
    ("source_id", "ts", "pollutant"),
    Col("source_id", "string", "silver.emission_sources key", False),
    Col("ts", "timestamp", "start of the hour (HJ 212 DataTime), UTC", False),
    Col("month", "string", "yyyy-MM of ts in Beijing time (partition)", False),
    Col("pollutant", "string", "so2 | nox | smoke_dust | cod | nh3n | tp | flue_gas | wastewater_flow", False),
    Col("amount", "double", "emitted in the hour: kg (pollutants), m3 (flows)"),
    Col("amount_unit", "string", "kg | m3"),
    Col("mean_concentration", "double", "hour mean: mg/m3 (air), mg/L (water), m3/h (flows)"),
    Col("data_flag", "string", "the logger's flag for the value (N normal, F stopped, ...)"),
    Col("mn", "string", "data logger"), Col("sector", "string", "the source's sector"),
    partition_by=("month",),
)

POWER_USE = _silver(
    "power_use",
    "Daily electricity use in kWh: per enterprise account and per county and sector.",
    ("consumer_id", "date"),
    Col("consumer_id", "string", "enterprise code, or county:<code>:<sector>", False),
    Col("date", "date", "day, Beijing time", False),
    Col("consumer_kind", "string", "enterprise | county-sector"),
    Col("source_id", "string", "silver.emission_sources key for enterprise accounts"),
    Col("county_code", "string", "GB/T 2260 county code"), Col("sector", "string", "the exporter's sector"),
    Col("kwh", "double", "kWh (county totals arrive in 10^4 kWh)"), Col("source_unit", "string", "unit as sent"),
)

ENERGY_USE = _silver(
    "energy_use",
    "Monthly fuel use per enterprise, in the fuel's unit (coal t, natural gas 10^4 m3).",
    ("source_id", "month", "fuel"),
    Col("source_id", "string", "enterprise code", False), Col("month", "string", "yyyy-MM", False),
    Col("fuel", "string", "coal | natural_gas | ...", False), Col("amount", "double", "in unit"), Col("unit", "string", "t | 10^4 m3"),
    Col("days_covered", "int", "days of the month the figure covers"),
)

RIVER_SECTIONS = _silver(
    "river_sections",
    "River monitoring sections and the network they form: each section names the next one downstream.",
    ("section_id",),
    Col("section_id", "string", "section code", False), Col("name", "string", "section name"),
    Col("river", "string", "river id"), Col("seq", "int", "position along the river, 1 = most upstream"),
    Col("downstream_id", "string", "next section downstream; null at the outlet"),
    *_ADMIN, Col("lat", "double", "WGS84"), Col("lon", "double", "WGS84"), *_H3,
    Col("target_class", "string", "GB 3838 class the section must meet"),
)

SECTION_FLOW = _silver(
    "section_flow", "Daily mean flow and stage per river section.", ("section_id", "date"),
    Col("section_id", "string", "silver.river_sections key", False), Col("date", "date", "day, Beijing time", False),
    Col("flow_m3s", "double", "mean flow, m3/s"), Col("stage_m", "double", "mean water level, m"),
)

LAND_USE = _silver(
    "land_use", "Land-cover shares per H3 resolution-6 cell and year (shares sum to 1).", ("h3_r6", "year"),
    Col("h3_r6", "bigint", "H3 cell, resolution 6", False), Col("year", "int", "reference year", False),
    *(Col(n, "double", f"share of {n.replace('_', '-')} land, 0..1") for n in ("cropland", "forest", "grassland", "water", "built_up", "unused")),
)

COUNTY_STATS = _silver(
    "county_stats", "County yearbook figures.", ("county_code", "year"),
    Col("county_code", "string", "GB/T 2260 county code", False), Col("year", "int", "statistical year", False),
    Col("county_name", "string", "as published"), Col("gdp_1e8_yuan", "double", "regional GDP, 10^8 yuan"),
    Col("population_1e4", "double", "resident population, 10^4 people"),
)
