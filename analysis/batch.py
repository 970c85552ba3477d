"""The unit of work of a sweep: a batch of runs, executed wherever a worker lives.

Local pool processes and dask workers call the same :func:`run_batch`; it needs nothing
but its :class:`Batch` argument, so its result cannot depend on where or when it runs.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.loader import validate
from sim.run import simulate

from .design import point_data

ORPHAN_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Batch:
    """Runs to compute: the base scenario, one (ids, parameter values) entry per run, and
    what to keep from each run."""

    base: dict[str, Any]
    source: str
    runs: tuple[tuple[dict[str, int], dict[str, Any]], ...]
    metrics: tuple[str, ...]
    window: int
    every: int

    @property
    def stem(self) -> str:
        """Chunk file stem: first and last run id (unique among unfinished batches)."""
        ids = [ids["run_id"] for ids, _ in self.runs]
        return f"{min(ids):09d}-{max(ids):09d}"


@dataclass
class BatchResult:
    stem: str
    runs: pd.DataFrame
    timeseries: pd.DataFrame | None
    sim_seconds: float


def _exit_when_orphaned(parent_pid: int) -> None:
    """An idle pool worker waits on a queue whose writing end it holds itself, so it would
    never notice that the sweep process was killed: watch the parent instead."""
    while os.getppid() == parent_pid:
        time.sleep(ORPHAN_POLL_SECONDS)
    os._exit(1)


def init_local_worker(parent_pid: int) -> None:
    """Pool worker setup: Ctrl-C is the parent's to handle, and an orphan exits."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), daemon=True).start()


def _final(ts: pd.DataFrame, metric: str, window: int) -> Any:
    """A metric's kept value: the last step's, or the mean of the last ``window`` steps."""
    return ts[metric].iloc[-1] if window == 1 else ts[metric].iloc[-window:].mean()


def run_batch(batch: Batch) -> BatchResult:
    """Run every run of the batch on the core engine and keep the requested metrics."""
    rows, series = [], []
    sim_seconds = 0.0
    for ids, values in batch.runs:
        scenario = validate(point_data(batch.base, values), f"{batch.source}: run {ids['run_id']}")
        start = time.perf_counter()
        ts = simulate(scenario, engine="core", seed=ids["seed"]).timeseries
        sim_seconds += time.perf_counter() - start
        rows.append({**ids, **values, **{m: _final(ts, m, batch.window) for m in batch.metrics}})
        if batch.every:
            kept = ts.loc[ts["step"] % batch.every == 0, ["step", *batch.metrics]]
            series.append(kept.assign(run_id=ids["run_id"]))
    runs = pd.DataFrame(rows)
    timeseries = None
    if batch.every:
        timeseries = pd.concat(series, ignore_index=True)
        timeseries = timeseries[["run_id", "step", *batch.metrics]]
    return BatchResult(batch.stem, runs, timeseries, sim_seconds)
