"""``trustsim predict cdnow``: the model's cohort beside the panel and BG/NBD.

The scenario is run for 78 weeks on ``seeds`` seeds (core engine, event log on); the focal
firm's cohorts of all seeds are pooled and every model figure is per cohort customer times
the panel's cohort size. Tables and errors:

* tracking: cumulative repeat purchases of the whole cohort at the end of weeks 1-78;
* histogram: customers with 0..6, 7+ repeat purchases in weeks 1-39;
* conditional: mean repeat purchases in weeks 40-78 by that class;
* errors: hold-out MAPE of cumulative tracking (weeks 40-78, percent), MAE of the
  conditional expectations over x = 0..7+ (unweighted, as the paper's figure shows them;
  over the classes the model's cohort fills, the same classes for every predictor)
  and the histogram's chi-square (7 degrees of freedom, classes 0..7+), for the model and
  for BG/NBD at the published and at the fitted parameters.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trustsim.analysis.measures import hypotheses as H
from trustsim.analysis.measures.cohort import (
    CALIBRATION_WEEKS,
    MAX_X,
    TOTAL_WEEKS,
    Cohort,
    model_cohort,
)
from trustsim.analysis.realdata import bgnbd
from trustsim.analysis.realdata.cdnow import Panel
from trustsim.params import Scenario
from trustsim.runtime.run import simulate

DEFAULT_SEEDS = 10


@dataclass(frozen=True)
class ModelCohort:
    """The pooled cohort of every seed: per-customer figures and each seed's size."""

    weekly: np.ndarray  # repeat purchases per cohort customer, weeks 1-78
    histogram: np.ndarray  # share of cohort customers with 0..6, 7+ in weeks 1-39
    conditional: np.ndarray  # mean repeats in weeks 40-78 by class (NaN: empty class)
    sizes: list[int]
    per_seed: list[Cohort] = field(repr=False)
    seconds: float = 0.0

    @property
    def size(self) -> int:
        return int(sum(self.sizes))


def run_cohorts(scenario: Scenario, seeds: int, first_seed: int | None = None) -> ModelCohort:
    """Run ``scenario`` for 78 weeks on ``seeds`` consecutive seeds and pool the cohorts."""
    start = time.perf_counter()
    base = scenario.run.seed if first_seed is None else first_seed
    cohorts = []
    for k in range(seeds):
        result = simulate(scenario, "core", seed=base + k, steps=TOTAL_WEEKS)
        cohorts.append(model_cohort(H.trades(result.events)))
    n = sum(c.size for c in cohorts)
    weekly = sum(c.weekly() for c in cohorts) / max(n, 1)
    histogram = sum(c.histogram() for c in cohorts) / max(n, 1)
    tables = [c.conditional() for c in cohorts]
    members = sum(t.n.to_numpy() for t in tables)
    totals = sum(t.total.to_numpy() for t in tables)
    conditional = np.where(members > 0, totals / np.maximum(members, 1), np.nan)
    return ModelCohort(
        weekly,
        histogram,
        conditional,
        [c.size for c in cohorts],
        cohorts,
        time.perf_counter() - start,
    )


@dataclass(frozen=True)
class Comparison:
    tracking: pd.DataFrame
    conditional: pd.DataFrame
    histogram: pd.DataFrame
    errors: pd.DataFrame
    bgnbd: dict[str, bgnbd.Prediction]
    model: ModelCohort


def mape(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Mean absolute percentage error of cumulative tracking over the hold-out weeks."""
    p, a = predicted[CALIBRATION_WEEKS:], actual[CALIBRATION_WEEKS:]
    return float(np.mean(np.abs(p - a) / a) * 100)


def mae(predicted: np.ndarray, actual: np.ndarray, classes: np.ndarray) -> float:
    """Mean absolute error over ``classes`` (a boolean mask of x = 0..7+)."""
    return float(np.mean(np.abs(predicted[classes] - actual[classes]))) if classes.any() else np.nan


def chi_square(expected: np.ndarray, observed: np.ndarray) -> tuple[float, float]:
    """Pearson chi-square of the histogram's classes 0..7+ and its p-value (7 df)."""
    from scipy import stats

    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(expected > 0, (observed - expected) ** 2 / expected, np.inf)
    value = float(terms.sum())
    return value, float(stats.chi2.sf(value, df=MAX_X))


def compare(panel: Panel, model: ModelCohort) -> Comparison:
    cohort = panel.cohort()
    n = cohort.size
    actual_cum = np.cumsum(cohort.weekly())
    preds = {
        "published": bgnbd.predict(panel, bgnbd.PUBLISHED),
        "fitted": bgnbd.predict(panel, None),
    }
    fitted = preds["fitted"]
    model_cum = np.cumsum(model.weekly) * n
    weeks = np.arange(1, TOTAL_WEEKS + 1)
    tracking = pd.DataFrame(
        {"week": weeks, "actual": actual_cum, "model": model_cum, "bgnbd": fitted.cumulative}
    )
    actual_cond = cohort.conditional()
    conditional = pd.DataFrame(
        {
            "x": actual_cond.x,
            "n": actual_cond.n,
            "actual": actual_cond["mean"],
            "model": model.conditional,
            "bgnbd": fitted.conditional,
        }
    )
    actual_hist = cohort.histogram()
    histogram = pd.DataFrame(
        {
            "x": np.arange(MAX_X + 1),
            "actual": actual_hist,
            "model": model.histogram * n,
            "bgnbd": fitted.histogram,
        }
    )
    # Every predictor is judged on the same classes: those the model's cohort has customers
    # in (a class it never fills has no model mean; dropping it only for the model would
    # flatter it). ``conditional_classes`` says how many of the 8 that is.
    actual_means = actual_cond["mean"].to_numpy()
    classes = ~(np.isnan(model.conditional) | np.isnan(actual_means))
    rows = []
    for name, cum, cond, hist in [
        ("model", model_cum, model.conditional, model.histogram * n),
        *[(f"BG/NBD ({k})", p.cumulative, p.conditional, p.histogram) for k, p in preds.items()],
    ]:
        chi, p_value = chi_square(hist, actual_hist)
        rows.append(
            {
                "predictor": name,
                "holdout_mape_pct": mape(cum, actual_cum),
                "conditional_mae": mae(cond, actual_means, classes),
                "conditional_classes": int(classes.sum()),
                "histogram_chi2": chi,
                "histogram_p": p_value,
            }
        )
    errors = pd.DataFrame(rows)
    return Comparison(tracking, conditional, histogram, errors, preds, model)


def ratios(errors: pd.DataFrame, against: str = "BG/NBD (published)") -> dict[str, float]:
    """The model's errors as a ratio to BG/NBD's (goal: <= 1 on both)."""
    e = errors.set_index("predictor")
    return {
        col: float(e.loc["model", col] / e.loc[against, col])
        for col in ("holdout_mape_pct", "conditional_mae")
    }
