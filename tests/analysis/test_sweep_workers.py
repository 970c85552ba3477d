"""Local pool workers: forked from a warm fork server, yet started as if spawned by the
sweep process now (its environment) and with single-threaded BLAS."""

from __future__ import annotations

import os

import pytest

from trustsim.analysis.sweep.executors import LocalPool, start_workers_early


def blas_threads(_: object = None) -> list[int]:
    """Threads of every BLAS library loaded in the calling process."""
    import threadpoolctl

    return [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]


def test_workers_see_the_environment_of_the_sweep_process_when_the_pool_opens(monkeypatch):
    monkeypatch.setenv("TRUSTSIM_PROBE_OLD", "set before the fork server started")
    start_workers_early()  # the server keeps the environment it started with
    monkeypatch.delenv("TRUSTSIM_PROBE_OLD")
    monkeypatch.setenv("TRUSTSIM_PROBE_NEW", "set after")
    pool = LocalPool(2)
    try:
        assert pool.submit(os.getenv, "TRUSTSIM_PROBE_NEW").result() == "set after"
        assert pool.submit(os.getenv, "TRUSTSIM_PROBE_OLD").result() is None
    finally:
        pool.stop([])


def test_workers_run_blas_on_one_thread(monkeypatch):
    """A pool runs one worker per core: BLAS threads in a worker only steal the other
    workers' cores (OpenBLAS threads busy-wait)."""
    pytest.importorskip("threadpoolctl")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    pool = LocalPool(2)
    try:
        threads = pool.submit(blas_threads, None).result()
    finally:
        pool.stop([])
    assert threads and set(threads) == {1}


def compiled_before_any_batch(_: object = None) -> dict[str, bool]:
    """Which of the core's compiled entry points a worker has loaded before its first run."""
    from trustsim.core.step import run_steps_serial, step_serial

    return {"run_steps": bool(run_steps_serial.overloads), "step": bool(step_serial.overloads)}


def test_workers_start_with_the_compiled_core_loaded():
    """The fork server warms the core as a batch runs it (the multi-step loop, and the step
    with the event log), so no worker pays for loading it on its first batch."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork server on this platform: workers load on their first run")
    pool = LocalPool(2)
    try:
        assert pool.submit(compiled_before_any_batch, None).result() == {
            "run_steps": True,
            "step": True,
        }
    finally:
        pool.stop([])


def test_a_warm_up_that_fails_says_why_in_one_line_and_does_not_stop_the_sweep():
    import subprocess
    import sys

    broken = (
        "import sys; sys.modules['trustsim.analysis.measures.statistics'] = None\n"
        "import trustsim.analysis.sweep.warmup\n"
    )
    out = subprocess.run([sys.executable, "-c", broken], capture_output=True, text=True)
    assert out.returncode == 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "sweep workers were not warmed (ModuleNotFoundError" in lines[0]


def test_a_bad_setting_the_workers_meet_while_warming_is_still_one_line(tmp_path):
    """The fork server's warm-up meets a bad TRUSTSIM_THREADS first; the sweep says it once."""
    import numba

    from tests.analysis.sweep_helpers import GRID, cli, experiment_text, write

    exp = write(tmp_path, experiment_text(GRID))
    out = cli(
        "sweep", str(exp), "--workers", "2", "--quiet", "--out", str(tmp_path / "out"),
        env={**os.environ, "TRUSTSIM_THREADS": "two"},
    )  # fmt: skip
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "error: TRUSTSIM_THREADS='two': use a whole number of threads, 1 or more "
        f"(at most {numba.config.NUMBA_NUM_THREADS} are used here)"
    ]
