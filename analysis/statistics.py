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

from trustsim.metrics import METRIC_HELP, METRICS

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
