"""The DAG runner on the real lake: a transient failure is retried and recorded."""

from datetime import date

from pipelines.dag import RunContext, Task, run_dag
from smartmon.errors import ConcurrentCommitError


def test_transient_failure_is_retried_and_every_attempt_recorded(lake):
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
