"""What a person sees after a run: a terminal summary table and a PNG figure.

The figure is drawn on matplotlib's Agg canvas directly, not through pyplot: that is
faster to import (part of `trustsim run`'s start-up) and leaves the caller's pyplot
backend alone. `trustsim run` draws it in a second process (:class:`FigureDrawer`) that
imports matplotlib while the run computes.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .run import RunResult

SUMMARY_MEANS = (
    "mean_trust",
    "mean_instrumental_trust",
    "mean_emotional_trust",
    "mean_org_trust",
    "insider_share",
    "mean_transaction_cost",
    "survey_trust",
)
SUMMARY_TOTALS = (
    "trades",
    "failures",
    "breaches",
    "complaints",
    "switches",
    "churned",
    "referrals",
    "wom_positive",
    "wom_negative",
)


def print_summary(result: RunResult) -> None:
    """Final values of the main metrics and totals of the main events."""
    from rich.console import Console
    from rich.table import Table

    ts = result.columns
    p = result.scenario.population
    table = Table(
        title=f"trustsim · {p.n_customers} customers · {p.n_salespeople} salespeople · "
        f"{result.steps} steps · engine {result.engine} · seed {result.seed}"
    )
    table.add_column("metric")
    table.add_column("step 1", justify="right")
    table.add_column(f"step {result.steps}", justify="right")
    table.add_column("total", justify="right")
    for name in SUMMARY_MEANS:
        table.add_row(name, f"{ts[name][0]:.3f}", f"{ts[name][-1]:.3f}", "")
    table.add_section()
    for name in SUMMARY_TOTALS:
        table.add_row(name, str(int(ts[name][0])), str(int(ts[name][-1])), str(int(ts[name].sum())))
    console = Console()
    console.print(table)
    console.print(f"wall time {result.wall_time:.2f} s")


def print_paths(paths: dict[str, Path]) -> None:
    """Where the run's files are, one line each."""
    from rich.console import Console

    console = Console()
    for kind, path in paths.items():
        console.print(f"{kind}: {path}")


def trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of each value and the ``window - 1`` before it (fewer at the start), as
    pandas' ``rolling(window, min_periods=1).mean()`` gives, without importing pandas."""
    sums = np.convolve(np.asarray(values, dtype=float), np.ones(window))[: len(values)]
    return sums / np.minimum(np.arange(1, len(values) + 1), window)


TRUST_LINES = (
    ("mean_instrumental_trust", "instrumental (ability)"),
    ("mean_emotional_trust", "emotional (character)"),
    ("mean_trust", "overall"),
    ("mean_org_trust", "organizational"),
)
EVENT_LINES = ("trades", "failures", "complaints", "breaches", "wom_negative")
FIGURE_COLUMNS = (
    "step",
    *(name for name, _ in TRUST_LINES),
    "insider_share",
    *EVENT_LINES,
    "mean_transaction_cost",
)


def save_figure(result: RunResult, path: Path) -> Path:
    """Four panels: trust components, insider share, events, transaction cost."""
    return _save(_frame(), figure_data(result), path)


def figure_data(result: RunResult) -> dict[str, object]:
    """What the figure shows of a run: its title and the columns it plots."""
    title = (
        f"trustsim: {result.scenario.population.n_customers} customers, "
        f"engine {result.engine}, seed {result.seed}"
    )
    return {"title": title, "columns": {name: result.columns[name] for name in FIGURE_COLUMNS}}


