"""Bronze tables of the sub-national tiers and external sources (the feeds `smartmon simulate`
writes where no public data exists): raw text as sent, one row per line, lineage on every row."""

from smartmon.catalog.bronze import _bronze
from smartmon.catalog.spec import Col

_LAYOUT = Col("layout", "string", "which of the source's file layouts the line came from")
_FIELDS = Col("fields", "map<string,string>", "original header -> value text (empty values left out)")

STATION_LISTS = _bronze(
    "station_lists", "Station lists the provincial, county and township tiers publish, one row per line.",
    Col("layout", "string", "provincial (GBK, Chinese headers) | county-township"), _FIELDS,
)
PROVINCIAL_AIR = _bronze(
    "provincial_air", "Provincial platforms' hourly air exports (GBK CSV, Chinese headers), one row per line.",
    Col("station_code", "string", "站点编码"), Col("time", "string", "监测时间, Beijing time, end of the hour, e.g. 2019/1/5 13:00"),
    *(Col(n, "string", d) for n, d in [("pm25", "ug/m3"), ("pm10", "ug/m3"), ("so2", "ug/m3"), ("no2", "ug/m3"),
                                       ("co", "mg/m3"), ("o3", "ug/m3")]),
)
COUNTY_AIR = _bronze(
    "county_air", "County micro-stations' hourly exports (UTF-8 CSV), one row per line.",
    Col("station_code", "string", "station code"), Col("time_start", "string", "ISO 8601 with offset, START of the hour"),
    *(Col(n, "string", d) for n, d in [("pm25", "ug/m3"), ("pm10", "ug/m3"), ("so2", "ug/m3"), ("no2", "ug/m3"),
                                       ("co_ugm3", "ug/m3 (converted to mg/m3 in silver)"), ("o3", "ug/m3")]),
)
TOWNSHIP_SENSORS = _bronze(
    "township_sensors", "Township low-cost sensors (JSON lines), one row per line.",
    Col("device", "string", "device id"), Col("ts", "string", "epoch seconds, UTC, end of the hour"),
    *(Col(n, "string", d) for n, d in [("pm25", "ug/m3"), ("pm10", "ug/m3"), ("so2_ppb", "ppb"), ("no2_ppb", "ppb"),
                                       ("co_ppm", "ppm"), ("o3_ppb", "ppb")]),
    Col("other", "map<string,string>", "keys the feed sent beyond the known ones"),
)
ENTERPRISES = _bronze("enterprises", "The pollution-source registry's enterprise list, one row per line.", _LAYOUT, _FIELDS)
POWER_USE = _bronze(
    "power_use", "The grid company's exports: daily kWh per enterprise account, daily county totals by sector.",
    Col("layout", "string", "enterprise-daily (kWh) | county-daily (10^4 kWh)"), _FIELDS,
)
ENERGY_USE = _bronze("energy_use", "Enterprises' monthly fuel use, one row per line.", _LAYOUT, _FIELDS)
HYDROLOGY = _bronze(
    "hydrology", "River sections and their daily mean flow, one row per line.",
    Col("layout", "string", "sections | daily-flow"), _FIELDS,
)
LAND_USE = _bronze("land_use", "Land-cover shares per H3 resolution-6 cell and year, one row per line.", _LAYOUT, _FIELDS)
STATISTICS = _bronze("statistics", "County yearbook figures (GDP, resident population), one row per line.", _LAYOUT, _FIELDS)
