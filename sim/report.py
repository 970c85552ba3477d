"""What a person sees after a run: a terminal summary table and a PNG figure.

The figure is drawn on matplotlib's Agg canvas directly, not through pyplot: that is
faster to import (part of `trustsim run`'s start-up) and leaves the caller's pyplot
backend alone.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

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


def print_summary(result: RunResult, paths: dict[str, Path]) -> None:
    """Final values of the main metrics and totals of the main events."""
    from rich.console import Console
    from rich.table import Table

    ts = result.timeseries
    p = result.scenario.population
    table = Table(
        title=f"trustsim · {p.n_customers} customers · {p.n_salespeople} salespeople · "
        f"{len(ts)} steps · engine {result.engine} · seed {result.seed}"
    )
    table.add_column("metric")
    table.add_column("step 1", justify="right")
    table.add_column(f"step {len(ts)}", justify="right")
    table.add_column("total", justify="right")
    for name in SUMMARY_MEANS:
        table.add_row(name, f"{ts[name].iloc[0]:.3f}", f"{ts[name].iloc[-1]:.3f}", "")
    table.add_section()
    for name in SUMMARY_TOTALS:
        table.add_row(
            name, str(int(ts[name].iloc[0])), str(int(ts[name].iloc[-1])), str(int(ts[name].sum()))
        )
    console = Console()
    console.print(table)
    console.print(f"wall time {result.wall_time:.2f} s")
    for kind, path in paths.items():
        console.print(f"{kind}: {path}")


def save_figure(result: RunResult, path: Path) -> Path:
    """Four panels: trust components, insider share, events, transaction cost."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ts = result.timeseries
    fig = Figure(figsize=(11, 7))
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 2)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.08, top=0.9, wspace=0.18, hspace=0.35)
    ax = axes[0, 0]
    for name, label in (
        ("mean_instrumental_trust", "instrumental (ability)"),
        ("mean_emotional_trust", "emotional (character)"),
        ("mean_trust", "overall"),
        ("mean_org_trust", "organizational"),
    ):
        ax.plot(ts.step, ts[name], label=label)
    ax.set(title="Trust in one's salesperson and in firms", xlabel="step", ylim=(0, 1))
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    ax.plot(ts.step, ts.insider_share, color="tab:purple")
    ax.set(title="Share of customers whose salesperson is an insider", xlabel="step", ylim=(0, 1))
    ax = axes[1, 0]
    for name in ("trades", "failures", "complaints", "breaches", "wom_negative"):
        ax.plot(ts.step, ts[name].rolling(5, min_periods=1).mean(), label=name)
    ax.set(title="Events per step (5-step mean)", xlabel="step")
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    ax.plot(ts.step, ts.mean_transaction_cost, color="tab:brown")
    ax.set(title="Transaction cost per trade", xlabel="step")
    fig.suptitle(
        f"trustsim: {result.scenario.population.n_customers} customers, "
        f"engine {result.engine}, seed {result.seed}"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


HELPER_TIMEOUT = 120.0  # seconds to wait for the helper before drawing here instead


def _figure_helper(conn) -> None:
    """In the helper process: import matplotlib now, then draw the figure it is sent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    import matplotlib.backends.backend_agg
    import matplotlib.figure  # noqa: F401

    try:
        result, path = conn.recv()
    except (EOFError, OSError):
        return
    try:
        save_figure(result, Path(path))
        conn.send(None)
    except Exception as exc:  # reported to the parent, which draws the figure itself
        conn.send(repr(exc))


class FigureWorker:
    """Draws a run's figure in a forked helper that loads matplotlib while the run
    simulates: on two cores, most of the figure's cost leaves `trustsim run`'s start-up.

    Only a fresh process forks (numba not yet loaded, one thread), so no threading layer
    is copied; anywhere else, or if the helper fails, :meth:`save` draws here.
    """

    def __init__(self) -> None:
        self._proc = self._conn = None
        can_fork = "fork" in multiprocessing.get_all_start_methods()
        if can_fork and "numba" not in sys.modules and threading.active_count() == 1:
            ctx = multiprocessing.get_context("fork")
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_figure_helper, args=(child,), daemon=True)
            try:
                proc.start()
            except OSError:
                return
            child.close()
            self._proc, self._conn = proc, parent

    def save(self, result: RunResult, path: Path) -> Path:
        """Write the figure of ``result`` to ``path`` (by the helper if it is there)."""
        if self._proc is not None:
            try:
                self._conn.send((dataclasses.replace(result, model=None, events=None), str(path)))
                done = self._conn.poll(HELPER_TIMEOUT)
                failed = self._conn.recv() if done else "helper timed out"
            except (EOFError, OSError, ValueError):
                failed = "helper lost"
            self.close()
            if failed is None:
                return path
        return save_figure(result, path)

    def close(self) -> None:
        """Stop the helper (an unused one is simply ended)."""
        if self._proc is not None:
            self._conn.close()
            self._proc.join(timeout=5)
            if self._proc.is_alive():
                self._proc.terminate()
            self._proc = None
