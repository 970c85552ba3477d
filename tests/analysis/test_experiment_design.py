"""Design points, run ids and seeds: a pure function of the experiment file."""

from __future__ import annotations

import itertools

import numpy as np

from tests.analysis.sweep_helpers import GRID, experiment_text, write
from trustsim.analysis.sweep.design import plan, points, raw_design, run_seed
from trustsim.analysis.sweep.load import load_experiment


def test_grid_is_the_full_product_with_replicates(tmp_path):
    exp = load_experiment(write(tmp_path, experiment_text(GRID, replicates=3)))
    runs = plan(exp)
    product = list(itertools.product([0.1, 0.5, 0.9], [0.0, 1.0]))
    assert len(runs) == len(product) * 3
    assert runs["run_id"].tolist() == list(range(len(runs)))
    assert (runs["run_id"] == runs["point_id"] * 3 + runs["replicate"]).all()
    firsts = runs[runs["replicate"] == 0]
    assert (
        list(zip(firsts["culture.ring_gradient"], firsts["salespeople.instrumental_share"]))
        == product
    )


def test_seeds_come_from_master_seed_and_run_id_only(tmp_path):
    exp = load_experiment(write(tmp_path, experiment_text(GRID, replicates=3, master_seed=11)))
    runs = plan(exp)
    assert runs["seed"].tolist() == [run_seed(11, i) for i in runs["run_id"]]
    assert runs["seed"].is_unique
    assert ((runs["seed"] >= 0) & (runs["seed"] < 2**62)).all()
    other = load_experiment(
        write(tmp_path, experiment_text(GRID, replicates=3, master_seed=12), "b.toml")
    )
    assert not set(plan(other)["seed"]) & set(runs["seed"])


def test_common_seeds_repeat_per_replicate(tmp_path):
    text = experiment_text(GRID, replicates=3).replace(
        "master_seed = 5", "master_seed = 5\ncommon_seeds = true"
    )
    runs = plan(load_experiment(write(tmp_path, text)))
    per_replicate = runs.groupby("replicate")["seed"].nunique()
    assert (per_replicate == 1).all()
    assert runs.groupby("point_id")["seed"].apply(tuple).nunique() == 1
    assert runs.loc[runs["replicate"] == 2, "seed"].iloc[0] == run_seed(5, 2)


def test_sampled_integers_are_rounded_and_ranges_respected(tmp_path):
    design = (
        '[design]\nmethod = "lhs"\nsamples = 40\n[design.parameters]\n'
        '"population.n_salespeople" = [2, 9]\n"firms.quality" = [0.2, 0.4]\n'
    )
    exp = load_experiment(write(tmp_path, experiment_text(design)))
    pts = points(exp)
    assert pts["population.n_salespeople"].dtype == np.int64
    assert pts["population.n_salespeople"].between(2, 9).all()
    assert pts["population.n_salespeople"].nunique() >= 6  # the whole range is used
    assert pts["firms.quality"].dtype == np.float64 and pts["firms.quality"].between(0.2, 0.4).all()
    raw = raw_design(exp)[:, 0].astype(float)
    assert np.array_equal(pts["population.n_salespeople"], np.floor(raw + 0.5).astype(np.int64))


def test_morris_and_sobol_designs_have_the_salib_sizes(tmp_path):
    params = '[design.parameters]\n"firms.quality" = [0.2, 0.9]\n"gifts.size" = [0.0, 0.2]\n"trust.org_weight" = [0.1, 0.5]\n'
    morris = experiment_text('[design]\nmethod = "morris"\nsamples = 5\nlevels = 4\n' + params)
    sobol = experiment_text('[design]\nmethod = "sobol"\nsamples = 8\n' + params)
    sobol2 = experiment_text(
        '[design]\nmethod = "sobol"\nsamples = 8\nsecond_order = true\n' + params
    )
    assert len(points(load_experiment(write(tmp_path, morris, "m.toml")))) == 5 * (3 + 1)
    assert len(points(load_experiment(write(tmp_path, sobol, "s.toml")))) == 8 * (3 + 2)
    assert len(points(load_experiment(write(tmp_path, sobol2, "s2.toml")))) == 8 * (2 * 3 + 2)


def test_plan_is_reproducible(tmp_path):
    design = '[design]\nmethod = "sobol"\nsamples = 4\n[design.parameters]\n"firms.quality" = [0.2, 0.9]\n'
    path = write(tmp_path, experiment_text(design))
    assert plan(load_experiment(path)).equals(plan(load_experiment(path)))
