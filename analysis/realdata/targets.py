"""The calibration targets file of a CDNOW panel, computed from weeks 1-39 only.

Targets: the share of the cohort with 0, 1, ..., 6 and 7+ repeat purchases in weeks 1-39
and the cohort's repeat purchases per customer in each week 1-39, each with its sampling
sd over customers (a share: binomial, sqrt(p(1 - p)/N); a weekly mean: the sd of the
customers' counts that week over sqrt(N)); both are floored at 1/N, one customer's worth,
so that a class or week with no purchase keeps a positive sd. Nothing after 30 September
1997 is read: the panel is cut before anything is counted, and the file records a hash of
exactly the rows it was computed from.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from trustsim.analysis.measures.cohort import (
    CALIBRATION_WEEKS,
    MAX_X,
    share_name,
    week_name,
)
from trustsim.analysis.realdata.cdnow import Panel
from trustsim.loader import SCENARIO_DIR

MARKET = SCENARIO_DIR / "realdata" / "cdnow_market.toml"  # the calibration's base scenario

SOURCE = (
    "CDNOW {which} panel (Fader, Hardie & Lee 2005, Marketing Science 24(2); the lifetimes "
    "wheel's copy), weeks 1-39: {customers} customers, {transactions} transactions"
)
# Free parameters and their uniform priors. Chosen before any model run was compared with
# the data, from what each parameter means (docs/REAL_DATA.md, "Calibration"); the
# calibration's movability check says which of them move the targets.
PRIORS = {
    "population.purchase_rate": (0.01, 0.3, "needs per customer-week: CDs are bought now and then"),
    "population.propensity_mean": (0.2, 0.8, "general trust, as in stylized_facts"),
    "sales.closing_threshold": (0.1, 0.7, "how much trust a sale needs"),
    "elsewhere.distrust_weight": (0.1, 1.0, "taking a need to a rival store"),
    "competition.offer_rate": (0.0, 0.1, "rivals' offers per customer-week"),
    "firms.failure_rate": (0.0, 0.2, "service failures per order"),
    "failures.exit_prob": (0.1, 1.0, "leaving after an unforgiven failure"),
}
# The model the targets are fitted with. "trust": trust alone (every customer's needs
# arrive at the same rate and no customer leaves for reasons of its own); "heterogeneous":
# customers also differ in purchase rate and spend and may leave the market after a
# purchase (ODD 7.17, 7.18), with those mechanisms' shapes freed. Their priors are set by
# what the shapes mean, wide around the defaults (CDNOW's published weeks 1-39 BG/NBD fit).
MODELS = {
    "trust": {"id": "cdnow", "set": [], "priors": {}},
    "heterogeneous": {
        "id": "cdnow_heterogeneous",
        "set": ["mechanisms.purchase_heterogeneity=true", "mechanisms.leave_market=true"],
        "priors": {
            "buying.rate_shape": (0.05, 5.0, "purchase rates: a few heavy buyers .. near equal"),
            "buying.dropout_a": (0.1, 5.0, "chance to leave after a purchase: its beta shape a"),
            "buying.dropout_b": (0.5, 20.0, "... and b (mean a / (a + b): 0.5 % to 91 %)"),
        },
    },
}
SETTINGS = {  # the id and the model's own `set` come from MODELS
    "set": [f"run.steps={CALIBRATION_WEEKS}"],  # the model never runs past week 39 here
    "replicates": 2,
    "master_seed": 22,
    "population_size": 150,
    "budget": 6000,
    "quick_population_size": 12,
    "quick_budget": 400,
    "prior_check_draws": 12,
    "prior_check_search": 4,
    "predictive_draws": 10,
}


def _sd(value: float, n: int) -> float:
    return max(value, 1.0 / n)


def targets(panel: Panel) -> list[dict[str, object]]:
    """The [[targets]] of weeks 1-39 of ``panel``, each with its observed value and sd."""
    cohort = panel.calibration().cohort()
    n = cohort.size
    source = SOURCE.format(
        which=panel.which, customers=n, transactions=len(panel.calibration().transactions)
    )
    rows = []
    shares = cohort.histogram() / n
    for x, p in enumerate(shares):
        rows.append(
            {
                "name": share_name(x),
                "statistic": share_name(x),
                "observed": round(float(p), 6),
                "sd": round(_sd(math.sqrt(p * (1 - p) / n), n), 6),
                "source": source,
                "note": f"share of customers with {x}{'+' if x == MAX_X else ''} repeat "
                "purchases (one per customer-day after the first); sd binomial",
            }
        )
    week_counts = np.zeros((n, CALIBRATION_WEEKS))
    index = {c: i for i, c in enumerate(cohort.first_week.index)}
    for customer, week in cohort.repeats[["customer", "week"]].itertuples(index=False):
        if week <= CALIBRATION_WEEKS:
            week_counts[index[customer], week - 1] += 1
    means, sds = week_counts.mean(axis=0), week_counts.std(axis=0, ddof=1) / math.sqrt(n)
    for w in range(CALIBRATION_WEEKS):
        rows.append(
            {
                "name": week_name(w + 1),
                "statistic": week_name(w + 1),
                "observed": round(float(means[w]), 6),
                "sd": round(_sd(float(sds[w]), n), 6),
                "source": source,
                "note": "repeat purchases per cohort customer that week; sd over customers",
            }
        )
    return rows


def _value(v: object) -> str:
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return repr(v)


def market_path(where: Path) -> str:
    """The base scenario as a path relative to the targets file at ``where`` (the form a
    targets file reads), or absolute when no relative path leads there."""
    try:
        return Path(os.path.relpath(MARKET, Path(where).resolve().parent)).as_posix()
    except ValueError:  # another drive
        return MARKET.as_posix()


def targets_text(panel: Panel, where: Path, model: str = "trust") -> str:
    """The whole targets file (TOML) of ``panel``'s weeks 1-39, to be written at ``where``,
    for ``model`` (a key of :data:`MODELS`)."""
    m = MODELS[model]
    settings = {
        "id": m["id"],
        "scenario": market_path(where),
        **SETTINGS,
        "set": [*SETTINGS["set"], *m["set"]],
    }
    priors = {**PRIORS, **m["priors"]}
    lines = [
        "# CDNOW calibration targets, written by `trustsim data cdnow --write-targets`",
        "# from weeks 1-39 only (1 January to 30 September 1997). docs/REAL_DATA.md.",
        f"# data: {panel.path.name} ({panel.which} layout); weeks 1-39 rows sha256 "
        f"{panel.calibration_sha256()}",
        "",
        "[calibration]",
        *(f"{k} = {_value(v)}" for k, v in settings.items()),
        "",
        "[priors]",
        *(f'"{k}" = [{lo}, {hi}]  # {why}' for k, (lo, hi, why) in priors.items()),
    ]
    for row in targets(panel):
        lines += ["", "[[targets]]", *(f"{k} = {_value(v)}" for k, v in row.items())]
    return "\n".join(lines) + "\n"
