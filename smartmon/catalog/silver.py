"""Silver: conformed tables. One time convention (UTC), units converted once, H3 cells, MERGE on keys."""

from smartmon.catalog.spec import LINEAGE, Col, TableSpec, register

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
            Col("tier", "string", "national | provincial | municipal | county | township; null for "
                "external sources (meteorology stations, grid points)"),
            Col("kind", "string", "air | pm_composition | photochemical | traffic | supersite | "
                "surface_water | pollution_source | meteorology", False),
            Col("network", "string", "publishing network, e.g. cnemc, beijing-municipal, kdd2018"),
            Col("city_name", "string", "city as written by the source"),
            Col("province_code", "string", "GB/T 2260 6-digit province code, e.g. 110000"),
            Col("city_code", "string", "GB/T 2260 6-digit prefecture code, e.g. 110100"),
            Col("county_code", "string", "GB/T 2260 6-digit county code, e.g. 110101"),
            Col("admin_method", "string", "how the codes were found: boundary+name (county outline, city name "
                "agrees) | boundary | boundary-snapped-to-name | name-coordinates-elsewhere | "
                "nearest-seat-fallback (outside every outline) | name (no coordinates) | source (a tier's list)"),
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


_AIR_VALUES = [
    ("so2", "SO2 1 h mean, ug/m3"), ("no2", "NO2 1 h mean, ug/m3"), ("co", "CO 1 h mean, mg/m3"),
    ("o3", "O3 1 h mean, ug/m3"), ("pm10", "PM10 1 h mean, ug/m3"), ("pm25", "PM2.5 1 h mean, ug/m3"),
]
_PUBLISHED = [
    ("pm25_24h", "PM2.5 24 h moving mean as the source published it"),
    ("pm10_24h", "PM10 24 h moving mean as published"), ("so2_24h", "SO2 24 h moving mean as published"),
    ("no2_24h", "NO2 24 h moving mean as published"), ("co_24h", "CO 24 h moving mean as published, mg/m3"),
    ("o3_24h", "O3 maximum 1 h value of the last 24 h as published"),
    ("o3_8h", "O3 8 h moving mean as published"), ("o3_8h_24h", "O3 maximum 8 h mean of the last 24 h as published"),
    ("aqi_published", "real-time AQI as the source published it"),
]

AIR_HOURLY = register(
    TableSpec(
        layer="silver",
        name="air_hourly",
        description="Ambient air, one row per station and hour from every air source: the six "
        "pollutants in standard units (CO mg/m3, others ug/m3) and, where a source publishes "
        "them, its own moving values and AQI. ts is the end of the averaging hour in UTC.",
        columns=(
            Col("station_id", "string", "silver.stations key", False),
            Col("ts", "timestamp", "end of the averaging hour, UTC", False),
            Col("month", "string", "yyyy-MM of ts in Beijing time (partition)", False),
            *(Col(n, "double", d) for n, d in _AIR_VALUES),
            *(Col(n, "double", d) for n, d in _PUBLISHED),
            Col("status", "string", "preliminary | audited"),
            Col("source_unit", "string", "units the source used where they differ (e.g. 'co ug/m3')"),
            *LINEAGE,
        ),
        keys=("station_id", "ts"),
        partition_by=("month",),
    )
)

METEO_HOURLY = register(
    TableSpec(
        layer="silver",
        name="meteo_hourly",
        description="Observed meteorology, one row per station (or grid point) and hour; wind "
        "also as u/v vectors (the direction the wind blows from, meteorological convention).",
        columns=(
            Col("station_id", "string", "silver.stations key", False),
            Col("ts", "timestamp", "observation hour, UTC", False),
            Col("month", "string", "yyyy-MM of ts in Beijing time (partition)", False),
            Col("temp_c", "double", "air temperature, degC"),
            Col("pressure_hpa", "double", "station pressure, hPa"),
            Col("humidity_pct", "double", "relative humidity, %"),
            Col("dewpoint_c", "double", "dew point, degC"),
            Col("rain_mm", "double", "precipitation in the hour, mm"),
            Col("wind_speed_ms", "double", "m/s"),
            Col("wind_dir_deg", "double", "direction the wind comes from, degrees; null when calm"),
            Col("wind_u", "double", "eastward wind component, m/s"),
            Col("wind_v", "double", "northward wind component, m/s"),
            Col("weather", "string", "weather as the source wrote it"),
            *LINEAGE,
        ),
        keys=("station_id", "ts"),
        partition_by=("month",),
    )
)

WATER_OBS = register(
    TableSpec(
        layer="silver",
        name="water_obs",
        description="Surface-water observations, one row per station, time and parameter, mg/L "
        "unless the unit says otherwise. Values are kept as sent: QC flags absurd ones.",
        columns=(
            Col("station_id", "string", "silver.stations key", False),
            Col("ts", "timestamp", "observation time, UTC", False),
            Col("parameter", "string", "water_temp, ph, do, turbidity, conductivity, codmn, nh3n, tp, tn, "
                "quality_class", False),
            Col("value", "double", "the value in unit"),
            Col("unit", "string", "mg/L, degC, NTU, uS/cm, pH, class"),
            Col("value_text", "string", "the value exactly as sent (precision matters to QC)"),
            *LINEAGE,
        ),
        keys=("station_id", "ts", "parameter"),
    )
)

