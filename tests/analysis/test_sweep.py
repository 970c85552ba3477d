"""Sweeps: the table does not depend on the worker count, holds what a single run gives,
and a sweep folder resumes without losing or repeating runs (in-process cases; the kill -9
and Ctrl-C cases are in test_sweep_interrupt.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.analysis.sweep_helpers import GRID, SMALL, assert_same_runs, experiment_text, write
from trustsim.analysis.sweep.driver import (
    exclusive,
    execute,
    load_runs,
    load_timeseries,
    read_chunks,
    run_sweep,
)
from trustsim.analysis.sweep.load import load_experiment
from trustsim.cli import main
from trustsim.errors import EXIT_CANNOT_CREATE, OutputError, UsageError
from trustsim.loader import load_scenario
from trustsim.runtime.run import simulate

TS_EVERY = 5
TEXT = experiment_text(GRID, replicates=3, extra=f"window = 4\ntimeseries_every = {TS_EVERY}\n")


@pytest.fixture(scope="module")
def exp_path(tmp_path_factory):
    return write(tmp_path_factory.mktemp("exp"), TEXT)


@pytest.fixture(scope="module")
def reference(exp_path, tmp_path_factory):
    """The uninterrupted single-process sweep."""
    out = tmp_path_factory.mktemp("ref") / "sweep"
    report = execute(exp_path, out, workers=1)
    return report, load_timeseries(out)


def test_table_layout(reference, exp_path):
    report, ts = reference
    runs = report.runs
    exp = load_experiment(exp_path)
    assert list(runs.columns) == [
        "run_id",
        "point_id",
        "replicate",
        "seed",
        *exp.names,
        *exp.metrics,
    ]
    assert runs["run_id"].tolist() == list(range(18))
    assert list(ts.columns) == ["run_id", "step", *exp.metrics]
    assert all(steps == [5, 10, 15, 20] for steps in ts.groupby("run_id")["step"].apply(list))
    manifest = json.loads((report.out / "manifest.json").read_text())
    assert manifest["experiment"] == TEXT and manifest["experiment_sha256"] == exp.sha256
    session = manifest["sessions"][0]
    assert "git_commit" in session and session["trustsim"]
    assert set(session["dependencies"]) >= {"numba", "numpy", "pandas"}


def test_each_row_is_the_run_it_names(reference):
    """Kept values are the last-4-step means of simulate() on that point with that seed,
    and the kept time series are simulate()'s every fifth step."""
    runs, series = reference[0].runs, reference[1]
    for row in runs.iloc[[0, 7, 17]].to_dict("records"):
        scenario = load_scenario(
            "baseline",
            SMALL
            + [
                f"culture.ring_gradient={row['culture.ring_gradient']}",
                f"salespeople.instrumental_share={row['salespeople.instrumental_share']}",
            ],
        )
        ts = simulate(scenario, seed=row["seed"]).timeseries
        for metric in ("mean_trust", "trades", "insider_share"):
            assert row[metric] == pytest.approx(ts[metric].iloc[-4:].mean(), abs=0, rel=1e-14)
        kept = (
            series[series["run_id"] == row["run_id"]].drop(columns="run_id").reset_index(drop=True)
        )
        expected = ts.loc[ts["step"] % TS_EVERY == 0, list(kept.columns)].reset_index(drop=True)
        pd.testing.assert_frame_equal(kept, expected, check_exact=True)


def test_a_sweep_keeping_a_simulated_measurement_keeps_its_draws(tmp_path):
    """A sweep keeping none of the simulated measurements skips their draws (the kept
    values are those of simulate(), test above); one that keeps survey_trust gets
    simulate()'s values of it too, not the NaN of a run with the measurements off."""
    design = '[design]\nmethod = "grid"\n[design.parameters]\n"culture.ring_gradient" = [0.5]\n'
    metrics = ("survey_trust", "wom_sentiment")
    text = experiment_text(design, replicates=1, metrics=metrics, extra="window = 4\n")
    report = execute(write(tmp_path, text), tmp_path / "out", workers=1)
    (row,) = report.runs.to_dict("records")
    ts = simulate(
        load_scenario("baseline", SMALL + ["culture.ring_gradient=0.5"]), seed=row["seed"]
    )
    for metric in metrics:
        expected = ts.timeseries[metric].iloc[-4:].dropna().mean()
        assert np.isfinite(expected), metric
        assert row[metric] == pytest.approx(expected, abs=0, rel=1e-14), metric


def test_unobserved_turns_the_measurements_off_only_when_none_is_kept():
    from trustsim.analysis.sweep.design import unobserved

    off = unobserved({"measurement": {"survey_rate": 0.1}}, ("mean_trust", "cost_ratio"))
    assert off["measurement"] == {"survey_rate": 0.1, "observe": False}
    for kept in (("survey_trust",), ("mean_trust", "interview_trust"), ("wom_sentiment",)):
        assert unobserved({"measurement": {}}, kept) == {"measurement": {}}


def test_two_workers_give_the_same_table(reference, exp_path, tmp_path):
    report = execute(exp_path, tmp_path / "two", workers=2, batch=2)
    assert report.workers == 2 and report.new_runs == 18
    assert_same_runs(report.runs, reference[0].runs)
    pd.testing.assert_frame_equal(load_timeseries(tmp_path / "two"), reference[1], check_exact=True)


