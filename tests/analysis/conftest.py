"""Fixtures of the analysis tests: a real dask.distributed cluster on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT

WAIT = 60.0


def _start(module: str, *args: str, log: Path) -> subprocess.Popen:
    with open(log, "w") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", f"distributed.cli.{module}", *args],
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """(scheduler address, worker processes): one thread each, no nanny, loopback only."""
    from distributed import Client

    tmp = tmp_path_factory.mktemp("dask")
    info = tmp / "scheduler.json"
    procs = [
        _start(
            "dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(info),
            log=tmp / "scheduler.log",
        )
    ]
    try:
        deadline = time.monotonic() + WAIT
        while not (info.exists() and info.stat().st_size):
            assert procs[0].poll() is None and time.monotonic() < deadline, (
                tmp / "scheduler.log"
            ).read_text()
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        workers = [
            _start(
                "dask_worker",
                address,
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--host",
                "127.0.0.1",
                "--name",
                f"w{i}",
                log=tmp / f"worker{i}.log",
            )
            for i in range(2)
        ]
        procs += workers
        with Client(address, timeout=WAIT) as client:
            client.wait_for_workers(2, timeout=WAIT)
        yield address, workers
    finally:
        _stop(procs[::-1])  # workers first: a worker whose scheduler is gone waits for it