HJ212_VALUES = register(
    TableSpec(
        layer="silver",
        name="hj212_values",
        description="Values carried by HJ 212 frames (ambient, water and pollution-source devices), "
        "one row per device, data time, command, pollutant code and field, with the device's "
        "data flag so QC can trace maintenance and calibration.",
        columns=(
            Col("mn", "string", "device id (MN)", False),
            Col("data_time", "timestamp", "DataTime of the payload, UTC (sent in Beijing time)", False),
            Col("cn", "string", "command: 2011 real-time, 2051 minute, 2061 hour, 2031 day", False),
            Col("st", "string", "system type: 21 surface water, 22 air, 27 VOC, 31/32 sources"),
            Col("code", "string", "pollutant code as sent (a34004, w01018, 2005-style 011 ...)", False),
            Col("parameter", "string", "smartmon parameter name where the code is known"),
            Col("field", "string", "Rtd | Avg | Min | Max | Cou | ZsRtd ...", False),
            Col("value", "double", "numeric value"),
            Col("data_flag", "string", "the code's -Flag (N, F, M, S, D, C, T, B; 2005 codes kept)"),
            Col("crc", "string", "CRC of the frame it came from"),
            Col("qn", "string", "the frame's request number (QN, yyyyMMddHHmmssSSS, when it was sent): of two "
                "frames carrying one value the greater QN wins, whatever order they arrive in"),
            *LINEAGE,
        ),
        keys=("mn", "data_time", "cn", "code", "field"),
    )
)

CONFORMED_BATCHES = register(
    TableSpec(
        layer="silver",
        name="conformed_batches",
        description="Which bronze batches each silver job has conformed. A job takes the ingested "
        "batches not listed here, so a run that failed after ingest is completed by the next.",
        columns=(
            Col("job", "string", "silver table the job writes", False),
            Col("batch_id", "string", "bronze batch", False),
            Col("conformed_at", "timestamp", "UTC"),
        ),
        keys=("job", "batch_id"),
    )
)

SPECIATION = register(
    TableSpec(
        layer="silver",
        name="speciation",
        description="PM-composition and photochemical (VOC) samples in the PMF layout: one row per "
        "sample and species with its uncertainty. The EPA PMF5 example sites keep their US origin "
        "(network us-epa-pmf5); sample times are the site's local time as published.",
        columns=(
            Col("station_id", "string", "silver.stations key, e.g. EPA-batonrouge", False),
            Col("dataset", "string", "feed name", False),
            Col("sample_time", "timestamp", "sample start, local time at the site (no zone given)", False),
            Col("species", "string", "species as named by the feed", False),
            Col("concentration", "double", "ug/m3 (PM) or ppbC (VOC) as published"),
            Col("uncertainty", "double", "same unit"),
            *LINEAGE,
        ),
        keys=("station_id", "sample_time", "species"),
    )
)

QC_FLAGS = register(
    TableSpec(
        layer="silver",
        name="qc_flags",
        description="Quality-control flags beside the data, never over it: one row per station, "
        "parameter, time range and rule. Gold excludes values under an ERROR flag (unless an "
        "auditor marked them valid) and counts them.",
        columns=(
            Col("station_id", "string", "silver.stations key, or the HJ 212 device MN", False),
            Col("parameter", "string", "pm25, no2, nh3n ... ('*' for every parameter of the station)", False),
            Col("ts_from", "timestamp", "first flagged hour or observation time, UTC", False),
            Col("ts_to", "timestamp", "last flagged hour or observation time, UTC (inclusive)", False),
            Col("month", "string", "yyyy-MM of ts_from in Beijing time (partition)", False),
            Col("rule", "string", "range, constant, spike, pm_ratio, pm_low_ratio, spatial_outlier, spatial_drop, "
                "spatial_offset, device_flag, impossible, ph, do_saturation, precision, screening, manual_audit", False),
            Col("rule_version", "string", "version of smartmon/qc/rules.yaml that raised the flag", False),
            Col("level", "string", "INFO | WARNING | ERROR", False),
            Col("detail", "string", "what was seen, with the numbers"),
            Col("source_table", "string", "the table whose values the flag is about"),
        ),
        keys=("station_id", "parameter", "ts_from", "rule"),
        partition_by=("month",),
    )
)