def test_rerunning_a_finished_sweep_computes_nothing(reference, exp_path):
    again = execute(exp_path, reference[0].out, workers=1)
    assert again.new_runs == 0
    assert_same_runs(again.runs, reference[0].runs)
    manifest = json.loads((reference[0].out / "manifest.json").read_text())
    assert len(manifest["sessions"]) >= 2  # each session is recorded


def test_resume_recomputes_only_missing_chunks(reference, exp_path, tmp_path):
    out = tmp_path / "partial"
    execute(exp_path, out, workers=1, batch=4)
    chunks = sorted((out / "chunks").glob("runs-*.parquet"))
    assert len(chunks) == 5
    for path in chunks[1::2]:  # as if killed before these batches finished
        path.unlink()
    (out / "runs.parquet").unlink()
    assert len(load_runs(out)) == 18 - 8  # a partial sweep can be read
    report = execute(exp_path, out, workers=1, batch=3)
    assert report.new_runs == 8
    assert_same_runs(report.runs, reference[0].runs)
    pd.testing.assert_frame_equal(load_timeseries(out), reference[1], check_exact=True)
    assert read_chunks(out)["run_id"].is_unique


def test_orphan_time_series_chunk_is_dropped(reference, exp_path, tmp_path):
    """A kill between the time-series and the runs chunk leaves only the former: its runs
    are recomputed in other batches and must not appear twice."""
    out = tmp_path / "orphan"
    execute(exp_path, out, workers=1, batch=4)
    (out / "chunks" / "runs-000000004-000000007.parquet").unlink()
    report = execute(exp_path, out, workers=1, batch=1)
    assert report.new_runs == 4
    ts = load_timeseries(out)
    assert not ts.duplicated(["run_id", "step"]).any()
    pd.testing.assert_frame_equal(ts, reference[1], check_exact=True)


def test_refuses_a_folder_of_another_experiment(reference, tmp_path, capsys):
    other = write(tmp_path, TEXT.replace("master_seed = 5", "master_seed = 6"), "other.toml")
    with pytest.raises(UsageError, match="holds a sweep of a different experiment"):
        run_sweep(other, reference[0].out, workers=1)
    assert main(["sweep", str(other), "--out", str(reference[0].out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "use another --out" in err and "Traceback" not in err


def test_refuses_a_folder_that_is_not_a_sweep(exp_path, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not a sweep folder"):
        run_sweep(exp_path, tmp_path, workers=1)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_refuses_a_folder_another_sweep_is_writing(exp_path, tmp_path):
    out = tmp_path / "busy"
    with exclusive(out):
        with pytest.raises(UsageError, match="another sweep is writing to this folder"):
            execute(exp_path, out, workers=1)
    assert execute(exp_path, out, workers=1).new_runs == 18  # free again


def test_refuses_a_file_as_out(exp_path, tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder") as caught:
        execute(exp_path, tmp_path / "f", workers=1)
    assert caught.value.exit_status == EXIT_CANNOT_CREATE


def test_refuses_chunks_that_do_not_match_the_plan(exp_path, tmp_path):
    """Every chunk off the plan: the plan changed (e.g. another SALib), not damage."""
    out = tmp_path / "tampered"
    execute(exp_path, out, workers=1, batch=6)
    for chunk in (out / "chunks").glob("runs-*.parquet"):
        frame = pd.read_parquet(chunk)
        frame["seed"] += 1
        frame.to_parquet(chunk, index=False)
    with pytest.raises(UsageError, match="do not match this experiment's plan"):
        execute(exp_path, out, workers=1)
    assert not (out / "damaged").exists()  # nothing was moved: the user decides


def test_sets_aside_one_chunk_off_the_plan(exp_path, tmp_path, reference, capsys):
    """One chunk edited by hand among healthy ones is damage: set aside and recomputed."""
    out = tmp_path / "tampered"
    execute(exp_path, out, workers=1, batch=6)
    chunk = sorted((out / "chunks").glob("runs-*.parquet"))[1]
    frame = pd.read_parquet(chunk)
    frame.loc[0, "seed"] += 1
    frame.to_parquet(chunk, index=False)
    report = execute(exp_path, out, workers=1, batch=6)
    assert report.new_runs == 6
    assert (out / "damaged" / "chunks" / chunk.name).exists()
    assert f"warning: {chunk}: its runs are not runs of this experiment's plan" in (
        capsys.readouterr().err
    )
    assert_same_runs(report.runs, reference[0].runs)


def test_bad_worker_and_cluster_options(exp_path, tmp_path, capsys):
    out = str(tmp_path / "o")
    assert main(["sweep", str(exp_path), "--out", out, "--workers", "0"]) == 2
    assert (
        main(
            [
                "sweep",
                str(exp_path),
                "--out",
                out,
                "--workers",
                "2",
                "--cluster",
                "tcp://127.0.0.1:1",
            ]
        )
        == 2
    )
    assert main(["sweep", str(exp_path), "--out", out, "--cluster", "127.0.0.1"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "error: --workers 0: must be at least 1",
        "error: --workers and --cluster exclude each other (a cluster has its own workers)",
        "error: --cluster 127.0.0.1: expected a scheduler address like tcp://HOST:PORT",
    ]
