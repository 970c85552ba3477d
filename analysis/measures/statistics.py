"""The registry of per-run statistics: each turns one run into one number.

Hypothesis studies (``trustsim study``) and calibration (``trustsim calibrate``) both name
their quantity by a string; this module is the one place that string is resolved. A name is
either a metric of :data:`trustsim.metrics.METRICS` (its mean over the last ``window``
steps) or a named statistic registered here with :func:`statistic`, which may read the
run's relationship event log (then the run is made with ``run.history = true``).

Statistics reuse the measures of :mod:`trustsim.analysis.measures.hypotheses`; they return NaN
when a run holds too little to measure (e.g. no breach happened), never a made-up value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trustsim.analysis.measures import cohort as C
from trustsim.analysis.measures import hypotheses as H
from trustsim.codes import COLD, INSIDER
from trustsim.metrics import EV_TURNOVER, METRIC_HELP, METRICS, RUN_METRIC_HELP
from trustsim.value import run_metrics


@dataclass(frozen=True)
class RunView:
    """What a statistic may read of one finished run."""

    timeseries: pd.DataFrame  # one row per step, columns METRICS
    events: pd.DataFrame | None = None  # the event log, when the run kept one
    world: object | None = None  # trustsim.population.World, for per-firm attributes
    window: int = 20  # output window: the last steps a metric is averaged over
    scenario: object | None = None  # trustsim.params.Scenario the run ran, for run metrics

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
    "clv_mean",
    f"{RUN_METRIC_HELP['clv_mean']} (NaN: the scenario is not known)",
    needs_events=False,
)
def _clv_mean(v: RunView) -> float:
    if v.scenario is None:
        return float("nan")
    return run_metrics(v.timeseries["revenue"].to_numpy(), v.scenario)["clv_mean"]


@statistic(
    "wom_positive_to_negative",
    "praise per warning over the whole run (word-of-mouth ratio; NaN: no warning)",
    needs_events=False,
)
def _wom_ratio(v: RunView) -> float:
    neg = v.timeseries["wom_negative"].sum()
    return float(v.timeseries["wom_positive"].sum() / neg) if neg else float("nan")


# --- studies (issue 8): one statistic per hypothesis H1-H12 ----------------------------
# Each is a single number per run built from a measure of analysis/measures/hypotheses.py, so that a
# study can compare it across replicates and arms. Within-run contrasts (slopes, gaps) are
# read against a control arm with the mechanism off, never against a zero that selection
# or collinearity could move.


def _ols_slope(y: np.ndarray, *xs: np.ndarray) -> float:
    """Least-squares coefficient of the first regressor (with intercept); NaN if singular."""
    y = np.asarray(y, dtype=float)
    if y.size < 10:
        return float("nan")
    x = np.column_stack([np.ones_like(y), *[np.asarray(v, dtype=float) for v in xs]])
    if np.linalg.matrix_rank(x) < x.shape[1]:
        return float("nan")
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    return float(coef[1])


def _gap(frame: pd.DataFrame, key: str, value: str, high, low) -> float:
    """Mean of ``value`` where ``key`` is in ``high`` minus where it is in ``low``."""
    a = frame.loc[frame[key].isin(high), value]
    b = frame.loc[frame[key].isin(low), value]
    return float(a.mean() - b.mean()) if len(a) and len(b) else float("nan")


# The market starts empty: study statistics read only events from BURN_IN_SHARE of the run
# on (as metrics read only their last ``window`` steps); statistics of first encounters or
# of whole relationships read only relationships begun after it (``fresh``).
BURN_IN_SHARE = 0.25  # share of the run's steps left out of study statistics


def _last_step(v: RunView) -> int:
    return int(v.timeseries["step"].iloc[-1])


def _burn_in(v: RunView) -> int:
    return round(BURN_IN_SHARE * _last_step(v))


def settled(v: RunView) -> pd.DataFrame:
    """The run's events after the burn-in."""
    return H.since(v.events, _burn_in(v))


def fresh(v: RunView) -> pd.DataFrame:
    """Every event of the relationships whose first encounter came after the burn-in."""
    first = H.encounters(v.events).groupby(H.PAIR).step.min()
    keep = first[first >= _burn_in(v)].index
    return v.events[pd.MultiIndex.from_frame(v.events[H.PAIR]).isin(keep)]


