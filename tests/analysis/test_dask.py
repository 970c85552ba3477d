"""A real dask.distributed cluster on 127.0.0.1 (a scheduler and two worker processes,
started here and torn down after) gives the local table, even when a worker dies."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pandas as pd
import pytest

from tests.analysis.conftest import WAIT
from tests.analysis.sweep_helpers import (  # noqa: F401  (shared fixtures)
    ROOT,
    assert_same_runs,
    cli,
    exp_path,
    experiment_text,
    reference,
)
from trustsim.analysis.sweep.driver import execute, load_timeseries

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

DESIGN = (
    '[design]\nmethod = "lhs"\nsamples = 120\n[design.parameters]\n'
    '"culture.ring_gradient" = [0.0, 1.0]\n"population.n_salespeople" = [2, 6]\n'
)
TEXT = experiment_text(
    DESIGN,
    metrics=("mean_trust", "trades"),
    extra="timeseries_every = 10\n",
    base_set=["population.n_customers=80", "population.n_firms=2", "run.steps=30"],
)


def test_cluster_gives_the_local_table(cluster, exp_path, reference, tmp_path):
    address, _ = cluster
    out = tmp_path / "sweep"
    done = cli("sweep", str(exp_path), "--out", str(out), "--cluster", address, "--quiet")
    assert done.returncode == 0, done.stderr
    assert "on 2 workers" in done.stdout
    assert_same_runs(pd.read_parquet(out / "runs.parquet"), reference[0])
    pd.testing.assert_frame_equal(load_timeseries(out), reference[1], check_exact=True)
    sessions = json.loads((out / "manifest.json").read_text())["sessions"]
    assert sessions[-1]["cluster"] == address


def test_worker_killed_mid_sweep_changes_nothing(cluster, exp_path, reference, tmp_path):
    address, workers = cluster
    out = tmp_path / "sweep"
    victim = workers[0]
    killed_at: list[int] = []

    def kill_after_some_chunks() -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            chunks = (
                list((out / "chunks").glob("runs-*.parquet")) if (out / "chunks").exists() else []
            )
            if len(chunks) >= 8:
                os.kill(victim.pid, signal.SIGKILL)
                killed_at.append(len(chunks))
                return
            time.sleep(0.005)

    watcher = threading.Thread(target=kill_after_some_chunks, daemon=True)
    watcher.start()
    report = execute(exp_path, out, cluster=address, batch=2)
    watcher.join(timeout=WAIT)
    assert victim.wait(timeout=WAIT) == -signal.SIGKILL
    assert killed_at and killed_at[0] < len(reference[0]) // 2  # it died mid-sweep
    assert report.runs["run_id"].is_unique
    assert_same_runs(report.runs, reference[0])
    pd.testing.assert_frame_equal(load_timeseries(out), reference[1], check_exact=True)


def test_a_study_on_the_cluster_gives_the_local_summary(cluster, tmp_path):
    """`trustsim study --cluster` goes through the same sweep machinery (issue 8)."""
    from tests.analysis.study_helpers import write_study

    address, _ = cluster
    study = write_study(tmp_path, replicates=6)
    local = cli("study", str(study), "--out", str(tmp_path / "local"), "--workers", "1", "--quiet")
    assert local.returncode == 0, local.stderr
    done = cli(
        "study", str(study), "--out", str(tmp_path / "dask"), "--cluster", address, "--quiet"
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "dask" / "summary.csv").read_text() == (
        tmp_path / "local" / "summary.csv"
    ).read_text()
