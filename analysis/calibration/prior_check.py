"""The prior predictive check: can the model reach each target at all, and how precisely is
each target's statistic estimated?

Before any fitting (``trustsim calibrate TARGETS --prior-check``):

* **spread across the prior**: single runs at ``draws`` parameter draws from the priors;
  per target the quantiles of the statistic, whether the observed value lies inside the
  prior predictive range, and the closest any draw came (in units of the target's sd);
* **a search for the best reachable fit**: ``scipy.optimize.differential_evolution`` on
  the scaled distance of replicate means (common seeds across candidates, so the search
  compares parameters, not seeds), started from the prior draws;
* **simulation noise**: the replicate sd of every statistic at the prior's midpoint, and
  the replicates a calibration needs so that the standard error of a replicate mean is at
  most a third of the target's sd;
* **movability**: a target whose variance across the prior draws is less than
  ``MOVABLE_RATIO`` times its variance across seeds at the midpoint is *not movable*: a
  calibration leaves it out of the distance (and says so) rather than fit seed noise;
* **the verdict per target**: *reachable* when some replicate mean among the search's
  candidates comes within 2 sd of the target (the sd of such a mean: the observational sd
  and the simulation's standard error combined), else *unreachable*. A single run is no
  evidence (one seed can land anywhere within its noise): its closest value is shown, not
  judged. An unreachable target is reported with its nearest value and the parameters
  that move it most across the prior draws (Spearman's rho): a finding about the model,
  not a fit to be forced.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trustsim.analysis.calibration.targets import Targets
from trustsim.runtime.files import atomic_write

REACH_Z = 2.0  # a target is reachable when some setting brings it within this many sd
# Movability: a target is fitted when its variance across prior draws is at least this
# multiple of its variance across seeds at one point. A point estimate, not a significance
# test: with a few dozen runs a test would often miss a real effect, and dropping a real
# target costs more than fitting one that is mostly seed noise (which the report shows).
MOVABLE_RATIO = 1.5
SEARCH_MEMBERS = 15  # candidates per generation of the search (from the first prior draws)
SE_SHARE = 1 / 3  # a replicate mean's standard error should be at most this share of the sd
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
CHECK_NAME = "prior_check.json"


@dataclass
class TargetCheck:
    name: str
    observed: float
    sd: float
    quantiles: list[float]  # of single runs across the prior draws
    inside: bool  # observed within the prior predictive range (min..max)
    closest_value: float  # the single run (one seed) that came closest
    closest_z: float
    best_value: float  # the replicate mean closest to it among the search's candidates
    best_z: float  # ... in units of the sd of such a mean (observation and simulation)
    replicate_sd: float  # across seeds at the prior's midpoint
    replicates_needed: int
    undefined_runs: int  # runs in which the statistic had no value (NaN)
    reachable: bool
    movers: list[tuple[str, float]] = field(default_factory=list)  # (parameter, rho)
    prior_sd: float = math.nan  # sd of single runs across the prior draws
    movable: bool = True  # variance across the prior >= MOVABLE_RATIO x across seeds
    why: str = ""  # why not movable


@dataclass
class PriorCheck:
    targets: list[TargetCheck]
    draws: int
    best: dict[str, float]  # parameters of the best fit found
    best_distance: float
    search_evaluations: int
    search: int = 0  # generations of the search
    runs: int = 0  # model runs the check made
    targets_sha256: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PriorCheck:
        checks = [
            TargetCheck(**{**c, "movers": [tuple(m) for m in c.get("movers", [])]})
            for c in data["targets"]
        ]
        return cls(**{**data, "targets": checks})

    def screen(self) -> dict[str, dict[str, Any]]:
        """Per target: is it fitted (movable), and why not."""
        return {
            c.name: {
                "movable": c.movable,
                "why": c.why,
                "prior_sd": c.prior_sd,
                "replicate_sd": c.replicate_sd,
            }
            for c in self.targets
        }

    @property
    def unreachable(self) -> list[TargetCheck]:
        return [t for t in self.targets if not t.reachable]

    def lines(self) -> list[str]:
        """The check in a few lines, unreachable targets first."""
        out = []
        for t in sorted(self.targets, key=lambda x: x.reachable):
            word = "reachable" if t.reachable else "UNREACHABLE"
            q = ", ".join(f"{v:.3g}" for v in t.quantiles)
            movers = ", ".join(f"{n} (rho {r:+.2f})" for n, r in t.movers[:2])
            out.append(
                f"{word}: {t.name} observed {t.observed:.3g} ± {t.sd:.3g}; prior predictive "
                f"5-95% quantiles [{q}]; closest single run {t.closest_value:.3g} (z {t.closest_z:.1f}), "
                f"closest replicate mean {t.best_value:.3g} (z {t.best_z:.1f}); replicate sd "
                f"{t.replicate_sd:.3g} -> {t.replicates_needed} replicates"
                + (f"; moved most by {movers}" if movers else "")
                + (f"; undefined in {t.undefined_runs} runs" if t.undefined_runs else "")
            )
        out.append(
            f"best fit found: distance {self.best_distance:.2f} at "
            + ", ".join(f"{k}={v:.4g}" for k, v in self.best.items())
        )
        return out

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, allow_nan=True)


def _z(value: float, observed: float, sd: float) -> float:
    return abs(value - observed) / sd if math.isfinite(value) else math.inf


def replicates_needed(replicate_sd: float, sd: float) -> int:
    """Replicates so that replicate_sd / sqrt(n) <= SE_SHARE * sd."""
    if not math.isfinite(replicate_sd) or replicate_sd == 0:
        return 1
    return max(1, math.ceil((replicate_sd / (SE_SHARE * sd)) ** 2))


def search_members(draws: int) -> int:
    return max(5, min(draws, SEARCH_MEMBERS))


def midpoint_runs(draws: int) -> int:
    return max(draws // 3, 8)


def check_runs_bound(draws: int, search: int, replicates: int) -> int:
    """The most model runs a prior check makes: single runs across the prior and at its
    midpoint, and (search + 1) generations of candidates, each a mean of replicates."""
    return draws + midpoint_runs(draws) + (search + 1) * search_members(draws) * replicates


def movability(prior: np.ndarray, reps: np.ndarray) -> dict[str, Any]:
    """Can the priors' parameters move a statistic beyond seed noise?"""
    prior, reps = prior[np.isfinite(prior)], reps[np.isfinite(reps)]
    if prior.size < 3 or reps.size < 3:
        return {"movable": False, "why": "undefined (NaN) in most runs"}
    vp, vr = float(prior.var(ddof=1)), float(reps.var(ddof=1))
    if vp == 0:
        return {"movable": False, "why": "the same value in every run"}
    if vr == 0 or vp / vr >= MOVABLE_RATIO:
        return {"movable": True, "why": ""}
    return {
        "movable": False,
        "why": f"variance across the prior {vp / vr:.2g}x that across seeds at one point "
        f"(< {MOVABLE_RATIO})",
    }


