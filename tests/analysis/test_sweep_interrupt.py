"""A real `trustsim sweep` process killed with SIGKILL at random moments, or stopped with
Ctrl-C, then resumed: the final table equals an uninterrupted run's, with no run twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from tests.analysis.sweep_helpers import (  # noqa: F401  (shared fixtures)
    ROOT,
    assert_same_runs,
    cli,
    cli_process,
    exp_path,
    experiment_text,
    reference,
)
from trustsim.analysis.sweep.driver import load_timeseries, read_chunks

pytestmark = [pytest.mark.slow]

# 300 runs in batches of 3: about 100 chunk files, so kills land mid-sweep.
DESIGN = (
    '[design]\nmethod = "lhs"\nsamples = 150\n[design.parameters]\n'
    '"culture.ring_gradient" = [0.0, 1.0]\n"population.n_salespeople" = [2, 6]\n'
)
TEXT = experiment_text(
    DESIGN,
    metrics=("mean_trust", "trades"),
    extra="timeseries_every = 10\n",
    base_set=["population.n_customers=80", "population.n_firms=2", "run.steps=30"],
)
ARGS = ("--workers", "2", "--batch", "3", "--quiet")
WAIT = 60.0  # upper bound of every wait on the subprocess


def n_chunks(out: Path) -> int:
    return len(list((out / "chunks").glob("runs-*.parquet"))) if (out / "chunks").exists() else 0


def wait_for_chunks(proc, out: Path, target: int) -> None:
    deadline = time.monotonic() + WAIT
    while n_chunks(out) < target:
        assert proc.poll() is None, f"sweep ended early: {proc.communicate()}"
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.01)


def assert_gone(processes: list[psutil.Process]) -> None:
    """Orphaned pool workers stop on their own instead of computing for nobody."""
    _, alive = psutil.wait_procs(processes, timeout=WAIT)
    assert not alive, f"orphaned workers still running: {alive}"


def kill_hard(proc) -> None:
    """SIGKILL the sweep process alone (as `kill -9 PID` would); its workers must follow."""
    children = psutil.Process(proc.pid).children(recursive=True)
    os.kill(proc.pid, signal.SIGKILL)
    assert_gone(children)
    proc.communicate(timeout=WAIT)


def assert_finished_like_reference(out: Path, reference) -> None:
    runs = pd.read_parquet(out / "runs.parquet")
    assert runs["run_id"].is_unique and read_chunks(out)["run_id"].is_unique
    assert_same_runs(runs, reference[0])
    pd.testing.assert_frame_equal(load_timeseries(out), reference[1], check_exact=True)


def test_idle_pool_workers_exit_when_the_sweep_is_killed():
    """Idle workers block on a queue they also hold open, so only the watchdog ends them."""
    code = (
        "import time\nfrom trustsim.analysis.sweep.executors import LocalPool\npool = LocalPool(2)\n"
        "pool.submit(time.sleep, 0.2).result()\nprint('idle', flush=True)\ntime.sleep(600)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "idle"
    assert len(psutil.Process(proc.pid).children()) >= 2
    kill_hard(proc)


def test_kill_9_at_random_moments_then_resume(exp_path, reference, tmp_path):
    rng = random.Random(20240611)
    out = tmp_path / "sweep"
    args = ("sweep", str(exp_path), "--out", str(out), *ARGS)

    proc = cli_process(*args)  # a kill during start-up: before or while the manifest is written
    time.sleep(rng.uniform(0.1, 1.5))
    kill_hard(proc)

    partial_states = 0
    for _ in range(3):  # kills mid-sweep, a random number of chunks later
        proc = cli_process(*args)
        wait_for_chunks(proc, out, n_chunks(out) + rng.randint(2, 12))
        time.sleep(rng.uniform(0, 0.05))
        kill_hard(proc)
        done = read_chunks(out)
        assert done["run_id"].is_unique
        assert not (out / "runs.parquet").exists()
        partial_states += 0 < len(done) < len(reference[0])
    assert partial_states == 3

    finished = cli(*args)
    assert finished.returncode == 0, finished.stderr
    assert f"{len(reference[0])} runs (" in finished.stdout
    assert_finished_like_reference(out, reference)


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_stops_cleanly_and_resumes(exp_path, reference, tmp_path, how):
    out = tmp_path / "sweep"
    args = ("sweep", str(exp_path), "--out", str(out), *ARGS)
    proc = cli_process(*args)
    wait_for_chunks(proc, out, 5)
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    else:
        proc.terminate()  # what a batch system sends the sweep process
    _, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    saved = len(read_chunks(out))
    assert f"interrupted: {saved} of {len(reference[0])} runs are saved in {out}" in err
    assert "run the same command again" in err
    assert 0 < saved < len(reference[0])

    resumed = cli(*args)
    assert resumed.returncode == 0, resumed.stderr
    assert f"({len(reference[0]) - saved} new, {saved} kept)" in resumed.stdout
    assert_finished_like_reference(out, reference)
