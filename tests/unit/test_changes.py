"""Day windows of the day-scoped jobs: the hours of Beijing days as the literal ranges Delta
prunes by, their months, lookback and the days a range of hours spans."""

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartmon.beijing_time import to_beijing
from smartmon.changes import DayWindow, days_of_month, days_spanning, issues_where
from smartmon.io import ROWS_PER_FILE, time_files

D = date


def beijing_day_of(ts: datetime) -> date:
    """The day an hour-ending naive-UTC timestamp belongs to (the hour ending 00:00: the day before)."""
    return to_beijing(ts - timedelta(seconds=1)).date()


@pytest.mark.parametrize(("days", "lookback", "ranges", "months"), [
    ([D(2019, 1, 31)], timedelta(0), [(datetime(2019, 1, 30, 16), datetime(2019, 1, 31, 16))], ["2019-01", "2019-02"]),
    ([D(2019, 1, 2), D(2019, 1, 1), D(2019, 1, 3)], timedelta(0), [(datetime(2018, 12, 31, 16), datetime(2019, 1, 3, 16))],
     ["2019-01"]),
    ([D(2019, 1, 5), D(2019, 1, 9)], timedelta(0),
     [(datetime(2019, 1, 4, 16), datetime(2019, 1, 5, 16)), (datetime(2019, 1, 8, 16), datetime(2019, 1, 9, 16))], ["2019-01"]),
    ([D(2019, 2, 1)], timedelta(hours=24), [(datetime(2019, 1, 30, 16), datetime(2019, 2, 1, 16))], ["2019-01", "2019-02"]),
    # lookbacks that make two runs touch become one range
    ([D(2019, 1, 5), D(2019, 1, 7)], timedelta(hours=24), [(datetime(2019, 1, 3, 16), datetime(2019, 1, 7, 16))], ["2019-01"]),
])
def test_days_become_hour_ranges_and_months(days, lookback, ranges, months):
    win = DayWindow.of(days, lookback=lookback)
    assert win.ranges() == ranges
    assert win.months() == months
    assert win.predicate().count(" OR ") == len(ranges) - 1


def test_an_empty_window_selects_nothing():
    win = DayWindow.of([])
    assert not win and win.predicate() == "false" and win.where() == "false" and win.day_predicate() == "false"


def test_predicates_are_literals_delta_can_prune_by():
    win = DayWindow.of([D(2019, 1, 31)])
    assert win.where(alias="t") == ("t.`month` IN ('2019-01', '2019-02') AND "
                                    "((t.`ts` > TIMESTAMP'2019-01-30 16:00:00' AND t.`ts` <= TIMESTAMP'2019-01-31 16:00:00'))")
    assert win.day_predicate("day") == "(`day` BETWEEN DATE'2019-01-31' AND DATE'2019-01-31')"


@settings(max_examples=200, deadline=None)
@given(days=st.sets(st.dates(D(2018, 12, 20), D(2019, 2, 10)), min_size=1, max_size=8),
       hour=st.integers(0, 24 * 60), lookback_h=st.sampled_from([0, 24, 48]))
def test_an_hour_is_in_the_window_exactly_when_its_day_or_lookback_is(days, hour, lookback_h):
    ts = datetime(2018, 12, 18, 16) + timedelta(hours=hour)
    win = DayWindow.of(days, lookback=timedelta(hours=lookback_h))
    inside = any(lo < ts <= hi for lo, hi in win.ranges())
    own = beijing_day_of(ts)
    reach = {own + timedelta(days=k) for k in range(lookback_h // 24 + 1)}  # days whose lookback reaches ts
    assert inside == bool(reach & days)
    if inside:
        assert to_beijing(ts).strftime("%Y-%m") in win.months()
    assert any(lo < ts <= hi for lo, hi in win.ranges(widen=False)) == (own in days)


@pytest.mark.parametrize(("start", "end", "days"), [
    (datetime(2019, 1, 1, 1), datetime(2019, 1, 1, 3), [D(2019, 1, 1)]),          # 09:00-11:00 Beijing
    (datetime(2019, 1, 1, 16), datetime(2019, 1, 1, 17), [D(2019, 1, 1), D(2019, 1, 2)]),  # the hour ending 00:00 is the 1st's
    (datetime(2019, 1, 30, 17), datetime(2019, 2, 1, 15), [D(2019, 1, 31), D(2019, 2, 1)]),
    (datetime(2019, 1, 1, 16, 30), datetime(2019, 1, 1, 18), [D(2019, 1, 1), D(2019, 1, 2)]),  # 00:30: the hour ending 00:00 is covered
])
def test_days_spanning_an_audit_range(start, end, days):
    assert days_spanning(start, end) == days


def test_days_of_month():
    assert len(days_of_month("2019-02")) == 28 and days_of_month("2020-02")[-1] == D(2020, 2, 29)
    assert days_of_month("2019-12")[-1] == D(2019, 12, 31)


@pytest.mark.parametrize(("rows", "days", "cores", "files"), [
    (1_592_589, 1586, 2, 2),        # the demo's first load: five years of a small network, not a file a day
    (2_400_000, 1, 2, 1),           # one day of 100,000 stations: never more than a file a day
    (72_000_000, 30, 2, 30),        # a month of it: a file a day
    (38_520, 1, 2, 1),              # a nightly day of the national network
    (10_000_000, 31, 2, 10),        # a month of 14,000 stations: files of about a million rows
    (0, 0, 2, 1),                   # an empty window still names one partition
    (500, 3, 8, 3),                 # more cores than days: a file a day
])
def test_first_load_files_are_sized_by_rows_and_never_more_than_a_day_each(rows, days, cores, files):
    assert time_files(rows, days, cores) == files


@given(st.integers(0, 10**9), st.integers(0, 5000), st.integers(1, 64))
@settings(max_examples=200, deadline=None)
def test_files_bound_rows_per_file_unless_a_day_is_larger(rows, days, cores):
    n = time_files(rows, days, cores)
    assert 1 <= n <= max(1, days)
    if n < days:
        assert rows <= n * ROWS_PER_FILE


@pytest.mark.parametrize(("issued", "kinds", "alias", "predicate"), [
    ([datetime(2019, 1, 31, 16)], ["nightly"], "t", "t.`issued_at` IN (TIMESTAMP'2019-01-31 16:00:00') AND t.`kind` IN ('nightly')"),
    # sorted and each once, whatever order the caller gives; no kind term when no kinds are given
    ([datetime(2019, 1, 31, 16), datetime(2019, 1, 30, 16), datetime(2019, 1, 31, 16)], [], "",
     "`issued_at` IN (TIMESTAMP'2019-01-30 16:00:00', TIMESTAMP'2019-01-31 16:00:00')"),
    ([datetime(2019, 1, 2)], ["backtest", "nightly", "backtest"], "s",
     "s.`issued_at` IN (TIMESTAMP'2019-01-02 00:00:00') AND s.`kind` IN ('backtest', 'nightly')"),
])
def test_an_issues_bound_names_its_issues_and_kinds_as_literals(issued, kinds, alias, predicate):
    assert issues_where(issued, kinds)(alias) == predicate
