"""Effect estimates of a study: interval, standardized effect, p-value, verdict.

The rule, stated once (docs/STUDIES.md): effect = mean(treatment) - mean(control) over
replicates; its interval is a BCa bootstrap over replicates (scipy.stats.bootstrap; paired
differences when replicate r of both arms shares its seed), or a t interval where the
bootstrap is degenerate, at the simultaneous level 1 - 0.05/m for the m studies of one
report (Bonferroni), so that all verdicts of a report together err with probability at
most 0.05. **negligible**: the interval lies inside (-sesoi, +sesoi) (two one-sided tests
at that level); else **supported**: it excludes 0 on the expected side; **reversed**: on
the other side; otherwise **not detected**. A between-run study whose latent is not
detected in its expected direction is **manipulation failed**. Replicates whose statistic
is NaN (nothing to measure in that run) are dropped and counted.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

if TYPE_CHECKING:
    import pandas as pd

    from trustsim.analysis.studies.spec import Study

CONFIDENCE = 0.95
N_RESAMPLES = 4000  # enough for the tails of a simultaneous (e.g. 99.6 %) BCa interval
MIN_VALUES = 3  # fewer usable replicates per arm than this: no interval, "not detected"
VERDICTS = (
    "supported", "reversed", "not detected", "negligible", "manipulation failed",
    "check passed", "check failed",
)  # fmt: skip


@dataclass(frozen=True)
class Effect:
    n_control: int
    n_treatment: int
    control_mean: float
    treatment_mean: float
    effect: float
    ci_low: float
    ci_high: float
    effect_size: float  # dz (paired) or Hedges' g (independent arms)
    p_value: float
    interval: str  # "bca", "bca-paired", "t", "t-paired" or "none"
    paired: bool


def _clean(control, treatment, paired: bool) -> tuple[np.ndarray, np.ndarray, bool]:
    c, t = np.asarray(control, dtype=float), np.asarray(treatment, dtype=float)
    if paired and c.size == t.size:
        keep = ~(np.isnan(c) | np.isnan(t))
        return c[keep], t[keep], True
    return c[~np.isnan(c)], t[~np.isnan(t)], False


def hedges_g(c: np.ndarray, t: np.ndarray) -> float:
    """Standardized mean difference with the small-sample correction J (Hedges 1981)."""
    n1, n2 = c.size, t.size
    pooled = np.sqrt(((n1 - 1) * c.var(ddof=1) + (n2 - 1) * t.var(ddof=1)) / (n1 + n2 - 2))
    if not pooled > 0:
        return float("nan")
    j = 1 - 3 / (4 * (n1 + n2) - 9)
    return float(j * (t.mean() - c.mean()) / pooled)


def cohen_dz(c: np.ndarray, t: np.ndarray) -> float:
    """Standardized effect of paired data: mean difference over the SD of differences."""
    d = t - c
    sd = d.std(ddof=1) if d.size > 1 else 0.0
    return float(d.mean() / sd) if sd > 0 else float("nan")


def family_level(m: int) -> float:
    """The per-interval confidence that makes m intervals simultaneous (Bonferroni)."""
    return 1 - (1 - CONFIDENCE) / max(1, m)


def _bootstrap(
    c: np.ndarray, t: np.ndarray, paired: bool, seed: int, level: float
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate-distribution warnings: checked below
        if paired:
            res = stats.bootstrap(
                (t - c,),
                np.mean,
                confidence_level=level,
                n_resamples=N_RESAMPLES,
                method="BCa",
                random_state=rng,
            )
        else:
            res = stats.bootstrap(
                (c, t),
                lambda a, b, axis=-1: b.mean(axis=axis) - a.mean(axis=axis),
                confidence_level=level,
                n_resamples=N_RESAMPLES,
                method="BCa",
                random_state=rng,
            )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def _t_test(c: np.ndarray, t: np.ndarray, paired: bool):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return stats.ttest_rel(t, c) if paired else stats.ttest_ind(t, c, equal_var=False)


def estimate(
    control, treatment, paired: bool = False, seed: int = 0, level: float = CONFIDENCE
) -> Effect:
    """The effect of treatment over control with its interval (at ``level``) and test."""
    c, t, paired = _clean(control, treatment, paired)
    nan = float("nan")
    if min(c.size, t.size) < MIN_VALUES:
        mc = float(c.mean()) if c.size else nan
        mt = float(t.mean()) if t.size else nan
        return Effect(c.size, t.size, mc, mt, mt - mc, nan, nan, nan, nan, "none", paired)
    effect = float(t.mean() - c.mean())
    test = _t_test(c, t, paired)
    spread = (t - c).std() if paired else max(c.std(), t.std())
    low = high = nan
    kind = "bca"
    if spread > 0:
        low, high = _bootstrap(c, t, paired, seed, level)
    if not (np.isfinite(low) and np.isfinite(high) and low <= effect <= high):
        kind = "t"  # the bootstrap is degenerate (no spread, or BCa could not be computed)
        if spread > 0:
            ci = test.confidence_interval(level)
            low, high = float(ci.low), float(ci.high)
        else:
            low = high = effect  # every replicate gave the same contrast
    p = float(test.pvalue) if spread > 0 else (0.0 if effect != 0 else 1.0)
    return Effect(
        c.size,
        t.size,
        float(c.mean()),
        float(t.mean()),
        effect,
        low,
        high,
        cohen_dz(c, t) if paired else hedges_g(c, t),
        p,
        kind + ("-paired" if paired else ""),
        paired,
    )


def verdict(low: float, high: float, sign: int, sesoi: float | None = None) -> str:
    """negligible / supported / reversed / not detected, from the interval, the expected
    sign and the smallest effect of interest (None: no equivalence test)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "not detected"
    if sesoi is not None and -sesoi < low and high < sesoi:
        return "negligible"
    if sign * low > 0 and sign * high > 0:
        return "supported"
    if sign * low < 0 and sign * high < 0:
        return "reversed"
    return "not detected"


