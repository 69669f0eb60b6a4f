"""smartmon nightly as an Airflow 3 DAG: `smartmon nightly --date D` at 02:30 Beijing time, then a
check that the run was recorded and no task failed (`smartmon status --date D`).

Install: copy this file into the Airflow dags folder. The tasks run `smartmon` on the worker, so
the worker needs smartmon set up (a checkout with `make setup`, or the smartmon image as the
worker image) and the cluster settings in its environment (infra/profiles/cluster.yaml reads
SPARK_MASTER, SMARTMON_LAKE, SMARTMON_LANDING, MLFLOW_TRACKING_URI, RAY_ADDRESS, S3_ENDPOINT,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; also SMARTMON_DATA). Two Airflow Variables, both
optional, are read when a task runs (never when the file is parsed):
    smartmon_bin      path of the smartmon executable (default: `smartmon` on PATH)
    smartmon_profile  profile name or file (default: cluster)

The day processed, D, is the Beijing date of the day before the run's scheduled time (the
standards' day boundary is Beijing midnight). Airflow's own `{{ ds }}` is the logical date in UTC:
at 02:30 Beijing it happens to be the previous day, but a run triggered by hand after 08:00
Beijing would get today's date, so the date is computed in Beijing time from the data interval.
A manual run can name the day: trigger with conf {"date": "YYYY-MM-DD"} (a backfill).

This module only builds the DAG: no connections, Variables, files or environment are read at
import, so the scheduler's parsing is cheap and side-effect free.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, CronTriggerTimetable, Param

BEIJING = "Asia/Shanghai"

# The Beijing day to process: conf/params "date" when given, else the start of the data interval
# (= the scheduled time minus one day, see the timetable) in Beijing time.
RUN_DATE = (
    "{{ params.date if params.date else "
    "data_interval_start.in_timezone('" + BEIJING + "').strftime('%Y-%m-%d') }}"
)
SMARTMON = "{{ var.value.get('smartmon_bin', 'smartmon') }}"
ENV = {"SMARTMON_PROFILE": "{{ var.value.get('smartmon_profile', 'cluster') }}"}

with DAG(
    dag_id="smartmon_nightly",
    description="smartmon nightly mining run: station registry, ingest, silver, QC, gold, features, forecasts, maintenance",
    # 02:30 Beijing; the one-day interval makes data_interval_start the same time the day before.
    schedule=CronTriggerTimetable("30 2 * * *", timezone=BEIJING, interval=timedelta(days=1)),
    start_date=pendulum.datetime(2026, 1, 1, tz=BEIJING),
    # Missed nights are not replayed one by one: the next run's ingest picks up every landing file
    # not yet seen; a specific day is rerun by triggering with conf {"date": ...}.
    catchup=False,
    # Two nightlies must never write the lake at once.
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=10),
    params={
        "date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Beijing day to process (YYYY-MM-DD); empty = the day before the scheduled time",
        )
    },
    default_args={
        "owner": "smartmon",
        # The nightly is idempotent (MERGE on keys, idempotent appends), so a whole-run retry is
        # safe; it already retries single tasks, so retries here are for infrastructure (a lost
        # worker, the object store or the Ray/MLflow service briefly away): 10, 20, 40 min.
        "retries": 3,
        "retry_delay": timedelta(minutes=10),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(hours=1),
    },
    tags=["smartmon"],
    doc_md=__doc__,
) as dag:
    nightly = BashOperator(
        task_id="nightly",
        bash_command=f'{SMARTMON} nightly --date "{RUN_DATE}"',
        env=ENV,
        append_env=True,
        # Longer than a normal night, shorter than the gap to the next run.
        execution_timeout=timedelta(hours=8),
    )

    # `smartmon status --date D` exits 1 when the latest run for D has a failed task and 3 when no
    # run for D was recorded (the lake was not written): either fails this task.
    status = BashOperator(
        task_id="status",
        bash_command=f'{SMARTMON} status --date "{RUN_DATE}" --limit 200',
        env=ENV,
        append_env=True,
        retries=1,
        execution_timeout=timedelta(minutes=30),
    )

    nightly >> status