AUDIT_LOG = register(
    TableSpec(
        layer="silver",
        name="audit_log",
        description="Manual audit decisions (smartmon audit mark|unmark), append-only: who decided "
        "what about a station, parameter and time range, and why. The latest event per range wins.",
        columns=(
            Col("event_id", "string", "sha-256 of the event", False),
            Col("action", "string", "mark | unmark", False),
            Col("station_id", "string", "silver.stations key", False),
            Col("parameter", "string", "parameter, or '*' for all", False),
            Col("ts_from", "timestamp", "UTC", False),
            Col("ts_to", "timestamp", "UTC, inclusive", False),
            Col("verdict", "string", "invalid (excluded from gold) | valid (confirmed, overrides automatic flags)"),
            Col("reason", "string", "why, in the auditor's words", False),
            Col("auditor", "string", "who decided", False),
            Col("recorded_at", "timestamp", "UTC", False),
        ),
        keys=("event_id",),
        append_only=True,
    )
)

CHANGED_DAYS = register(
    TableSpec(
        layer="silver",
        name="changed_days",
        description="The Beijing days each writer of the air chain changed, one row per table, day "
        "and run: what the day-scoped jobs downstream read to know their work (smartmon/changes.py). "
        "Row tracking gives each row the version that committed it.",
        columns=(
            Col("table", "string", "the table whose rows of that day changed", False),
            Col("day", "date", "Beijing day (the hour ending 00:00 belongs to the day before)", False),
            Col("run_id", "string", "the run that changed it"),
            Col("noted_at", "timestamp", "UTC", False),
        ),
        keys=("table", "day", "run_id"),
        append_only=True,
        extra_properties={"delta.enableRowTracking": "true"},
    )
)

CHANGE_MARKS = register(
    TableSpec(
        layer="silver",
        name="change_marks",
        description="How far each day-scoped consumer has read silver.changed_days, appended after "
        "each run that built its days: its greatest version is the mark. A consumer without a mark "
        "(first run, new QC rule book) builds every day of its input.",
        columns=(
            Col("consumer", "string", "job (and rule version) that consumed the changes", False),
            Col("version", "bigint", "silver.changed_days version read", False),
            Col("days", "bigint", "days built by that run"),
            Col("updated_at", "timestamp", "UTC"),
        ),
        keys=("consumer", "version"),
        append_only=True,
    )
)

VALUE_CORRECTIONS = register(
    TableSpec(
        layer="silver",
        name="value_corrections",
        description="Every value a later delivery replaced: the old value and the new one, each with "
        "the file and line it came from. Silver keeps values, not rows: a delivery changes only the "
        "values it carries and the latest wins, and what it replaced stays here (`smartmon trace` "
        "shows it). An audited value that a delivery changes goes back to preliminary; old_status says so.",
        columns=(
            Col("table_name", "string", "the silver table, e.g. silver.air_hourly", False),
            Col("station_id", "string", "silver.stations key", False),
            Col("ts", "timestamp", "the row's time, UTC", False),
            Col("month", "string", "yyyy-MM of ts in Beijing time (partition)", False),
            Col("column", "string", "the value's column, e.g. pm25", False),
            Col("old_value", "double", "the value before the delivery"),
            Col("new_value", "double", "the value the delivery carried"),
            Col("old_status", "string", "the row's status before: preliminary | audited"),
            Col("old_source_file", "string", "where the old value's row came from"),
            Col("old_source_line", "bigint", "its line"),
            Col("old_batch_id", "string", "its ingest batch"),
            Col("new_source_file", "string", "the correcting delivery's file"),
            Col("new_source_line", "bigint", "its line"),
            Col("new_batch_id", "string", "its ingest batch", False),
            Col("corrected_at", "timestamp", "UTC time the correction was conformed"),
        ),
        keys=("table_name", "station_id", "ts", "column", "new_batch_id"),
        partition_by=("month",),
    )
)

DEVICES = register(
    TableSpec(
        layer="silver",
        name="devices",
        description="The HJ 212 device registry: which data loggers (MN) may send to the receiver, "
        "with their access password (PW), the station or enterprise they measure for, and the "
        "protocol version they speak. The receiver reads it with delta-rs (no Spark) and refuses, "
        "unanswered and quarantined, a frame from an MN not here, inactive, or with another PW. "
        "Filled by `smartmon devices add` and `smartmon devices sync` (enterprise loggers).",
        columns=(
            Col("mn", "string", "device id (MN) as the logger sends it", False),
            Col("pw", "string", "access password (PW) the logger must send; a secret: share the table with care", False),
            Col("station_id", "string", "silver.stations key, for an ambient station's logger"),
            Col("source_id", "string", "silver.emission_sources key (enterprise code), for a pollution source's logger"),
            Col("st", "string", "system type the logger sends (22 air, 21 surface water, 31/32 sources ...)"),
            Col("protocol", "string", "2005 | 2017: the version its frames must carry; null accepts either"),
            Col("active", "boolean", "false: refused like an unknown device (kept for the record)", False),
            Col("note", "string", "who registered it and why"),
            Col("updated_at", "timestamp", "UTC time of the last change"),
            *LINEAGE,
        ),
        keys=("mn",),
    )
)
