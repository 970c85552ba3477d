"""BG/NBD (Fader, Hardie & Lee 2005) on a panel's weeks 1-39, with ``lifetimes``.

The fitter, its likelihood and its expectations are lifetimes'; this module only turns a
:class:`~trustsim.analysis.realdata.cdnow.Panel` into its inputs (frequency, recency and
age T in weeks, measured to the end of 30 September 1997 as in the paper and in
lifetimes' ``cdnow_customers_summary.csv``) and the model's predictions into the three
comparison tables: cumulative repeat purchases by week, the histogram of weeks 1-39 and the
conditional expectations of weeks 40-78.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trustsim.analysis.measures.cohort import CALIBRATION_WEEKS, MAX_X, TOTAL_WEEKS
from trustsim.analysis.realdata.cdnow import Panel
from trustsim.errors import require

# The published estimates on the 2,357-customer sample (FHL 2005, Table 1 / section 4).
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_LOG_LIKELIHOOD = -9582.4
# Age is measured to the last calibration day (30 September 1997, day 272), as lifetimes'
# summary file and the paper's T = 38.86 weeks for a 1 January customer.
LAST_CALIBRATION_DAY = 7 * CALIBRATION_WEEKS - 1


@dataclass(frozen=True)
class Summary:
    """Per customer (same order): first purchase day, frequency, recency, T (weeks)."""

    first_day: np.ndarray
    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray


def summarize(panel: Panel) -> Summary:
    """Frequency (repeat purchase-days), recency and T of weeks 1-39, per customer."""
    t = panel.calibration().transactions.drop_duplicates(["customer", "day"])
    g = t.groupby("customer").day
    first, last, n = g.min(), g.max(), g.size()
    return Summary(
        first.to_numpy(),
        (n - 1).to_numpy().astype(float),
        ((last - first) / 7).to_numpy(),
        ((LAST_CALIBRATION_DAY - first) / 7).to_numpy(),
    )


def _fitter(params: dict[str, float] | None, s: Summary):
    lifetimes = require("lifetimes", "BG/NBD")
    bgf = lifetimes.BetaGeoFitter()
    if params is None:
        bgf.fit(s.frequency, s.recency, s.T)
    else:
        bgf.params_ = pd.Series(params)[["r", "alpha", "a", "b"]]
    return bgf


def log_likelihood(bgf, s: Summary) -> float:
    """The BG/NBD log-likelihood of weeks 1-39 at ``bgf``'s parameters (lifetimes' own)."""
    params = bgf.params_[["r", "alpha", "a", "b"]].to_numpy(dtype=float)
    nll = bgf._negative_log_likelihood(
        np.log(params), s.frequency, s.recency, s.T, np.ones_like(s.T), 0.0
    )
    return float(-nll * len(s.T))


def _histogram(bgf, T: np.ndarray) -> np.ndarray:
    """Expected customers with 0..6 and 7+ repeat purchases by their own age T (lifetimes'
    P(X(t) = n) takes one t at a time: one call per distinct age)."""
    ages, count = np.unique(T, return_counts=True)
    probs = np.array(
        [[bgf.probability_of_n_purchases_up_to_time(t, n) for n in range(MAX_X)] for t in ages]
    )
    expected = (probs * count[:, None]).sum(axis=0)
    return np.append(expected, len(T) - expected.sum())


@dataclass(frozen=True)
class Prediction:
    name: str
    params: dict[str, float]
    log_likelihood: float
    cumulative: np.ndarray  # expected cumulative repeat purchases at the end of weeks 1-78
    histogram: np.ndarray  # expected customers with 0..6, 7+ repeats in weeks 1-39
    conditional: np.ndarray  # expected repeats in weeks 40-78 by class x of weeks 1-39


def predict(panel: Panel, params: dict[str, float] | None = None, name: str = "") -> Prediction:
    """BG/NBD at ``params`` (None: fitted with lifetimes on weeks 1-39 of ``panel``)."""
    s = summarize(panel)
    bgf = _fitter(params, s)
    cumulative = np.zeros(TOTAL_WEEKS)
    for w in range(1, TOTAL_WEEKS + 1):  # time since each customer's trial, in weeks
        age = np.maximum((7 * w - 1 - s.first_day) / 7, 0.0)
        cumulative[w - 1] = float(np.sum(bgf.expected_number_of_purchases_up_to_time(age)))
    histogram = _histogram(bgf, s.T)
    expected = bgf.conditional_expected_number_of_purchases_up_to_time(
        CALIBRATION_WEEKS, s.frequency, s.recency, s.T
    )
    x = np.minimum(s.frequency.astype(int), MAX_X)
    n = np.bincount(x, minlength=MAX_X + 1)
    total = np.bincount(x, weights=np.asarray(expected), minlength=MAX_X + 1)
    conditional = np.where(n > 0, total / np.maximum(n, 1), np.nan)
    fitted = {k: float(v) for k, v in bgf.params_[["r", "alpha", "a", "b"]].items()}
    return Prediction(
        name or ("fitted" if params is None else "published"),
        fitted,
        log_likelihood(bgf, s),
        cumulative,
        histogram,
        conditional,
    )