def holm(p_values) -> np.ndarray:
    """Holm-corrected p-values across the studies of one report (NaN stays NaN)."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return out


def study_verdict(outcome: str, manipulation: str | None, check: bool = False) -> str:
    """The study's verdict: **manipulation failed** when its check ("passed" / "failed" /
    None: no check) failed, whatever the outcome; an implementation check (a relation a
    rule builds in) passes or fails; otherwise the outcome's verdict."""
    if manipulation == "failed":
        return "manipulation failed"
    if check:
        return "check passed" if outcome == "supported" else "check failed"
    return outcome


def robust_share(point_effects, sign: int) -> tuple[float, int]:
    """Share of robustness points whose effect has the expected sign, and how many counted."""
    e = np.asarray(point_effects, dtype=float)
    e = e[~np.isnan(e)]
    return (float(np.mean(sign * e > 0)) if e.size else float("nan")), int(e.size)


def mean_interval(values, level: float = CONFIDENCE) -> tuple[int, float, float, float]:
    """(n, mean, low, high) of the finite values: a t interval of the mean at ``level``."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    nan = float("nan")
    if v.size < MIN_VALUES:
        return int(v.size), (float(v.mean()) if v.size else nan), nan, nan
    se = v.std(ddof=1) / np.sqrt(v.size)
    half = float(stats.t.ppf(0.5 + level / 2, v.size - 1) * se)
    return int(v.size), float(v.mean()), float(v.mean() - half), float(v.mean() + half)


def wilson(share: float, n: int) -> tuple[float, float]:
    """95 % Wilson interval of a share of n points (NaN, NaN when n = 0)."""
    from statsmodels.stats.proportion import proportion_confint

    if not n or not np.isfinite(share):
        return float("nan"), float("nan")
    low, high = proportion_confint(round(share * n), n, alpha=1 - CONFIDENCE, method="wilson")
    return float(low), float(high)


def slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of y on x (NaN with fewer than 3 points or no spread in x)."""
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if x.size < 3 or np.ptp(x) == 0:
        return float("nan")
    return float(np.polyfit(x, y, 1)[0])


