"""Bronze: raw records as sources sent them, append-only, lineage on every row."""

from smartmon.catalog.spec import LINEAGE, Col, TableSpec, register

QUARANTINE = register(
    TableSpec(
        layer="bronze",
        name="quarantine",
        description="Every record that could not be accepted, with its raw payload and the reason. "
        "Nothing a source sends is lost: records read = records accepted + records here.",
        columns=(
            Col("record_id", "string", "sha-256 of source, file, line and payload: the natural key", False),
            Col("reason", "string", "why the record was refused, naming the field or check", False),
            Col("raw_payload", "string", "the record exactly as received (text; bytes are latin-1 decoded)"),
            Col("stage", "string", "where it was refused: bronze adapter, silver conformance, registry"),
            *LINEAGE,
        ),
        keys=("record_id",),
        partition_by=("source",),
    )
)

INGEST_BATCHES = register(
    TableSpec(
        layer="bronze",
        name="ingest_batches",
        description="One row per landing file per ingest: the file manifest (size, SHA-256), the "
        "reconciliation (read = accepted + quarantined) and the Delta versions written.",
        columns=(
            Col("batch_id", "string", "ingest batch id", False),
            Col("source", "string", "source adapter", False),
            Col("source_file", "string", "landing file path", False),
            Col("file_sha256", "string", "SHA-256 of the file bytes", False),
            Col("file_size", "bigint", "bytes"),
            Col("records_read", "bigint", "records the adapter read from the file"),
            Col("records_accepted", "bigint", "records written to the bronze table"),
            Col("records_quarantined", "bigint", "records written to bronze.quarantine"),
            Col("bronze_table", "string", "bronze table the accepted records went to"),
            Col("delta_versions", "string", "JSON: table -> Delta version written by this batch"),
            Col("status", "string", "ingested | empty (no record: an empty or header-only file) | duplicate (same bytes "
                "seen before) | refused (no adapter of the source reads it: quarantined whole)"),
            Col("ingested_at", "timestamp", "UTC"),
            Col("file_order", "int", "the file's place in its batch: a batch's files are read in the order they "
                "arrived (modification time, then path), so of two deliveries of a value in one batch the later file's wins"),
        ),
        # the path is part of the key: a duplicate (same bytes, other path) gets its own row
        # instead of overwriting the manifest of the file it repeats
        keys=("source", "source_file", "file_sha256"),
    )
)


def _bronze(name: str, description: str, *cols: Col) -> TableSpec:
    """A source's bronze table: its fields as text, one row per source line, lineage on every row."""
    return register(
        TableSpec(layer="bronze", name=name, description=description, columns=(*cols, *LINEAGE), append_only=True)
    )


CNEMC_HOURLY = _bronze(
    "cnemc_hourly",
    "CNEMC national archive, one row per line of china_sites_YYYYMMDD.csv: date, hour, type and "
    "the station cells of that line (empty cells left out).",
    Col("date", "string", "YYYYMMDD, Beijing time"),
    Col("hour", "string", "0..23; the value at hour h is the mean of the hour ending at h"),
    Col("type", "string", "PM2.5, PM2.5_24h, PM10, ..., AQI (15 types)"),
    Col("cells", "map<string,string>", "station code -> value text, as in the file"),
)

UCI_HOURLY = _bronze(
    "uci_hourly",
    "UCI Beijing Multi-Site (12 national sites, 2013-03..2017-02), one row per line.",
    *(
        Col(n, "string", d)
        for n, d in [
            ("no", "row number in the file"),
            ("year", "Beijing time"), ("month", "Beijing time"), ("day", "Beijing time"), ("hour", "0..23, Beijing time"),
            ("pm25", "ug/m3"), ("pm10", "ug/m3"), ("so2", "ug/m3"), ("no2", "ug/m3"),
            ("co", "ug/m3 (converted to mg/m3 in silver)"), ("o3", "ug/m3"),
            ("temp", "degC"), ("pres", "hPa"), ("dewp", "degC"), ("rain", "mm"),
            ("wd", "16-point compass"), ("wspm", "m/s"), ("station", "UCI site name"),
        ]
    ),
)