@statistic(
    "insider_gain_by_trades",
    "H1: share of trades ending with an insider ring at trade 6-10 minus at trade 1-2",
)
def _insider_gain(v: RunView) -> float:
    tr = H.trades(settled(v))
    tr = tr.assign(insider=(tr.ring_after <= INSIDER).astype(float))  # family or insider
    return _gap(tr, "n_trades", "insider", range(6, 11), (1, 2))


@statistic(
    "ability_early_minus_late",
    "H2: (ability - character) logit coefficient of closing, young minus old relationships",
)
def _ability_early(v: RunView) -> float:
    fit = H.h2_decision_by_age(settled(v)).set_index("age")
    diff = fit.beta_ability - fit.beta_character
    return float(diff.get("young", np.nan) - diff.get("old", np.nan))


@statistic("cost_trust_slope", "H3: OLS slope of transaction cost per trade on trust at the trade")
def _cost_slope(v: RunView) -> float:
    tr = H.trades(settled(v))
    return _ols_slope(tr.cost.to_numpy(), tr.trust_before.to_numpy())


@statistic(
    "failure_harm_slope",
    "H4: slope, over failed trades, of P(complaint, exit or warning) on trust at the failure",
)
def _failure_harm(v: RunView) -> float:
    tr = H.trades(settled(v))
    f = tr[tr.failed == 1]
    harm = ((f.complained == 1) | (f.exited == 1) | (f.wom < 0)).astype(float)
    return _ols_slope(harm.to_numpy(), f.trust_before.to_numpy())


@statistic(
    "switch_trust_slope",
    "H5: slope of P(switch) on trust at a competitor offer, holding the discount fixed",
)
def _switch_slope(v: RunView) -> float:
    o = H.h5_offers(settled(v))
    return _ols_slope(o.switched.to_numpy(), o.trust_before.to_numpy(), o.discount.to_numpy())


def _breached_after_burn_in(v: RunView) -> pd.DataFrame:
    """H6's rebuild table for relationships first breached after the burn-in."""
    r = H.h6_rebuild(v.events)
    tr = H.trades(v.events)
    first = tr[tr.breach == 1].groupby(H.PAIR).step.min()
    late = first[first >= _burn_in(v)].index
    return r[pd.MultiIndex.from_frame(r[H.PAIR]).isin(late)] if len(r) else r


@statistic(
    "rebuild_slower_share",
    "H6: share of breached relationships whose rebuilding took more trades than building "
    "(not regained after as many trades counts as slower; too few trades since: left out)",
)
def _rebuild_slower(v: RunView) -> float:
    r = _breached_after_burn_in(v)
    r = r[r.trades_to_build.notna()]
    if r.empty:
        return float("nan")
    r = r.join(H.trades_since_breach(v.events), on=H.PAIR).fillna({"since": 0})
    regained = r.trades_to_rebuild.notna()
    slower = (regained & (r.trades_to_rebuild > r.trades_to_build)) | (
        ~regained & (r.since >= r.trades_to_build)
    )
    decided = regained | (r.since >= r.trades_to_build)
    return float(slower[decided].mean()) if decided.any() else float("nan")


@statistic(
    "regain_share",
    "H6: share of breached relationships that regained their pre-breach trust in the run",
)
def _regain(v: RunView) -> float:
    r = _breached_after_burn_in(v)
    return float(r.trades_to_rebuild.notna().mean()) if len(r) else float("nan")


@statistic(
    "referral_minus_cold_close",
    "H7: first-encounter close rate of referred minus cold contacts",
)
def _referral_gap(v: RunView) -> float:
    o = H.h7_origin(fresh(v)).set_index("origin").first_close_rate
    return float(o.get("referral", np.nan) - o.get("cold", np.nan))


@statistic("asym_at_5", "H8: mean information asymmetry at a relationship's fifth trade")
def _asym5(v: RunView) -> float:
    tr = H.trades(settled(v))
    return _nan_if_empty(tr.loc[tr.n_trades == 5, "asym"])