def combined_sd(sd: float, replicate_sd: float | None, replicates: int) -> float:
    """The scale of a target in the distance: its observational sd and the standard error
    of a mean of ``replicates`` runs, combined (independent errors add in variance)."""
    if replicate_sd is None or not math.isfinite(replicate_sd):
        return sd
    return math.sqrt(sd**2 + replicate_sd**2 / replicates)


def movers(
    t: Targets, draws: list[dict[str, float]], values: np.ndarray
) -> list[tuple[str, float]]:
    """The parameters whose values move a statistic most across the prior draws."""
    from scipy.stats import spearmanr

    ok = np.isfinite(values)
    out = []
    for p in t.priors:
        x = np.array([d[p.name] for d in draws])[ok]
        if ok.sum() < 5 or np.ptp(values[ok]) == 0:
            continue
        rho = float(spearmanr(x, values[ok]).statistic)
        if math.isfinite(rho):
            out.append((p.name, rho))
    return sorted(out, key=lambda r: -abs(r[1]))


def prior_check(
    t: Targets, prior: list[dict[str, float]], mid: dict[str, float], run_jobs, search: int = 8
) -> PriorCheck:
    """Run the check at the ``prior`` draws and the prior's midpoint ``mid``. ``run_jobs``
    evaluates a list of (kind, values, seed-or-group) jobs: ("run", values, seed) is one run,
    ("mean", values, group) the mean of the targets' replicates with common seeds.
    ``search``: generations of differential evolution on replicate means."""
    from trustsim.analysis.sweep.design import run_seed

    seed0 = t.settings.master_seed
    draws = len(prior)
    jobs = [("run", d, run_seed(seed0, 30_000 + i)) for i, d in enumerate(prior)]
    jobs += [("run", mid, run_seed(seed0, 40_000 + i)) for i in range(midpoint_runs(draws))]
    results = run_jobs(jobs)
    prior_runs, mid_runs = results[:draws], results[draws:]
    best, best_distance, evaluations, candidates = _search(t, run_jobs, prior, search)
    checks = []
    for x in t.targets:
        values = np.array([r[x.name] for r in prior_runs], dtype=float)
        reps = np.array([r[x.name] for r in mid_runs], dtype=float)
        finite = values[np.isfinite(values)]
        z = np.array([_z(v, x.observed, x.sd) for v in values])
        i = int(np.argmin(z)) if np.isfinite(z).any() else 0
        rep_sd = float(np.nanstd(reps, ddof=1)) if np.isfinite(reps).sum() > 2 else math.nan
        scale = combined_sd(float(x.sd), rep_sd, t.settings.replicates)
        means = np.array([c[x.name] for c in candidates], dtype=float)
        mz = np.array([_z(v, x.observed, scale) for v in means])
        j = int(np.argmin(mz)) if np.isfinite(mz).any() else 0
        best_value, best_z = float(means[j]), float(mz[j])
        checks.append(
            TargetCheck(
                name=x.name,
                observed=float(x.observed),
                sd=float(x.sd),
                quantiles=[float(q) for q in np.quantile(finite, QUANTILES)]
                if finite.size
                else [math.nan] * len(QUANTILES),
                inside=bool(finite.size and finite.min() <= x.observed <= finite.max()),
                closest_value=float(values[i]),
                closest_z=float(z[i]),
                best_value=best_value,
                best_z=best_z,
                replicate_sd=rep_sd,
                replicates_needed=replicates_needed(rep_sd, float(x.sd)),
                undefined_runs=int((~np.isfinite(values)).sum() + (~np.isfinite(reps)).sum()),
                reachable=bool(best_z <= REACH_Z),
                movers=movers(t, prior, values),
                prior_sd=float(np.nanstd(values, ddof=1)) if finite.size > 2 else math.nan,
                **movability(values, reps),
            )
        )
    runs = len(jobs) + evaluations * t.settings.replicates
    return PriorCheck(checks, draws, best, best_distance, evaluations, search, runs, t.sha256)