KDD_AQ = _bronze(
    "kdd_aq",
    "KDD Cup 2018 Beijing municipal air quality (supplement file and API files), one row per line.",
    Col("layout", "string", "supplement | api-excel | api (the three file layouts)"),
    Col("station_id", "string", "e.g. dongsi_aq"),
    Col("time", "string", "UTC, as written"),
    Col("pm25", "string", "ug/m3"), Col("pm10", "string", "ug/m3"), Col("no2", "string", "ug/m3"),
    Col("co", "string", "mg/m3 (the station sheet says ug/m3; values say mg/m3)"),
    Col("o3", "string", "ug/m3"), Col("so2", "string", "ug/m3"),
)

KDD_MEO = _bronze(
    "kdd_meo",
    "KDD Cup 2018 Beijing observed meteorology and grid data, one row per line.",
    Col("layout", "string", "observed | grid"),
    Col("station_id", "string", "e.g. chaoyang_meo or beijing_grid_000"),
    Col("time", "string", "UTC, as written"),
    Col("weather", "string", "weather description as written"), Col("temperature", "string", "degC"),
    Col("pressure", "string", "hPa"),
    Col("humidity", "string", "%"), Col("wind_speed", "string", "m/s"),
    Col("wind_direction", "string", "degrees; 999017 = calm/no direction"),
)

WATER_AUTO = _bronze(
    "water_auto",
    "Surface-water automatic station exports (Chinese headers), one row per line.",
    Col("layout", "string", "zhejiang-hourly | 4hourly-shifted"),
    Col("station", "string", "station name as written, or the file's station when it has none"),
    Col("time", "string", "as written"),
    Col("fields", "map<string,string>", "original header -> value text"),
)

PMF_SPECIATION = _bronze(
    "pmf_speciation",
    "Speciation feeds in the PMF input layout (EPA PMF5 samples): one row per sample line, "
    "concentration and uncertainty of every species.",
    Col("dataset", "string", "baltimore | stlouis | batonrouge"),
    Col("sample", "string", "sample date/time as written"),
    Col("concentration", "map<string,string>", "species -> concentration text"),
    Col("uncertainty", "map<string,string>", "species -> uncertainty text"),
)

HJ212_FRAMES = _bronze(
    "hj212_frames",
    "HJ 212-2005/2017 frames whose length and CRC verified, one row per frame, fields split "
    "but not interpreted.",
    Col("frame", "string", "the whole frame as received, without CR LF"),
    Col("crc", "string", "the frame's CRC (upper case)"),
    Col("qn", "string", "request number (2017)"), Col("st", "string", "system type"),
    Col("cn", "string", "command number"), Col("mn", "string", "device id"),
    Col("flag", "string", "flag field (2017)"), Col("cp", "string", "CP payload between && and &&"),
)

INGEST_LEDGER = register(
    TableSpec(
        layer="bronze",
        name="ingest_ledger",
        description="Tamper-evident ledger of ingest batches: each entry holds a batch's manifest "
        "(files, sizes, SHA-256, record counts, Delta versions written) and the SHA-256 of the "
        "previous entry, so altering or removing any earlier entry breaks the chain "
        "(`smartmon ledger verify`).",
        columns=(
            Col("seq", "bigint", "1, 2, 3 ... in order of ingest", False),
            Col("batch_id", "string", "bronze.ingest_batches batch", False),
            Col("source", "string", "source adapter", False),
            Col("manifest", "string", "canonical JSON of the batch's manifest rows", False),
            Col("prev_hash", "string", "entry_hash of entry seq-1 (64 zeros for the first)", False),
            Col("entry_hash", "string", "sha256(prev_hash + '\\n' + manifest)", False),
            Col("recorded_at", "timestamp", "UTC"),
        ),
        keys=("seq",),
        append_only=True,
    )
)
