"""The DAG runner on the real lake: a transient failure is retried and recorded."""

from datetime import date

from pipelines.dag import RunContext, Task, run_dag
from smartmon.errors import ConcurrentCommitError


def test_transient_failure_is_retried_and_every_attempt_recorded(lake, capsys):
    calls = {"n": 0}

    def flaky(ctx):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConcurrentCommitError("injected: another writer committed first")
        return {"rows_in": 7}

    def broken(ctx):
        raise ValueError("injected permanent failure")

    tasks = [Task("flaky", flaky), Task("after", lambda ctx: {}, ("flaky",)), Task("broken", broken), Task("downstream", lambda ctx: {}, ("broken",))]
    ctx = RunContext(lake=lake, run_date=date(2019, 1, 31), run_id="test-run-retry")
    outcomes = {o.task: o for o in run_dag(tasks, ctx, base_delay=0.01)}
    assert outcomes["flaky"].status == "ok" and outcomes["flaky"].attempts == 2
    assert outcomes["after"].status == "ok"
    assert outcomes["broken"].status == "failed" and outcomes["broken"].attempts == 1
    assert outcomes["downstream"].status == "skipped"
    rows = {(r.task, r.attempt): r for r in lake.read("gold.pipeline_runs").where("run_id = 'test-run-retry'").collect()}
    assert rows[("flaky", 1)].status == "retried" and "injected" in rows[("flaky", 1)].error
    assert rows[("flaky", 2)].status == "ok" and rows[("flaky", 2)].rows_in == 7
    assert rows[("broken", 1)].status == "failed" and rows[("downstream", 0)].status == "skipped"

    # `smartmon status --date D` decides by the latest run of D: a failed task is exit 1 (what
    # cron mail and the Airflow status task act on), a clean run 0, no run at all 3.
    from pipelines.cli import main

    capsys.readouterr()
    assert main(["status", "--date", "2019-01-31", "--limit", "3"]) == 1
    assert "latest run test-run-retry: 4 tasks, failed: broken" in capsys.readouterr().out
    run_dag([Task("fine", lambda ctx: {})], RunContext(lake=lake, run_date=date(2019, 1, 30), run_id="test-run-clean"))
    assert main(["status", "--date", "2019-01-30"]) == 0
    assert "latest run test-run-clean: 1 task, none failed" in capsys.readouterr().out
    assert main(["status", "--date", "1999-01-01"]) == 3
