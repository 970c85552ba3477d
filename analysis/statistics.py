"""The registry of per-run statistics: each turns one run into one number.

Hypothesis studies (``trustsim study``) and calibration (``trustsim calibrate``) both name
their quantity by a string; this module is the one place that string is resolved. A name is
either a metric of :data:`trustsim.metrics.METRICS` (its mean over the last ``window``
steps) or a named statistic registered here with :func:`statistic`, which may read the
run's relationship event log (then the run is made with ``run.history = true``).

Statistics reuse the measures of :mod:`trustsim.analysis.hypotheses`; they return NaN
when a run holds too little to measure (e.g. no breach happened), never a made-up value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trustsim.codes import COLD
from trustsim.metrics import EV_TURNOVER, METRIC_HELP, METRICS

from . import hypotheses as H


@dataclass(frozen=True)
class RunView:
    """What a statistic may read of one finished run."""

    timeseries: pd.DataFrame  # one row per step, columns METRICS
    events: pd.DataFrame | None = None  # the event log, when the run kept one
    world: object | None = None  # trustsim.population.World, for per-firm attributes
    window: int = 20  # output window: the last steps a metric is averaged over

    def window_mean(self, metric: str) -> float:
        """Mean of a metric over the last ``window`` steps that have a value."""
        values = self.timeseries[metric].to_numpy(dtype=float)[-self.window :]
        values = values[~np.isnan(values)]
        return float(values.mean()) if values.size else float("nan")


@dataclass(frozen=True)
class Statistic:
    name: str
    help: str
    needs_events: bool
    func: Callable[[RunView], float]

    def __call__(self, view: RunView) -> float:
        if self.needs_events and view.events is None:
            raise ValueError(f"statistic {self.name} needs the run's event log (run.history)")
        return float(self.func(view))


STATISTICS: dict[str, Statistic] = {}


def statistic(name: str, help: str, needs_events: bool = True):
    """Register ``func(view) -> float`` as the named statistic ``name``."""

    def register(func: Callable[[RunView], float]) -> Callable[[RunView], float]:
        if name in STATISTICS or name in METRICS:
            raise ValueError(f"statistic {name!r} is already defined")
        STATISTICS[name] = Statistic(name, help, needs_events, func)
        return func

    return register


def lookup(name: str) -> Statistic:
    """The statistic called ``name``: a registered one, or a metric's window mean."""
    if name in STATISTICS:
        return STATISTICS[name]
    if name in METRICS[1:]:
        return Statistic(
            name, f"{METRIC_HELP[name]} (window mean)", False, lambda v: v.window_mean(name)
        )
    raise KeyError(name)


def known() -> list[str]:
    """Every name :func:`lookup` accepts: named statistics first, then metrics."""
    return sorted(STATISTICS) + list(METRICS[1:])


def needs_events(names: Iterable[str]) -> bool:
    return any(lookup(n).needs_events for n in names)


def compute(names: Iterable[str], view: RunView) -> dict[str, float]:
    return {n: lookup(n)(view) for n in names}


def describe() -> list[tuple[str, str]]:
    """(name, one-line help) of every named statistic, for ``--list-statistics``."""
    return [(s.name, s.help) for s in sorted(STATISTICS.values(), key=lambda s: s.name)]


def _nan_if_empty(values: pd.Series | np.ndarray) -> float:
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")


# --- named statistics ------------------------------------------------------------------


@statistic(
    "trades_to_insider",
    "H1: mean number of trades at which a relationship first crossed from outsider to insider",
)
def _trades_to_insider(v: RunView) -> float:
    return _nan_if_empty(H.h1_insider_by_trades(v.events).attrs["trades_to_insider"])


@statistic(
    "wom_positive_to_negative",
    "praise per warning over the whole run (word-of-mouth ratio; NaN: no warning)",
    needs_events=False,
)
def _wom_ratio(v: RunView) -> float:
    neg = v.timeseries["wom_negative"].sum()
    return float(v.timeseries["wom_positive"].sum() / neg) if neg else float("nan")


# --- calibration: stylized facts (issue 11; docs/CALIBRATION.md maps each to its source) -

YEAR = 52  # steps: one step is one week (ODD 2)


@statistic(
    "departure_sales_drop",
    "difference-in-differences fall of a firm's trades with a departing salesperson's "
    "customers, year after vs year before, against the firm's other customers (Shi et al. 2017)",
)
def _departure_sales_drop(v: RunView) -> float:
    ev = v.events
    moves = ev[ev.kind == EV_TURNOVER]
    tr = H.trades(ev)
    step, firm, customer = (tr[c].to_numpy() for c in ("step", "firm", "customer"))
    last = int(v.timeseries["step"].iloc[-1])
    sums = np.zeros(4)  # treated before, treated after, control before, control after
    for (t, f), group in moves.groupby(["step", "firm"]):
        if t - YEAR < 1 or t + YEAR > last:
            continue  # the year before or after falls outside the run
        at_firm = firm == f
        pre = at_firm & (step >= t - YEAR) & (step < t)
        post = at_firm & (step >= t) & (step < t + YEAR)
        treated = np.isin(customer, group.customer.to_numpy())
        sums += [
            np.sum(pre & treated),
            np.sum(post & treated),
            np.sum(pre & ~treated),
            np.sum(post & ~treated),
        ]
    before, after, control_before, control_after = sums
    if not (before and control_before and control_after):
        return float("nan")
    return float(1.0 - (after / before) / (control_after / control_before))


@statistic(
    "cost_ratio_least_to_most_trusted",
    "mean cost per trade in the least-trusted fifth of relationships over the most-trusted "
    "fifth (relationship trust = mean trust before its trades; Dyer & Chu 2003)",
)
def _cost_ratio(v: RunView) -> float:
    per_pair = H.trades(v.events).groupby(H.PAIR)[["trust_before", "cost"]].mean()
    if len(per_pair) < 10:
        return float("nan")
    low, high = per_pair.trust_before.quantile([0.2, 0.8])
    least = per_pair.cost[per_pair.trust_before <= low].mean()
    most = per_pair.cost[per_pair.trust_before >= high].mean()
    return float(least / most) if most > 0 else float("nan")


@statistic(
    "complaint_share",
    "complaints per service failure over the whole run (TARP: about half of customers "
    "with a problem complain)",
    needs_events=False,
)
def _complaint_share(v: RunView) -> float:
    failures = v.timeseries["failures"].sum()
    return float(v.timeseries["complaints"].sum() / failures) if failures else float("nan")


@statistic(
    "stranger_trust",
    "mean trust at the first encounter of relationships begun by cold contact "
    "(trust toward strangers; investment-game senders send about half)",
)
def _stranger_trust(v: RunView) -> float:
    enc = H.encounters(v.events)
    cold = enc[enc.origin == COLD]
    first = cold.drop_duplicates(H.PAIR, keep="first")
    return _nan_if_empty(first.trust_before)
