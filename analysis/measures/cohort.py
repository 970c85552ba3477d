"""A cohort's repeat buying, counted one way for the real panel and for the model.

A cohort is a set of customers, each with the occasions on which it bought (one per
customer-day in a retailer's records, one per customer-week in the model). Its first
occasion is its trial; every later one is a *repeat purchase*, as in the repeat-buying
literature (Fader, Hardie & Lee 2005). Everything here counts those repeats by week: the
weekly totals, each customer's count in a period, the histogram of calibration-period
counts (0, 1, ..., 7+) and the conditional expectations (mean hold-out count by
calibration-period count). docs/REAL_DATA.md states the mapping of model trades to occasions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CALIBRATION_WEEKS = 39  # weeks 1-39: 1 January to 30 September 1997 in CDNOW
TOTAL_WEEKS = 78  # weeks 40-78 are the hold-out
ACQUISITION_WEEKS = 12  # the cohort's first purchases fall in these weeks (the first quarter)
MAX_X = 7  # histogram and conditional classes 0..6 and "7 or more"
FOCAL_FIRM = 0  # the model's retailer: the firm whose cohort is followed


@dataclass(frozen=True)
class Cohort:
    """Repeat purchases of a cohort: ``first_week`` per customer (its trial) and one row
    per repeat occasion (``customer``, ``week``)."""

    first_week: pd.Series  # index: customer id
    repeats: pd.DataFrame  # columns customer, week

    @property
    def size(self) -> int:
        return len(self.first_week)

    def weekly(self, weeks: int = TOTAL_WEEKS) -> np.ndarray:
        """Repeat purchases of the whole cohort in each week 1..weeks."""
        w = self.repeats.week.to_numpy()
        return np.bincount(w[w <= weeks], minlength=weeks + 1)[1:].astype(float)

    def counts(self, first: int, last: int) -> pd.Series:
        """Each customer's repeat purchases in weeks first..last (zeros included)."""
        r = self.repeats
        inside = r[(r.week >= first) & (r.week <= last)]
        n = inside.groupby("customer").size()
        return n.reindex(self.first_week.index, fill_value=0).astype(int)

    def calibration_counts(self) -> pd.Series:
        return self.counts(1, CALIBRATION_WEEKS)

    def histogram(self) -> np.ndarray:
        """Customers with 0, 1, ..., 6 and 7+ repeat purchases in weeks 1-39."""
        x = np.minimum(self.calibration_counts().to_numpy(), MAX_X)
        return np.bincount(x, minlength=MAX_X + 1).astype(float)

    def conditional(self) -> pd.DataFrame:
        """Per class x = 0..7+ of weeks 1-39: customers ``n`` and their total and mean
        repeat purchases in weeks 40-78 (``mean`` NaN for an empty class)."""
        x = np.minimum(self.calibration_counts().to_numpy(), MAX_X)
        later = self.counts(CALIBRATION_WEEKS + 1, TOTAL_WEEKS).to_numpy()
        n = np.bincount(x, minlength=MAX_X + 1)
        total = np.bincount(x, weights=later, minlength=MAX_X + 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
        return pd.DataFrame({"x": np.arange(MAX_X + 1), "n": n, "total": total, "mean": mean})


def from_occasions(customer: np.ndarray, week: np.ndarray, order: np.ndarray) -> Cohort:
    """The cohort of every customer in ``customer``: its occasion with the smallest
    ``order`` is its trial, the rest are repeats. Rows repeating a customer's ``order``
    count once (several transactions on one day are one occasion)."""
    frame = pd.DataFrame({"customer": customer, "week": week, "order": order})
    frame = frame.drop_duplicates(["customer", "order"]).sort_values(
        ["customer", "order"], kind="stable"
    )
    trial = ~frame.customer.duplicated()
    first_week = frame.loc[trial].set_index("customer").week.rename("first_week")
    repeats = frame.loc[~trial, ["customer", "week"]].reset_index(drop=True)
    return Cohort(first_week, repeats)


def model_cohort(trades: pd.DataFrame, firm: int = FOCAL_FIRM) -> Cohort:
    """The model's cohort: customers whose first trade with ``firm`` falls in weeks 1-12
    (one step is one week), with all their trades with that firm as occasions."""
    at_firm = trades[trades.firm == firm]
    step = at_firm.step.to_numpy()
    customer = at_firm.customer.to_numpy()
    first = pd.Series(step).groupby(customer).transform("min").to_numpy()
    keep = first <= ACQUISITION_WEEKS
    return from_occasions(customer[keep], step[keep], step[keep])


def share_name(x: int) -> str:
    """The statistic of the share of the cohort with ``x`` repeat purchases in weeks 1-39."""
    return f"cohort_share_{x}"


def week_name(week: int) -> str:
    """The statistic of the cohort's repeat purchases per customer in ``week``."""
    return f"cohort_week_{week:02d}"
