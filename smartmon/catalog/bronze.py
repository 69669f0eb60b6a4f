"""Bronze: raw records as sources sent them, append-only, lineage on every row."""

from smartmon.catalog import LINEAGE, Col, TableSpec, register

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
            Col("status", "string", "ingested | duplicate (same bytes seen before) | failed"),
            Col("ingested_at", "timestamp", "UTC"),
        ),
        keys=("source", "file_sha256"),
    )
)
