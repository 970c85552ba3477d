"""Parameter recovery at full size: the fuller version of tests/test_calibration.py.

    .venv/bin/python benchmarks/bench_calibration.py                  # ~20-40 min on 2 cores
    .venv/bin/python benchmarks/bench_calibration.py --budget 1000 --customers 250

Three parameters (wom.positive_prob, failures.complaint_prob, costs.trust_saving) are set
to known values; the targets are the mean of eight runs at those values with seeds the
calibration never uses; `calibrate` must find them. Prints, per parameter, the truth, the
posterior median and 90 % interval, whether the interval covers the truth and the
posterior/prior width ratio; then the wall time and the machine's load.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.analysis.calibration_helpers import (
    PRIORS,
    TRUTH,
    UNMOVABLE,
    observe_truth,
    targets_text,
)
from trustsim.analysis.calibration.abc import calibrate
from trustsim.analysis.calibration.posterior import weighted_quantile


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=int, default=3000)
    ap.add_argument("--population", type=int, default=60)
    ap.add_argument("--customers", type=int, default=500)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--workers", type=int)
    ap.add_argument("--cluster")
    ap.add_argument("--out", type=Path, help="keep the calibration folder here")
    args = ap.parse_args()
    base_set = [
        f"population.n_customers={args.customers}",
        "population.n_salespeople=20",
        f"run.steps={args.steps}",
        "mechanisms.turnover=false",
        "firms.failure_rate=0.2",
    ]
    load = os.getloadavg()
    start = time.perf_counter()
    observed = observe_truth(base_set)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "recovery.toml"
        path.write_text(
            targets_text(
                observed, UNMOVABLE, args.budget, args.population, base_set=base_set
            ).replace("prior_check_draws = 24", "prior_check_draws = 16")
        )
        o = calibrate(
            path, args.out or Path(tmp) / "out", workers=args.workers, cluster=args.cluster
        )
    wall = time.perf_counter() - start
    print(f"{'parameter':28} truth  median  90% interval      covers  width ratio")
    for name, truth in TRUTH.items():
        q = [weighted_quantile(o.posterior[name], o.posterior.weight, x) for x in (0.05, 0.5, 0.95)]
        lo, hi = PRIORS[name]
        ratio = (q[2] - q[0]) / (0.9 * (hi - lo))
        covers = q[0] <= truth <= q[2]
        print(
            f"{name:28} {truth:.3f}  {q[1]:.3f}  [{q[0]:.3f}, {q[2]:.3f}]  {covers!s:6}  {ratio:.2f}"
        )
    movable = {n: s["movable"] for n, s in o.screen.items()}
    print(f"movable targets: {movable}")
    print(
        f"{o.generations} generations, {o.simulations} draws, wall {wall / 60:.1f} min; "
        f"load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
        f"after {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
