"""Gold: products for managers and downstream platforms."""

from smartmon.catalog import Col, TableSpec, register

PIPELINE_RUNS = register(
    TableSpec(
        layer="gold",
        name="pipeline_runs",
        description="Every task of every pipeline run: when, rows in and out, status and error.",
        columns=(
            Col("run_id", "string", "one id per `smartmon nightly` invocation and date", False),
            Col("run_date", "date", "the date the run was for"),
            Col("task", "string", "task name in the DAG", False),
            Col("attempt", "int", "1 for the first try; retries count up"),
            Col("started_at", "timestamp", "UTC"),
            Col("ended_at", "timestamp", "UTC"),
            Col("rows_in", "bigint", "rows the task read"),
            Col("rows_out", "bigint", "rows the task wrote (Delta operation metrics)"),
            Col("status", "string", "ok | failed | retried | skipped"),
            Col("error", "string", "first line of the error, when failed"),
        ),
        keys=("run_id", "task", "attempt"),
    )
)

AQI_HOURLY = register(
    TableSpec(
        layer="gold",
        name="aqi_hourly",
        description="Real-time (hourly) AQI per station by HJ 633, every IAQI, primary pollutant(s), "
        "category and colour. The rule set follows the observation date (HJ 633-2012 before "
        "2026-03-01, HJ 633-2026 from then) unless the job was run with a pinned rule set.",
        columns=(
            Col("station_id", "string", "silver.stations key", False),
            Col("ts", "timestamp", "end of the averaging hour, UTC", False),
            Col("rule_set", "string", "HJ633-2012 | HJ633-2026", False),
            Col("month", "string", "yyyy-MM in Beijing time (partition)", False),
            Col("aqi", "int", "AQI (null when no pollutant, or 2026 rule 5.3 withholds it)"),
            Col("primary_pollutant", "string", "pollutant(s) whose IAQI equals the AQI when AQI > 50, comma-separated"),
            Col("level", "int", "1..6"),
            Col("category", "string", "优 良 轻度污染 中度污染 重度污染 严重污染"),
            Col("colour", "string", "category colour, #RRGGBB"),
            Col("iaqi_so2", "int", "SO2 1 h IAQI"),
            Col("iaqi_no2", "int", "NO2 1 h IAQI"),
            Col("iaqi_co", "int", "CO 1 h IAQI"),
            Col("iaqi_o3", "int", "O3 1 h IAQI"),
            Col("iaqi_pm10", "int", "PM10 IAQI (24 h table)"),
            Col("iaqi_pm25", "int", "PM2.5 IAQI (24 h table)"),
            Col("n_pollutants", "int", "pollutants with a valid value"),
            Col("n_excluded", "int", "values left out because an ERROR QC flag covers them (silver.qc_flags)"),
        ),
        keys=("station_id", "ts", "rule_set"),
        partition_by=("month",),
    )
)

QC_SCREENING = register(
    TableSpec(
        layer="gold",
        name="qc_screening",
        description="Falsification screening: one row per station and Beijing day with an anomaly "
        "score for patterns typical of interference (drop against the neighbours, flat line, "
        "broken diurnal shape), ranked for review (rank 1 = most suspicious).",
        columns=(
            Col("station_id", "string", "silver.stations key", False),
            Col("day", "date", "Beijing date", False),
            Col("month", "string", "yyyy-MM (partition)", False),
            Col("score", "double", "max of the component scores; >= 1 is worth a look"),
            Col("rank", "int", "1 = most suspicious station-day of the screened window"),
            Col("reason", "string", "drop | flat | shape: the component that gave the score"),
            Col("drop_score", "double", "lowest 3 h mean robust z against neighbours / 4 (0 if none below 0)"),
            Col("flat_score", "double", "longest unchanged run in hours / 8"),
            Col("shape_score", "double", "(usual - today's correlation with the neighbours' course) / 0.6"),
            Col("n_hours", "int", "hours with a value and enough neighbours"),
            Col("parameter", "string", "parameter screened (pm25)"),
            Col("rule_version", "string", "QC rule book version"),
        ),
        keys=("station_id", "day"),
        partition_by=("month",),
    )
)
