"""What a person sees after a run: a terminal summary table and a PNG figure.

The figure is drawn on matplotlib's Agg canvas directly, not through pyplot: that is
faster to import (part of `trustsim run`'s start-up) and leaves the caller's pyplot
backend alone. `trustsim run` draws it in a second process (:mod:`trustsim.runtime.drawer`) that
imports matplotlib while the run computes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from trustsim.runtime.run import RunResult

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
    return plot_figure(figure_frame(), figure_data(result), path)


def figure_data(result: RunResult) -> dict[str, object]:
    """What the figure shows of a run: its title and the columns it plots."""
    title = (
        f"trustsim: {result.scenario.population.n_customers} customers, "
        f"engine {result.engine}, seed {result.seed}"
    )
    return {"title": title, "columns": {name: result.columns[name] for name in FIGURE_COLUMNS}}


def figure_frame():
    """The figure before the run's data: four titled panels. Importing matplotlib for it
    is most of a figure's cost, which :mod:`trustsim.runtime.drawer` pays while the run computes."""
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


def plot_figure(fig, data: dict, path: Path) -> Path:
    """Plot ``data`` (see :func:`figure_data`) into a frame and write it as a PNG."""
    from trustsim.runtime.files import atomic_write

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
