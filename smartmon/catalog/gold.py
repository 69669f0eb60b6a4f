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
