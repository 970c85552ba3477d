"""Effect estimates of a study: interval, standardized effect, p-value, verdict.

The rule, stated once (docs/STUDIES.md): effect = mean(treatment) - mean(control) over
replicates; its 95 % interval is a BCa bootstrap over replicates (scipy.stats.bootstrap;
paired differences when replicate r of both arms shares its seed), or a t interval where
the bootstrap is degenerate. **supported**: the interval excludes 0 on the expected side;
**reversed**: it excludes 0 on the other side; otherwise **not detected**. Replicates whose
statistic is NaN (nothing to measure in that run) are dropped and counted.
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
N_RESAMPLES = 2000
MIN_VALUES = 3  # fewer usable replicates per arm than this: no interval, "not detected"
VERDICTS = ("supported", "reversed", "not detected")


@dataclass(frozen=True)
class Effect:
    n_control: int
    n_treatment: int
    control_mean: float
    treatment_mean: float
    effect: float
    ci_low: float
    ci_high: float
    effect_size: float  # Hedges' g
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


def _bootstrap(c: np.ndarray, t: np.ndarray, paired: bool, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate-distribution warnings: checked below
        if paired:
            res = stats.bootstrap(
                (t - c,),
                np.mean,
                confidence_level=CONFIDENCE,
                n_resamples=N_RESAMPLES,
                method="BCa",
                random_state=rng,
            )
        else:
            res = stats.bootstrap(
                (c, t),
                lambda a, b, axis=-1: b.mean(axis=axis) - a.mean(axis=axis),
                confidence_level=CONFIDENCE,
                n_resamples=N_RESAMPLES,
                method="BCa",
                random_state=rng,
            )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def _t_test(c: np.ndarray, t: np.ndarray, paired: bool):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return stats.ttest_rel(t, c) if paired else stats.ttest_ind(t, c, equal_var=False)


def estimate(control, treatment, paired: bool = False, seed: int = 0) -> Effect:
    """The effect of treatment over control with its interval and test."""
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
        low, high = _bootstrap(c, t, paired, seed)
    if not (np.isfinite(low) and np.isfinite(high) and low <= effect <= high):
        kind = "t"  # the bootstrap is degenerate (no spread, or BCa could not be computed)
        if spread > 0:
            ci = test.confidence_interval(CONFIDENCE)
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
        hedges_g(c, t),
        p,
        kind + ("-paired" if paired else ""),
        paired,
    )


def verdict(low: float, high: float, sign: int) -> str:
    """supported / reversed / not detected, from the interval and the expected sign."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "not detected"
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


def robust_share(point_effects, sign: int) -> tuple[float, int]:
    """Share of robustness points whose effect has the expected sign, and how many counted."""
    e = np.asarray(point_effects, dtype=float)
    e = e[~np.isnan(e)]
    return (float(np.mean(sign * e > 0)) if e.size else float("nan")), int(e.size)


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
