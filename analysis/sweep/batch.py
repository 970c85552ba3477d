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

import numpy as np
import pandas as pd

from trustsim.analysis.sweep.design import point_data, unobserved
from trustsim.engine import make_model
from trustsim.loader import validate
from trustsim.runtime.run import model_columns

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
    # (point_id, names[, window]): registry statistics to compute for the runs of that point
    # (window: the point's own metric window, default ``window``). Only these numbers travel
    # back; the event log, when a statistic needs one, is made and read here.
    statistics: tuple[tuple, ...] = ()

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


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a killed one that nobody has reaped yet, a
    zombie, does not: its children must not wait for the reaping)."""
    if os.path.isdir("/proc/self"):
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                return stat.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
        except OSError:
            return False
    try:  # no /proc (macOS): whether the pid exists
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _exit_when_orphaned(sweep_pid: int) -> None:
    """An idle pool worker waits on a queue whose writing end it holds itself, so it would
    never notice that the sweep process was killed: watch it instead. A worker's parent is
    the sweep process (spawned) or the fork server, which outlives a killed sweep process
    as long as any worker holds it open; so the sweep process itself is watched too."""
    parent = os.getppid()
    while os.getppid() == parent and _alive(sweep_pid):
        time.sleep(ORPHAN_POLL_SECONDS)
    os._exit(1)


def init_local_worker(sweep_pid: int, environ: dict[str, str] | None = None) -> None:
    """Pool worker setup: the sweep process's environment as it is now (a fork server
    started earlier holds an older one; e.g. TRUSTSIM_THREADS is read at every step),
    Ctrl-C is the sweep process's to handle, and an orphan exits."""
    if environ is not None and environ != os.environ:
        os.environ.clear()
        os.environ.update(environ)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_when_orphaned, args=(sweep_pid,), daemon=True).start()


def _final(cols: dict[str, np.ndarray], metric: str, window: int) -> float | int:
    """A metric's kept value: the last step's, or the mean of the last ``window`` steps
    that have one (NaN if none has)."""
    if window == 1:
        return cols[metric][-1].item()
    values = cols[metric][-window:].astype(float)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")


def _series(cols: dict[str, np.ndarray], run_id: int, metrics: tuple[str, ...], every: int) -> dict:
    """Every ``every``-th step of the kept metrics, as columns."""
    kept = cols["step"] % every == 0
    return {
        "run_id": [run_id] * int(kept.sum()),
        "step": cols["step"][kept].tolist(),
        **{m: cols[m][kept].tolist() for m in metrics},
    }


def _run_statistics(names: tuple[str, ...], model, cols: dict, window: int) -> dict:
    """The requested registry statistics of one finished run (NaN where unmeasurable)."""
    from trustsim.analysis.measures.statistics import RunView, compute
    from trustsim.runtime.run import events_frame

    view = RunView(pd.DataFrame(cols), events_frame(model), model.world, window, model.params)
    return compute(names, view)


def run_batch(batch: Batch) -> BatchResult:
    """Run every run of the batch on the core engine and keep the requested metrics.

    It steps the model itself rather than calling :func:`trustsim.runtime.run.simulate`, whose full
    per-step DataFrame costs more than a small run's simulation; the values are the same
    (tests/test_sweep.py checks a row against simulate()).
    """
    from trustsim.analysis.measures.statistics import needs_events

    rows, series = [], []
    sim_seconds = 0.0
    wanted = {e[0]: (e[1], e[2] if len(e) > 2 else batch.window) for e in batch.statistics}
    for ids, values in batch.runs:
        names, window = wanted.get(ids["point_id"], ((), batch.window))
        data = unobserved(point_data(batch.base, values), (*batch.metrics, *names))
        if names and needs_events(names):
            data["run"]["history"] = True
        scenario = validate(data, f"{batch.source}: run {ids['run_id']}")
        start = time.perf_counter()
        model = make_model(scenario, "core", ids["seed"])
        model.run(scenario.run.steps)
        steps = model_columns(model)
        sim_seconds += time.perf_counter() - start
        row = {**ids, **values, **{m: _final(steps, m, batch.window) for m in batch.metrics}}
        if names:
            row.update(_run_statistics(names, model, steps, window))
        rows.append(row)
        if batch.every:
            series.append(pd.DataFrame(_series(steps, ids["run_id"], batch.metrics, batch.every)))
    timeseries = pd.concat(series, ignore_index=True) if batch.every else None
    return BatchResult(batch.stem, pd.DataFrame(rows), timeseries, sim_seconds)
