"""Sweep figures: the tables behind them hold the right numbers, and `trustsim plot`
writes one figure per metric or stops with a clear error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from tests.analysis.sweep_helpers import GRID, experiment_text, write
from trustsim.analysis.sweep.driver import execute
from trustsim.analysis.sweep.plots import heatmap, point_spread, spread
from trustsim.cli import main

RUNS = pd.DataFrame(
    {
        "point_id": [0, 0, 1, 1, 2, 2, 3, 3],
        "a": [0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.9],
        "b": [1, 1, 2, 2, 1, 1, 2, 2],
        "m": [1.0, 3.0, 5.0, 7.0, 2.0, 2.0, 10.0, 14.0],
    }
)


def test_spread_over_replicates_and_other_parameters():
    by_a = spread(RUNS, "m", "a").set_index("a")
    assert by_a.loc[0.1, "mean"] == 4.0 and by_a.loc[0.9, "mean"] == 7.0
    assert (
        by_a.loc[0.1, "min"] == 1.0 and by_a.loc[0.9, "max"] == 14.0 and (by_a["count"] == 4).all()
    )
    by_ab = spread(RUNS, "m", "a", hue="b").set_index(["b", "a"])
    assert by_ab.loc[(2, 0.9), "mean"] == 12.0
    assert by_ab.loc[(1, 0.1), "std"] == pytest.approx(np.sqrt(2.0))


def test_point_spread_keeps_each_design_point():
    table = point_spread(RUNS, "m", "a", "b").set_index("point_id")
    assert table.loc[3, ["a", "b", "mean"]].tolist() == [0.9, 2, 12.0]
    assert table.loc[2, "std"] == 0.0


def test_heatmap_rows_are_y_columns_are_x():
    table = heatmap(RUNS, "m", "a", "b")
    assert list(table.index) == [1, 2] and list(table.columns) == [0.1, 0.9]
    assert table.loc[2, 0.9] == 12.0 and table.loc[1, 0.1] == 2.0


def test_heatmap_bins_sampled_designs():
    rng = np.random.default_rng(0)
    runs = pd.DataFrame({"a": rng.uniform(0, 1, 400), "b": rng.uniform(0, 1, 400)})
    runs["m"] = runs["a"] + 10 * runs["b"]
    table = heatmap(runs, "m", "a", "b", sampled=True)
    assert table.shape == (8, 8)
    assert (np.diff(table.to_numpy(), axis=0) > 0).all()  # rises with b down the rows


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    path = write(tmp_path_factory.mktemp("exp"), experiment_text(GRID))
    return execute(path, tmp_path_factory.mktemp("sweep") / "out", workers=1).out


def test_cli_writes_one_figure_per_metric(sweep_dir, capsys):
    assert main(["plot", str(sweep_dir)]) == 0
    for metric in ("mean_trust", "trades", "insider_share"):
        image = imread(sweep_dir / "figures" / f"{metric}.png")
        assert image.shape[1] > 800  # line plot and heatmap side by side
    assert "figures/trades.png" in capsys.readouterr().out


def test_cli_plot_errors_name_what_is_allowed(sweep_dir, tmp_path, capsys):
    assert main(["plot", str(sweep_dir), "--metric", "churned", "--x", "firms.price"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith(
        "--metric churned: not kept by this sweep (kept: mean_trust, trades, insider_share)"
    )
    assert "--x firms.price: not varied by this sweep (varied: culture.ring_gradient, " in err[1]
    assert main(["plot", str(tmp_path)]) == 2
    assert "not a sweep folder" in capsys.readouterr().err
