"""The calibration report's tables, from hand-made predictive runs (no calibration run)."""

from __future__ import annotations

import math

import pandas as pd

from trustsim.analysis.calibration.report import undefined_counts


def test_predictive_means_without_a_value_are_counted_per_set_not_dropped_silently():
    nan = math.nan
    pred = pd.DataFrame(
        {
            "drop": [0.2, nan, nan, 0.3, 0.4, nan],
            "set": ["defaults"] * 3 + ["posterior"] * 2 + ["calibrated"],
        }
    )
    assert undefined_counts(pred, "drop") == "2/3 · 0/2 · 1/1"
