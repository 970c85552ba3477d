"""Golden regression baseline: every shipped scenario still gives the stored trajectory.

The baseline (tests/engines/golden/) is regenerated on purpose by
tests/engines/golden/regenerate.py, in a commit that says why the model's trajectories moved.
"""

import json

import pandas as pd
import pytest

from tests.engines.golden.regenerate import HERE, events_digest, golden_run, scenarios
from tests.helpers import assert_frames_equal

DIGESTS = json.loads((HERE / "events.json").read_text())


def test_every_shipped_scenario_has_a_baseline():
    assert sorted(DIGESTS) == scenarios()


@pytest.mark.parametrize("name", scenarios())
def test_scenario_matches_its_golden_baseline(name):
    result = golden_run(name)
    expected = pd.read_parquet(HERE / f"{name}.parquet")
    assert_frames_equal(result.timeseries, expected, atol=0)
    assert len(result.events) == DIGESTS[name]["rows"]
    assert events_digest(result.events) == DIGESTS[name]["events_sha256"]