def dose_slope(x: np.ndarray, y: np.ndarray, paired: bool, seed: int, level: float) -> Effect:
    """Slope of the statistic y on x across dose levels; x and y are (replicates, levels).

    With common seeds, one slope per replicate (its seed's own dose-response line) and the
    interval of their mean, as a paired effect against 0; otherwise the OLS slope over all
    runs pooled, with its t interval.
    """
    if paired:
        per = np.array([slope(x[r], y[r]) for r in range(x.shape[0])])
        return estimate(np.zeros_like(per), per, paired=True, seed=seed, level=level)
    import statsmodels.api as sm

    keep = np.isfinite(x.ravel()) & np.isfinite(y.ravel())
    xs, ys = x.ravel()[keep], y.ravel()[keep]
    nan = float("nan")
    if xs.size < MIN_VALUES + 1 or np.ptp(xs) == 0:
        return Effect(0, xs.size, nan, nan, nan, nan, nan, nan, nan, "none", False)
    fit = sm.OLS(ys, sm.add_constant(xs)).fit()
    low, high = fit.conf_int(1 - level)[1]
    b = float(fit.params[1])
    return Effect(0, xs.size, nan, nan, b, float(low), float(high), nan, float(fit.pvalues[1]),
                  "ols", False)  # fmt: skip


def driver(study: Study, rob: pd.DataFrame) -> tuple[str, float]:
    """The sampled parameter whose value moves the effect most (largest |Spearman rho|)."""
    from scipy.stats import spearmanr

    best, rho_best = "", 0.0
    part = rob[rob.study == study.id].dropna(subset=["effect"])
    for name in study.robust_names:
        x = part[f"lhs:{name}"].to_numpy(dtype=float)
        if len(part) < 3 or np.ptp(x) == 0 or np.ptp(part.effect) == 0:
            continue
        rho = float(spearmanr(x, part.effect).statistic)
        if np.isfinite(rho) and abs(rho) > abs(rho_best):
            best, rho_best = name, rho
    return best, rho_best


def falsifying_candidate(study: Study, rob: pd.DataFrame) -> dict[str, float] | None:
    """A setting in the robustness ranges where the effect should vanish or reverse: the
    corner of the box where a linear fit of the point effects on the sampled parameters
    predicts the effect furthest on the other side of 0 (if it predicts 0 or beyond), else
    the sampled point with the effect furthest on the other side; None when neither exists.
    The caller confirms it by running there (a candidate is not a finding)."""
    from trustsim.params import iter_fields

    ranges = study.spec.robustness.parameters if study.spec.robustness else {}
    part = rob[rob.study == study.id].dropna(subset=["effect"])
    if part.empty or not ranges:
        return None
    kinds = {f"{s}.{k}": f.annotation for s, k, f in iter_fields()}
    names = list(ranges)
    lo = np.array([ranges[n][0] for n in names], dtype=float)
    hi = np.array([ranges[n][1] for n in names], dtype=float)
    x = (part[[f"lhs:{n}" for n in names]].to_numpy(dtype=float) - lo) / (hi - lo)
    y = study.sign * part.effect.to_numpy(dtype=float)
    if len(part) >= len(names) + 3:
        coef, *_ = np.linalg.lstsq(np.column_stack([np.ones(len(y)), x]), y, rcond=None)
        corner = (coef[1:] < 0).astype(float)  # the bound that lowers sign * effect
        if coef[0] + coef[1:] @ corner <= 0:
            values = lo + corner * (hi - lo)
            return {n: (int(v) if kinds[n] is int else float(v)) for n, v in zip(names, values)}
    worst = int(np.argmin(y))
    if y[worst] > 0:
        return None
    row = part.iloc[worst]
    return {n: (int(row[f"lhs:{n}"]) if kinds[n] is int else float(row[f"lhs:{n}"])) for n in names}
