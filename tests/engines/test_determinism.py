"""Reproducibility: the same scenario and seed give the same run; other seeds do not."""

import numpy as np
import pandas as pd
import pytest

from tests.helpers import assert_frames_equal, small
from trustsim.population import build_world
from trustsim.runtime.run import simulate


@pytest.mark.parametrize("engine", ["core", "mesa"])
def test_same_seed_same_output(engine):
    sc = small("baseline", "run.history=true")
    a, b = simulate(sc, engine, seed=5), simulate(sc, engine, seed=5)
    assert_frames_equal(a.timeseries, b.timeseries, atol=0)
    assert_frames_equal(a.events, b.events, atol=0)


def test_different_seeds_give_different_output():
    sc = small("baseline")
    a, b = simulate(sc, "core", seed=5), simulate(sc, "core", seed=6)
    assert not a.timeseries.drop(columns="step").equals(b.timeseries.drop(columns="step"))


def test_world_is_a_function_of_the_seed():
    sc = small("baseline")
    w1, w2, w3 = build_world(sc, 9), build_world(sc, 9), build_world(sc, 10)
    assert (w1.csr.indices == w2.csr.indices).all() and (w1.competence == w2.competence).all()
    assert len(w1.csr.indices) != len(w3.csr.indices) or (w1.csr.indices != w3.csr.indices).any()


def test_network_has_the_requested_insider_degree():
    from trustsim.codes import FAMILY, INSIDER

    sc = small("baseline", "population.n_customers=400")
    w = build_world(sc, 1)
    n = sc.population.n_customers
    insider = (w.csr.ring == INSIDER).sum() / n  # each tie counted from both ends
    family = (w.csr.ring == FAMILY).sum() / n
    assert family == pytest.approx(sc.network.household_size - 1, abs=0.1)
    assert insider > 0.85 * sc.network.insider_degree  # a few lattice ties coincide with family


def test_seed_in_the_scenario_is_the_default_seed():
    sc = small("baseline", "run.seed=77")
    pd.testing.assert_frame_equal(
        simulate(sc, "core").timeseries, simulate(sc, "core", seed=77).timeseries
    )


def test_core_result_does_not_depend_on_the_number_of_threads(monkeypatch):
    sc = small(
        "breach",
        "run.history=true",
        "population.n_customers=300",
        "run.steps=60",
        "turnover.rate=0.02",
    )
    monkeypatch.setenv("TRUSTSIM_THREADS", "1")
    one = simulate(sc, "core", seed=3)
    monkeypatch.setenv("TRUSTSIM_THREADS", "2")
    two = simulate(sc, "core", seed=3)
    assert one.events.shape[0] > 100
    assert_frames_equal(one.timeseries, two.timeseries, atol=0)
    assert_frames_equal(one.events, two.events, atol=0)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_running_many_steps_at_once_equals_stepping(monkeypatch, threads):
    from trustsim.core.model import CoreModel
    from trustsim.core.relstore import table

    monkeypatch.setenv("TRUSTSIM_THREADS", threads)
    sc = small("baseline", "population.n_customers=300", "turnover.rate=0.02")
    one, many = CoreModel(sc, 4), CoreModel(sc, 4)
    for _ in range(70):
        one.step()
    many.run(30)
    many.run(40)  # twice: the second call continues where the first stopped
    assert many.steps == one.steps == 70
    for a, b in zip(one.series(), many.series()):
        assert a.shape == b.shape == (70, a.shape[1])
        assert np.array_equal(a, b, equal_nan=True)
    assert one.rows == many.rows or all(
        pd.Series(x).equals(pd.Series(y)) for x, y in zip(one.rows, many.rows)
    )
    assert np.array_equal(table(one.store), table(many.store))
    assert np.array_equal(one.org, many.org) and np.array_equal(one.primary, many.primary)


def test_the_compiled_core_is_saved_for_the_next_run():
    # numba refuses to cache a function that holds a pointer (e.g. numba.get_num_threads()
    # called inside it) and says so only in a warning: every run would then compile anew
    from pathlib import Path

    from trustsim.core import step as kernel
    from trustsim.core.model import CoreModel

    CoreModel(small("baseline", "population.n_customers=30"), 1).run(3)
    for fn in (kernel.step_serial, kernel.run_steps_serial):
        assert fn.signatures  # it was compiled or loaded ...
        assert Path(fn._cache._cache_file._index_path).exists()  # ... and is on disk
