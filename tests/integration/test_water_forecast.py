"""Next-day water quality at the real Zhakou station (2020): Ray tasks per target, MLflow registry,
and the persistence gate."""

import pytest


@pytest.fixture(scope="module")
def trained(lake, ingested):
    from experiments import water_forecast

    return water_forecast.run(lake, "SW-zhakou-guo")


def test_every_target_is_scored_against_persistence_and_registered(trained):
    from mlflow import MlflowClient

    from smartmon.registry import alias_version

    client = MlflowClient()
    assert set(trained["targets"]) == {"do", "nh3n", "codmn", "tp"}
    for t, e in trained["targets"].items():
        assert e["holdout"] >= 10 and e["train"] >= 50 and e["mae"] > 0 and e["mae_persistence"] > 0
        assert alias_version(client, f"smartmon.water.{t}", "challenger") == e["version"]
        champion = alias_version(client, f"smartmon.water.{t}", "champion")
        assert (champion == e["version"]) == (e["mae"] < e["mae_persistence"]) == e["promoted"]


def test_a_station_without_the_targets_is_refused(lake, ingested):
    from experiments import water_forecast
    from smartmon.errors import InputError

    with pytest.raises(InputError, match="no valid water observations"):
        water_forecast.run(lake, "nowhere")
