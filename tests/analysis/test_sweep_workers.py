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
