"""Docking: the Mesa engine and the numba core are one model (same trajectories)."""

import pytest

from tests.helpers import SCENARIOS, assert_frames_equal
from trustsim.loader import load_scenario
from trustsim.runtime.run import simulate

pytestmark = [pytest.mark.slow]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("name", SCENARIOS)
def test_engines_give_identical_metrics_and_events(name, seed):
    scenario = load_scenario(name, ["run.history=true"])
    core = simulate(scenario, "core", seed=seed)
    mesa = simulate(scenario, "mesa", seed=seed)
    assert len(core.timeseries) == scenario.run.steps
    assert core.timeseries["trades"].sum() > 0
    assert_frames_equal(core.timeseries, mesa.timeseries)
    assert_frames_equal(core.events, mesa.events)


def test_shipped_scenarios_are_all_covered():
    # The scenarios the issue names must exist (the docking test runs whatever is there).
    for name in (
        "baseline",
        "classroom",
        "culture_particularistic",
        "culture_universalistic",
        "strategy_gifts",
        "strategy_emotional",
        "breach",
        "salesperson_leaves",
        "departure_policies",
    ):
        assert name in SCENARIOS


@pytest.mark.parametrize("cap", [2, 3])
def test_engines_forget_the_same_relationships_at_the_cap(cap):
    # A cap far below the salespeople a customer meets: both engines forget (ODD 7.16).
    scenario = load_scenario(
        "salesperson_leaves",
        [
            "run.history=true",
            "population.n_customers=150",
            "run.steps=80",
            f"population.max_relationships={cap}",
        ],
    )
    core = simulate(scenario, "core", seed=2)
    mesa = simulate(scenario, "mesa", seed=2)
    assert_frames_equal(core.timeseries, mesa.timeseries)
    assert_frames_equal(core.events, mesa.events)
    free = simulate(
        load_scenario(
            "salesperson_leaves", ["run.history=true", "population.n_customers=150", "run.steps=80"]
        ),
        "core",
        seed=2,
    )
    assert not core.timeseries.equals(free.timeseries)  # the cap changed the run