def _search(t: Targets, run_jobs, prior: list[dict[str, float]], generations: int):
    """Differential evolution on the mean scaled distance of replicate means, one
    generation's candidates evaluated at once on the executor (common seeds: group 0)."""
    from scipy.optimize import differential_evolution

    names = [p.name for p in t.priors]
    bounds = [(p.low, p.high) for p in t.priors]
    seen: dict[tuple[float, ...], tuple[float, dict]] = {}

    def distance(stats: dict[str, float]) -> float:
        total = 0.0
        for x in t.targets:
            total += min(_z(stats[x.name], x.observed, x.sd), 1e3) ** 2
        return math.sqrt(total)

    def evaluate(population: np.ndarray) -> np.ndarray:
        population = np.atleast_2d(population)
        if population.shape[1] != len(names):  # scipy passes (n_params, n) when vectorized
            population = population.T
        todo = [tuple(map(float, row)) for row in population if tuple(map(float, row)) not in seen]
        jobs = [("mean", dict(zip(names, row)), 0) for row in todo]
        for row, stats in zip(todo, run_jobs(jobs) if jobs else []):
            seen[row] = (distance(stats), stats)
        return np.array([seen[tuple(map(float, row))][0] for row in population])

    init = np.array([[d[n] for n in names] for d in prior[: search_members(len(prior))]])
    if len(names) == 1:
        init = np.vstack([init, init + 1e-9])  # scipy needs at least 5 distinct members
    result = differential_evolution(
        evaluate,
        bounds,
        maxiter=generations,
        init=init,
        seed=t.settings.master_seed % 2**32,
        polish=False,
        vectorized=True,
        updating="deferred",
    )
    key = tuple(map(float, result.x))
    if key not in seen:
        evaluate(np.array([result.x]))
    d, _ = min(seen.values(), key=lambda v: v[0])
    best = next(dict(zip(names, k)) for k, v in seen.items() if v[0] == d)
    return best, d, len(seen), [stats for _, stats in seen.values()]


def write_check(check: PriorCheck, out: Path) -> Path:
    path = Path(out) / CHECK_NAME
    text = check.to_json()
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))
    return path


def load_check(out: Path) -> PriorCheck | None:
    """The check stored in ``out`` (None if there is none or it cannot be read)."""
    try:
        data = json.loads((Path(out) / CHECK_NAME).read_text(encoding="utf-8"))
        return PriorCheck.from_dict(data)
    except (OSError, ValueError, TypeError, KeyError):
        return None
