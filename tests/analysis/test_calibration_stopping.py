"""A calibration ends on its stopping rule (tolerance or least acceptance rate, stated in
the targets file), not only on its budget, and its report shows each generation."""

from __future__ import annotations

import json

import pytest

from tests.analysis.calibration_helpers import observe_truth, targets_text
from trustsim.analysis.calibration.abc import calibrate

pytestmark = [pytest.mark.slow]
BUDGET = 1200  # without a stopping rule, many generations of 8 particles


@pytest.fixture(scope="module")
def observed():
    return observe_truth()


def run(observed, tmp_path, settings: str):
    path = tmp_path / "t.toml"
    path.write_text(
        targets_text(observed, budget=BUDGET, population_size=8, extra_settings=settings)
    )
    return calibrate(path, tmp_path / "out", workers=1, progress=False)


def test_it_stops_once_the_tolerance_is_reached(observed, tmp_path):
    o = run(observed, tmp_path, "minimum_epsilon = 1e9\n")  # any tolerance meets it
    assert o.stopped == "tolerance" and o.generations == 1
    assert o.simulations < o.plan.abc_simulations / 4  # the budget did not end it
    report = (o.out / "report.md").read_text()
    assert "**Stopped:** the tolerance reached calibration.minimum_epsilon" in report
    assert "a generation's tolerance is at most 1e+09 sd units" in report


def test_it_stops_when_a_generation_would_accept_too_few_and_stays_stopped(observed, tmp_path):
    o = run(observed, tmp_path, "min_acceptance_rate = 0.999\n")
    assert o.stopped == "acceptance" and o.generations == 1
    assert o.simulations < o.plan.abc_simulations / 4
    gens = json.loads((o.out / "summary.json").read_text())["generations"]
    assert [g["generation"] for g in gens] == [0]
    again = run(observed, tmp_path, "min_acceptance_rate = 0.999\n")  # resumed: no new draws
    assert again.resumed and again.stopped == "acceptance"
    assert again.simulations == o.simulations