def _frame():
    """The figure before the run's data: four titled panels. Importing matplotlib for it
    is most of a figure's cost, which :class:`FigureDrawer` pays while the run computes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 7))
    FigureCanvasAgg(fig)
    trust, insiders, events, cost = fig.subplots(2, 2).flat
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.08, top=0.9, wspace=0.18, hspace=0.35)
    trust.set(title="Trust in one's salesperson and in firms", xlabel="step", ylim=(0, 1))
    insiders.set(
        title="Share of customers whose salesperson is an insider", xlabel="step", ylim=(0, 1)
    )
    events.set(title="Events per step (5-step mean)", xlabel="step")
    cost.set(title="Transaction cost per trade", xlabel="step")
    return fig


def _save(fig, data: dict, path: Path) -> Path:
    """Plot ``data`` (see :func:`figure_data`) into a frame and write it as a PNG."""
    from .run import atomic_write

    ts = data["columns"]
    step = ts["step"]
    trust, insiders, events, cost = fig.axes
    for name, label in TRUST_LINES:
        trust.plot(step, ts[name], label=label)
    trust.legend(fontsize=8)
    insiders.plot(step, ts["insider_share"], color="tab:purple")
    for name in EVENT_LINES:
        events.plot(step, trailing_mean(ts[name], 5), label=name)
    events.legend(fontsize=8)
    cost.plot(step, ts["mean_transaction_cost"], color="tab:brown")
    fig.suptitle(data["title"])
    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    return path


# The second process of FigureDrawer: lays out the frame, then draws what arrives on stdin.
WORKER = "from trustsim.report import figure_worker; figure_worker()"
DRAWN = b"drawn\n"  # what the worker says once the figure is saved
WORKER_TIMEOUT = 120  # s after the data was sent; drawing takes well under one
FIGURE_WORKER = "TRUSTSIM_FIGURE_WORKER"  # 1: always use it, 0: never, unset: if a core is free


class FigureDrawer:
    """Draws a run's figure in a second process, started before the run: it imports
    matplotlib and lays out the panels while this process computes, so on a machine with
    two cores the figure costs `trustsim run` little more than drawing the lines.

    The worker only ever saves time: if it cannot start, dies, or fails in any way,
    :meth:`finish` draws the figure here, with the same result and the same errors as
    :func:`save_figure`. Call :meth:`close` when done (or use a context manager): a
    worker that was sent nothing, because the run failed or was interrupted, then ends
    without drawing.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._worker = _start_worker()
        self._result: RunResult | None = None

    def send(self, result: RunResult) -> None:
        """Hand ``result`` to the worker, which draws while this process goes on."""
        self._result = result
        worker = self._worker
        if worker is not None:
            data = {**figure_data(result), "path": str(self.path.absolute())}
            try:
                pickle.dump(data, worker.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                worker.stdin.flush()  # it reads exactly one pickle: no need to close
            except OSError:  # it died before reading all: finish() draws here
                self.close()

    def finish(self) -> Path:
        """The figure of the result sent, saved at ``path`` once this returns."""
        worker = self._worker
        if worker is not None:
            try:
                said, _ = worker.communicate(timeout=WORKER_TIMEOUT)
                if worker.returncode == 0 and said == DRAWN:
                    return self.path
            except subprocess.TimeoutExpired:  # stuck: draw here
                worker.kill()
            finally:
                self.close()
        return save_figure(self._result, self.path)

    def close(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            _end(worker)

    def __enter__(self) -> FigureDrawer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _start_worker() -> subprocess.Popen | None:
    """The worker process, or None where it cannot help: no core to spare, or a test that
    counts this process's writes (TRUSTSIM_FAIL_WRITE). TRUSTSIM_FIGURE_WORKER=1 or 0
    decides instead of :func:`spare_core` (for tests and benchmarks)."""
    from .run import FAIL_WRITE

    wanted = os.environ.get(FIGURE_WORKER, "")
    if wanted not in ("0", "1"):
        wanted = "1" if spare_core() else "0"
    if wanted == "0" or os.environ.get(FAIL_WRITE) or not sys.executable:
        return None
    try:
        return subprocess.Popen(
            [sys.executable, "-c", WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # its failures are drawn again here, where they show
        )
    except OSError:
        return None


def spare_core() -> bool:
    """Whether a core is free for the figure's worker besides this process. Where all
    cores are busy the worker only takes time from the run (measured on 2 cores with one
    taken by another job: 2.05 s with it against 1.74 s without), so the figure is then
    drawn here. Judged by the tasks running right now, not the load average, which lags a
    minute behind (a benchmark's own earlier runs would count); a wrong guess costs time,
    never a different figure."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:  # "0.52 0.58 0.59 2/191 4242": 2 tasks runnable now, this process included
        others = int(Path("/proc/loadavg").read_text().split()[3].split("/")[0]) - 1
    except (OSError, ValueError, IndexError):
        others = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return (cpus or 1) - others >= 2


def _end(worker: subprocess.Popen) -> None:
    """End of input: a worker still waiting exits without drawing."""
    with contextlib.suppress(OSError):
        worker.stdin.close()
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
    worker.stdout.close()


def figure_worker() -> None:
    """Lay out the frame, then plot the data :class:`FigureDrawer` sends on stdin, save
    it and say so; exit quietly when stdin ends without data (the run failed)."""
    from .run import atomic_write  # noqa: F401  (loaded now, not after the data came)

    fig = _frame()
    try:
        data = pickle.load(sys.stdin.buffer)
    except EOFError:
        return
    _save(fig, data, Path(data["path"]))
    sys.stdout.buffer.write(DRAWN)
