import pytest

from pipelines.dag import Task, order
from smartmon.errors import ConcurrentCommitError, SmartmonError, map_jvm_error
from smartmon.io import with_retry


def _noop(ctx):
    return {}


def test_order_is_topological_and_stable():
    tasks = [Task("c", _noop, ("b",)), Task("a", _noop), Task("b", _noop, ("a",)), Task("d", _noop)]
    assert [t.name for t in order(tasks)] == ["a", "b", "c", "d"]


def test_cycles_and_unknown_deps_are_refused():
    with pytest.raises(SmartmonError, match="cycle"):
        order([Task("a", _noop, ("b",)), Task("b", _noop, ("a",))])
    with pytest.raises(SmartmonError, match="unknown tasks"):
        order([Task("a", _noop, ("zzz",))])


class ConcurrentAppendException(Exception):
    """Same name as delta.exceptions.ConcurrentAppendException, as it reaches Python."""


def test_delta_conflicts_map_to_a_typed_retryable_error():
    mapped = map_jvm_error(ConcurrentAppendException("[DELTA_CONCURRENT_APPEND] files were added"))
    assert isinstance(mapped, ConcurrentCommitError)
    other = ValueError("x")
    assert map_jvm_error(other) is other


def test_with_retry_retries_conflicts_then_succeeds():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConcurrentAppendException("DELTA_CONCURRENT_APPEND")
        return "done"

    assert with_retry(flaky, what="t", base_delay=0.001) == "done" and len(calls) == 3


def test_with_retry_gives_up_with_the_typed_error_and_its_cause():
    def always():
        raise ConcurrentAppendException("DELTA_CONCURRENT_APPEND")

    with pytest.raises(ConcurrentCommitError) as info:
        with_retry(always, what="t", attempts=2, base_delay=0.001)
    assert isinstance(info.value.__cause__, ConcurrentAppendException)