@statistic(
    "follow_share",
    "H9: share of a moving salesperson's customers who followed them (whole run)",
    needs_events=False,
)
def _follow(v: RunView) -> float:
    followed, stayed = v.timeseries["followed"].sum(), v.timeseries["stayed"].sum()
    return float(followed / (followed + stayed)) if followed + stayed else float("nan")


@statistic("trust_at_3", "H10: mean trust after a relationship's third trade")
def _trust3(v: RunView) -> float:
    tr = H.trades(settled(v))
    return _nan_if_empty(tr.loc[tr.n_trades == 3, "trust_after"])


@statistic(
    "shock_loss",
    "H10: mean trust lost at a failure or breach (trust before - after)",
)
def _shock(v: RunView) -> float:
    tr = H.trades(settled(v))
    s = tr[(tr.failed == 1) | (tr.breach == 1)]
    return _nan_if_empty(s.trust_before - s.trust_after)


@statistic("cold_first_close_rate", "H11: close rate of first encounters met by cold contact")
def _cold_close(v: RunView) -> float:
    return float(H.h11_culture(fresh(v)).cold_first_close_rate.iloc[0])


@statistic(
    "insider_loss_share",
    "H11: share of insider relationships later lost (fell out of the ring, or exit)",
)
def _insider_loss(v: RunView) -> float:
    return float(H.h11_culture(v.events).insider_loss_share.iloc[0])


@statistic(
    "deep_need_emotional_gain",
    "H12: character-trust gain per honest trade at need depth 3-5 minus depth 1-2",
)
def _deep_gain(v: RunView) -> float:
    tr = H.trades(settled(v))
    tr = tr[(tr.breach == 0) & (tr.failed == 0)]
    return _gap(tr.assign(gain=tr.te_after - tr.te_before), "depth", "gain", (3, 4, 5), (1, 2))


# --- every loss path, censoring ---------------------------------------------------------
# Times to an event are estimated with censoring (Kaplan-Meier, lifelines) instead of
# averaging the relationships that got there; losses count every path.

HORIZON = 26  # steps (half a year): the window in which a moved customer counts as lost


def km_median(durations, observed) -> float:
    """Kaplan-Meier median of durations with right censoring (NaN: not reached)."""
    from lifelines import KaplanMeierFitter

    durations = np.asarray(durations, dtype=float)
    if durations.size < 5 or not np.any(observed):
        return float("nan")
    fit = KaplanMeierFitter().fit(durations, event_observed=np.asarray(observed, dtype=bool))
    median = float(fit.median_survival_time_)
    return median if np.isfinite(median) else float("nan")


@statistic(
    "median_trades_to_insider",
    "H1/H8: Kaplan-Meier median number of trades from outsider to insider, pairs that never "
    "crossed censored at the trades they made (after the burn-in; NaN: median not reached)",
)
def _median_to_insider(v: RunView) -> float:
    first = H.encounters(v.events).groupby(H.PAIR).step.min()
    met = first[first >= _burn_in(v)].index  # met after the burn-in
    cross = H.trades_to_cross(v.events).set_index(H.PAIR)
    cross = cross[cross.index.isin(met)]
    return km_median(cross.trades, cross.crossed)


@statistic(
    "median_trades_to_rebuild",
    "H6: Kaplan-Meier median number of trades after a breach until the pre-breach trust is "
    "regained, pairs not yet back censored at the trades they made since (relationships "
    "first breached after the burn-in; NaN: median not reached)",
)
def _median_to_rebuild(v: RunView) -> float:
    r = _breached_after_burn_in(v)
    if r.empty:
        return float("nan")
    since = H.trades_since_breach(v.events)
    r = r.join(since, on=H.PAIR).fillna({"since": 0})
    regained = r.trades_to_rebuild.notna()
    return km_median(r.trades_to_rebuild.where(regained, r.since), regained)


@statistic(
    "turnover_loss_share",
    f"H9: share of a departing salesperson's customers the firm lost within {HORIZON} weeks: "
    "followed, or no trade with the old firm in that time (every path; after the burn-in; "
    "moves too late to follow censored)",
)
def _turnover_loss(v: RunView) -> float:
    moves = H.h9_turnover_loss(settled(v), _last_step(v), HORIZON)
    return _nan_if_empty(moves.lost)


