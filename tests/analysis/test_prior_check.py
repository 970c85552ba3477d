"""The prior predictive check tells a target the model can reach from one it cannot, and
how many replicates each statistic needs."""

from __future__ import annotations

import json

import pytest

from tests.analysis.calibration_helpers import observe_truth, targets_text
from trustsim.analysis.calibration.abc import check_priors
from trustsim.analysis.calibration.plan import choose_replicates
from trustsim.analysis.calibration.prior_check import PriorCheck, TargetCheck, replicates_needed
from trustsim.analysis.calibration.targets import load_targets
from trustsim.cli import main

pytestmark = pytest.mark.slow

# mean trust lies in [0, 1]: no parameter can bring it to 1.6
IMPOSSIBLE = (
    '[[targets]]\nname = "trust"\nstatistic = "mean_trust"\nobserved = 1.6\nsd = 0.05\n'
    'source = "made up: outside what any run can give"\n'
)


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prior")
    path = tmp / "t.toml"
    path.write_text(targets_text(observe_truth(), extra_targets=IMPOSSIBLE))
    check, written = check_priors(path, tmp / "out", draws=20, workers=2, search=3)
    return check, written


def test_a_target_from_the_model_is_reachable_and_an_impossible_one_is_not(checked):
    check, _ = checked
    by = {t.name: t for t in check.targets}
    assert not by["trust"].reachable and not by["trust"].inside
    assert by["trust"].best_z > 2 and by["trust"].closest_value <= 1.0
    for name in ("praise", "complaints", "cost"):  # observed at a truth inside the priors
        assert by[name].reachable, by[name]
    assert [t.name for t in check.unreachable] == ["trust"]
    assert check.lines()[0].startswith("UNREACHABLE: trust")


def test_the_parameter_that_drives_a_statistic_is_named(checked):
    check, _ = checked
    praise = next(t for t in check.targets if t.name == "praise")
    assert praise.movers and praise.movers[0][0] == "wom.positive_prob"
    assert praise.movers[0][1] > 0.5


def test_the_check_is_written_as_json(checked):
    check, written = checked
    data = json.loads(written.read_text())
    assert data["draws"] == 20 and len(data["targets"]) == 4
    assert data["best_distance"] == pytest.approx(check.best_distance)


def test_replicates_are_chosen_from_the_simulation_noise():
    assert replicates_needed(0.06, 0.05) == 13  # (0.06 / (0.05 / 3))^2 = 12.96
    assert replicates_needed(0.01, 0.05) == 1
    assert replicates_needed(float("nan"), 0.05) == 1


def fake_check(replicate_sds: dict[str, float], sd: float = 0.05) -> PriorCheck:
    targets = [
        TargetCheck(n, 0.0, sd, [0.0] * 5, True, 0, 0, 0, 0, rsd, 1, 0, True)
        for n, rsd in replicate_sds.items()
    ]
    return PriorCheck(targets, 20, {}, 0.0, 0)


def test_a_noisy_statistic_gets_more_replicates_than_a_quiet_one(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(targets_text(observe_truth_cheap(), extra_settings="max_replicates = 40\n"))
    t = load_targets(path)
    quiet, _ = choose_replicates(t, fake_check({"praise": 0.01}))
    noisy, why = choose_replicates(t, fake_check({"praise": 0.01, "complaints": 0.06}))
    assert quiet == 2  # needs 1: calibration.replicates is the least
    assert noisy == 13 and "complaints the noisiest" in why
    capped, why = choose_replicates(t, fake_check({"praise": 0.2}))
    assert capped == 40 and "capped at calibration.max_replicates = 40" in why
    # not movable: not fitted, so it asks for nothing
    still = fake_check({"praise": 0.01, "complaints": 0.06})
    still.targets[1].movable = False
    assert choose_replicates(t, still)[0] == 2


def test_without_a_maximum_the_replicates_are_the_files(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(targets_text(observe_truth_cheap()))
    n, why = choose_replicates(load_targets(path), fake_check({"praise": 0.2}))
    assert n == 2 and "no max_replicates given" in why


def observe_truth_cheap() -> dict[str, tuple[float, float]]:
    return {"praise": (0.3, 0.05), "complaints": (0.4, 0.05)}


def test_too_few_draws_is_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "t.toml"
    path.write_text(targets_text({"praise": (0.3, 0.05)}))
    assert main(["calibrate", str(path), "--prior-check", "--draws", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --draws 2: the prior check needs at least 5 draws"]
