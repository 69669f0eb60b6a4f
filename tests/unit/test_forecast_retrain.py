"""When falling skill retrains a national model (jobs.gold.forecasts.lagging), table-driven."""

from datetime import datetime

import pytest

from jobs.gold.forecasts import MIN_SCORED_ISSUES, RecentSkill, lagging

FIRST = datetime(2019, 1, 24, 16)
OLD = datetime(2019, 1, 10, 16)  # the newest model learned up to here: before the issues judged
NEW = datetime(2019, 1, 26, 16)  # a model trained after the first issue judged: not judged yet


@pytest.mark.parametrize(
    "issues, model, persistence, newest, retrain",
    [
        (7, 0.30, 0.25, OLD, True),  # behind persistence for a week
        (7, 0.25, 0.30, OLD, False),  # ahead of it
        (7, 0.30, 0.30, OLD, False),  # level is not behind
        (MIN_SCORED_ISSUES - 1, 0.9, 0.2, OLD, False),  # too few issues have come true
        (7, 0.30, 0.25, NEW, False),  # already retrained since: wait for its own issues
        (7, 0.30, 0.25, None, True),  # no model at all
    ],
)
def test_a_target_is_retrained_only_when_a_judged_model_fell_behind_persistence(issues, model, persistence, newest, retrain):
    recent = [RecentSkill("pm25", issues, FIRST, model, persistence)]
    assert lagging(recent, {"pm25": newest}) == (["pm25"] if retrain else [])


def test_only_the_lagging_targets_are_named_in_order():
    recent = [RecentSkill(t, 7, FIRST, m, 0.25) for t, m in (("pm25", 0.3), ("o3", 0.2), ("no2", 0.4))]
    assert lagging(recent, dict.fromkeys(("pm25", "o3", "no2"), OLD)) == ["no2", "pm25"]
