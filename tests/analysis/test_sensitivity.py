"""Sensitivity indices against known answers: the Ishigami function's analytic Sobol
indices, a linear Morris case, and the model itself, where a parameter that cannot change a
metric must get an index of zero."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from tests.analysis.sweep_helpers import GRID, experiment_text, write
from trustsim.analysis.sweep.design import points
from trustsim.analysis.sweep.load import load_experiment
from trustsim.analysis.sweep.sensitivity import analyze, indices, sensitivity
from trustsim.cli import main

UNIT_PARAMS = (
    '"culture.ring_gradient" = [0.0, 1.0]\n"firms.quality" = [0.0, 1.0]\n'
    '"gifts.size" = [0.0, 1.0]\n'
)


def values(table: pd.DataFrame, index: str) -> pd.Series:
    return table[table["statistic"] == index].set_index("parameter")["value"]


def test_sobol_indices_of_the_ishigami_function(tmp_path):
    design = '[design]\nmethod = "sobol"\nsamples = 4096\n[design.parameters]\n' + UNIT_PARAMS
    exp = load_experiment(write(tmp_path, experiment_text(design)))
    x = points(exp)[exp.names].to_numpy() * 2 * np.pi - np.pi  # each parameter -> [-pi, pi]
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    table = indices(exp, y, "ishigami")
    s1, st = values(table, "S1"), values(table, "ST")
    assert s1.to_numpy() == pytest.approx([0.3139, 0.4424, 0.0], abs=0.03)
    assert st.to_numpy() == pytest.approx([0.5576, 0.4424, 0.2437], abs=0.03)
    assert (table["conf"] > 0).all() and (table["conf"] < 0.1).all()


def test_morris_ranks_a_linear_function(tmp_path):
    design = (
        '[design]\nmethod = "morris"\nsamples = 20\nlevels = 4\n[design.parameters]\n' + UNIT_PARAMS
    )
    exp = load_experiment(write(tmp_path, experiment_text(design)))
    x = points(exp)[exp.names].to_numpy()
    mu_star = values(indices(exp, 5 * x[:, 0] - 1 * x[:, 2]), "mu_star")
    assert mu_star.to_numpy() == pytest.approx([5.0, 0.0, 1.0])


MODEL = (
    '[design]\nmethod = "morris"\nsamples = 6\nlevels = 4\n[design.parameters]\n'
    '"population.purchase_rate" = [0.1, 0.5]\n"culture.ring_gradient" = [0.0, 1.0]\n'
    '"measurement.survey_noise" = [0.0, 0.5]\n'
)


@pytest.fixture(scope="module")
def model_experiment(tmp_path_factory):
    text = experiment_text(
        MODEL, metrics=("trades", "mean_trust", "survey_trust"), extra="window = 5\n"
    ).replace("master_seed = 5", "master_seed = 5\ncommon_seeds = true")
    return write(tmp_path_factory.mktemp("exp"), text)


def test_a_parameter_the_metric_ignores_gets_zero(model_experiment, tmp_path):
    """Survey noise only blurs the simulated survey: it cannot change trades or trust."""
    table = sensitivity(model_experiment, tmp_path / "sweep", workers=1)
    mu_star = table[table["statistic"] == "mu_star"].set_index(["metric", "parameter"])["value"]
    for metric in ("trades", "mean_trust"):
        assert mu_star[metric, "measurement.survey_noise"] == 0.0
        assert mu_star[metric, "population.purchase_rate"] > 0
        assert mu_star[metric, "culture.ring_gradient"] > 0
    assert mu_star["trades", "population.purchase_rate"] > 5  # more buyers, more trades
    assert mu_star["survey_trust", "measurement.survey_noise"] > 0  # where it does matter


def test_replicates_are_averaged_per_point(model_experiment, tmp_path):
    from trustsim.analysis.sweep.driver import run_sweep

    exp = load_experiment(model_experiment)
    runs = run_sweep(exp, tmp_path / "sweep", workers=1)
    direct = indices(exp, runs.groupby("point_id")["trades"].mean().to_numpy(), "trades")
    pd.testing.assert_frame_equal(
        analyze(exp, runs).query("metric == 'trades'").reset_index(drop=True), direct
    )


def test_cli_writes_table_and_figure(model_experiment, tmp_path, capsys):
    out = tmp_path / "sweep"
    assert (
        main(["sensitivity", str(model_experiment), "--out", str(out), "--workers", "1", "--quiet"])
        == 0
    )
    table = pd.read_csv(out / "sensitivity.csv")
    assert list(table.columns) == ["metric", "parameter", "statistic", "value", "conf"]
    assert len(table) == 3 * 3 * 3  # metrics x parameters x (mu_star, mu, sigma)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "sensitivity.parquet"), table)
    image = imread(out / "sensitivity.png")
    assert image.shape[0] > 200 and image.shape[1] > 400
    printed = capsys.readouterr().out
    assert "measurement.survey_noise" in printed and "mu_star" in printed


def test_cli_refuses_a_grid_experiment(tmp_path, capsys):
    path = write(tmp_path, experiment_text(GRID))
    assert main(["sensitivity", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "sensitivity needs a morris or sobol design" in capsys.readouterr().err