@statistic(
    "turnover_loss_slope",
    f"H9 within a run: OLS slope of lost-within-{HORIZON}-weeks on personal minus "
    "organizational trust at the move",
)
def _turnover_loss_slope(v: RunView) -> float:
    moves = H.h9_turnover_loss(settled(v), _last_step(v), HORIZON)
    return _ols_slope(moves.lost.to_numpy(), moves.personal_minus_org.to_numpy())


@statistic(
    "personal_minus_org_trust_at_move",
    "H9 latent: mean personal minus organizational trust of a moving salesperson's customers "
    "at the move (after the burn-in)",
)
def _personal_minus_org(v: RunView) -> float:
    return _nan_if_empty(H.h9_turnover(settled(v)).personal_minus_org)


@statistic(
    "insider_loss_hazard",
    "H11: insider relationships lost per insider-week, every exit path (fell out of the "
    "ring, exit, breach exit, rival offer, handover, need met elsewhere); exposure from "
    "becoming insider (after the burn-in) to the loss or the run's end",
)
def _insider_hazard(v: RunView) -> float:
    last = _last_step(v)
    spells = H.insider_spells(v.events, last)
    spells = spells[spells.start >= _burn_in(v)]
    weeks = (spells.end - spells.start).sum()
    return float(spells.lost.sum() / weeks) if weeks > 0 else float("nan")


@statistic(
    "trust_decay_per_week",
    "H10 durability: trust lost per week between a pair's consecutive trades (after the burn-in)",
)
def _decay(v: RunView) -> float:
    return _nan_if_empty(H.between_trades(settled(v)).decay_per_week)


@statistic(
    "failure_loss_vs_honest",
    "H10: trust lost at a failure (no breach) against an honest trade at the same "
    "relationship age (after the burn-in)",
)
def _failure_loss(v: RunView) -> float:
    return _nan_if_empty(H.shock_loss_vs_honest(settled(v), "failed"))


@statistic(
    "breach_loss_vs_honest",
    "H10: trust lost at a breach against an honest trade at the same relationship age "
    "(after the burn-in)",
)
def _breach_loss(v: RunView) -> float:
    return _nan_if_empty(H.shock_loss_vs_honest(settled(v), "breach"))


@statistic(
    "gift_at_trade",
    "H10 latent: mean gift stock in ability trust after a trade (after the burn-in)",
)
def _gift(v: RunView) -> float:
    return _nan_if_empty(H.trades(settled(v)).gift)


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


# --- a real customer base: the focal firm's cohort (docs/REAL_DATA.md) -------------------

_COHORT_CACHE: dict[str, object] = {}


def focal_cohort(v: RunView) -> C.Cohort:
    """The focal firm's first-quarter cohort of this run (computed once per event log)."""
    if _COHORT_CACHE.get("events") is not v.events:
        _COHORT_CACHE.update(events=v.events, cohort=C.model_cohort(H.trades(v.events)))
    return _COHORT_CACHE["cohort"]


def _share_stat(x: int) -> Callable[[RunView], float]:
    def share(v: RunView) -> float:
        c = focal_cohort(v)
        return float(c.histogram()[x] / c.size) if c.size else float("nan")

    return share


def _week_stat(week: int) -> Callable[[RunView], float]:
    def per_customer(v: RunView) -> float:
        c = focal_cohort(v)
        return float(c.weekly(week)[week - 1] / c.size) if c.size else float("nan")

    return per_customer


for _x in range(C.MAX_X + 1):
    statistic(
        C.share_name(_x),
        f"share of the focal firm's cohort with {_x}{'+' if _x == C.MAX_X else ''} repeat "
        f"purchases in weeks 1-{C.CALIBRATION_WEEKS} (docs/REAL_DATA.md)",
    )(_share_stat(_x))
for _w in range(1, C.CALIBRATION_WEEKS + 1):
    statistic(
        C.week_name(_w),
        f"repeat purchases per customer of the focal firm's cohort in week {_w}",
    )(_week_stat(_w))
