"""With both issue-12 switches off the model is the model from before issue 12, exactly."""

import json

import pandas as pd
import pytest

from .golden.regenerate import BEFORE_ISSUE12, before_issue12_run, events_digest, scenarios
from .helpers import assert_frames_equal

DIGESTS = json.loads((BEFORE_ISSUE12 / "events.json").read_text())


def test_every_shipped_scenario_has_a_before_issue12_baseline():
    assert sorted(DIGESTS) == scenarios()


@pytest.mark.parametrize("name", scenarios())
def test_both_switches_off_give_the_trajectories_of_before_issue12(name):
    timeseries, events = before_issue12_run(name)
    expected = pd.read_parquet(BEFORE_ISSUE12 / f"{name}.parquet")
    assert_frames_equal(timeseries.reset_index(drop=True), expected, atol=0)
    assert len(events) == DIGESTS[name]["rows"]
    assert events_digest(events) == DIGESTS[name]["events_sha256"]
