"""Coverage of the calibration's 90 % intervals: simulation-based calibration (Talts, Betancourt,
Simpson, Vehtari & Gelman 2018, arXiv:1804.06788) of `trustsim calibrate` on a small market.

    nice -n 10 .venv/bin/python benchmarks/bench_coverage.py            # 10 truths, ~1 h on 2 cores
    nice -n 10 .venv/bin/python benchmarks/bench_coverage.py --truths 20 --budget 900

Each of ``--truths`` hidden truths is drawn from the prior of the three recovery parameters
(wom.positive_prob, failures.complaint_prob, costs.trust_saving; the small market of the
calibration tests). Its synthetic data set is what the calibration compares: the mean of
``replicates`` runs at the truth, with seeds no calibration uses. Each target's sd is the
same for every truth: the sd of such a mean at the prior's midpoint. Every data set is
calibrated as a user would (prior check, ABC-SMC, its stopping rule). Per parameter the
benchmark reports how often the weighted posterior's central 90 % interval covers the truth
(well-calibrated inference: about 90 %; ABC with a tolerance above zero errs wide, so more
is expected, far less is a failure) and the truth's posterior quantile (its rank: uniform
on [0, 1] when the inference is calibrated). Writes benchmarks/results/coverage.json.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from record import Recorder

from tests.analysis.calibration_helpers import (
    BASE_SET,
    PRIORS,
    STATISTICS,
    WINDOW,
    targets_text,
)
from trustsim.analysis.calibration.abc import calibrate
from trustsim.analysis.calibration.posterior import weighted_quantile
from trustsim.analysis.measures import statistics as S
from trustsim.analysis.sweep.design import run_seed
from trustsim.loader import load_scenario
from trustsim.runtime.run import simulate

SEED = 20_180_406  # of the truths and of the data sets' runs
LEVEL = 0.9


def runs_at(values: dict[str, float], seeds: list[int]) -> list[dict[str, float]]:
    scenario = load_scenario("baseline", BASE_SET + [f"{k}={v}" for k, v in values.items()])
    out = []
    for seed in seeds:
        result = simulate(scenario, "core", seed)
        view = S.RunView(result.timeseries, None, None, WINDOW)
        stats = S.compute(STATISTICS.values(), view)
        out.append({name: float(stats[stat]) for name, stat in STATISTICS.items()})
    return out


def data_set(truth: dict[str, float], replicates: int, k: int) -> dict[str, float]:
    """What the calibration compares, at the truth: a mean of ``replicates`` runs."""
    runs = runs_at(truth, [run_seed(SEED, 1_000 * (k + 1) + r) for r in range(replicates)])
    return {name: float(np.mean([r[name] for r in runs])) for name in STATISTICS}


def scales(replicates: int, n: int = 12) -> dict[str, float]:
    """Each target's sd: the sd of a mean of ``replicates`` runs at the prior's midpoint."""
    mid = {k: (lo + hi) / 2 for k, (lo, hi) in PRIORS.items()}
    runs = runs_at(mid, [run_seed(SEED, 500_000 + i) for i in range(n)])
    return {
        name: float(np.std([r[name] for r in runs], ddof=1) / math.sqrt(replicates))
        for name in STATISTICS
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--truths", type=int, default=10)
    ap.add_argument("--budget", type=int, default=700)
    ap.add_argument("--population", type=int, default=24)
    ap.add_argument("--replicates", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    rec = Recorder("coverage")
    start = time.perf_counter()
    rng = np.random.default_rng(SEED)
    sd = scales(args.replicates)
    rows = []
    for k in range(args.truths):
        truth = {p: float(rng.uniform(lo, hi)) for p, (lo, hi) in PRIORS.items()}
        observed = data_set(truth, args.replicates, k)
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "coverage.toml"
            text = targets_text(
                {n: (observed[n], sd[n]) for n in STATISTICS},
                budget=args.budget,
                population_size=args.population,
                replicates=args.replicates,
            ).replace("predictive_draws = 6", "predictive_draws = 2")
            path.write_text(text)
            o = calibrate(path, Path(tmp) / "out", workers=args.workers, progress=False)
        post, w = o.posterior, o.posterior.weight
        row = {"truth": truth, "generations": o.generations, "stopped": o.stopped}
        row["ess"] = float(1 / np.sum(np.square(w / w.sum())))
        row["seconds"] = round(time.perf_counter() - t0, 1)
        for name, value in truth.items():
            lo, hi = (
                weighted_quantile(post[name], w, q) for q in ((1 - LEVEL) / 2, (1 + LEVEL) / 2)
            )
            rank = float(np.sum(w[post[name] < value]) / np.sum(w))
            prior_lo, prior_hi = PRIORS[name]
            row[name] = {
                "interval": [lo, hi],
                "covers": bool(lo <= value <= hi),
                "rank": rank,
                "width_ratio": (hi - lo) / (LEVEL * (prior_hi - prior_lo)),
            }
        rows.append(row)
        print(
            f"truth {k + 1}/{args.truths}: "
            + ", ".join(
                f"{n.split('.')[1]} {truth[n]:.3f} {'in' if row[n]['covers'] else 'OUT'} "
                f"[{row[n]['interval'][0]:.3f}, {row[n]['interval'][1]:.3f}]"
                for n in PRIORS
            )
            + f"; {o.generations} generations ({o.stopped}), ESS {row['ess']:.0f}, "
            f"{row['seconds']:.0f} s",
            flush=True,
        )
    coverage = {n: sum(r[n]["covers"] for r in rows) / len(rows) for n in PRIORS}
    figures = {
        "truths": len(rows),
        "level": LEVEL,
        "coverage": coverage,
        "covered": {n: int(sum(r[n]["covers"] for r in rows)) for n in PRIORS},
        "mean_width_ratio": {
            n: float(np.mean([r[n]["width_ratio"] for r in rows])) for n in PRIORS
        },
        "ranks": {n: [r[n]["rank"] for r in rows] for n in PRIORS},
        "settings": {
            "budget": args.budget,
            "population_size": args.population,
            "replicates": args.replicates,
            "workers": args.workers,
            "base_set": BASE_SET,
            "priors": {n: list(v) for n, v in PRIORS.items()},
            "target_sd": sd,
        },
        "wall_s": round(time.perf_counter() - start, 1),
        "runs": rows,
    }
    for n in PRIORS:
        print(
            f"{n:26} covered {figures['covered'][n]} of {len(rows)} "
            f"({coverage[n]:.0%}); mean width ratio {figures['mean_width_ratio'][n]:.2f}"
        )
    print(f"wall {figures['wall_s'] / 60:.1f} min; load before {rec.load_before}")
    if not args.no_write:
        rec.write(figures)


if __name__ == "__main__":
    main()
