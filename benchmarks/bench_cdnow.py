"""Wall time of `trustsim predict cdnow` with the shipped scenario (target: <= 2 min on 2
cores), and the errors it reports.

    .venv/bin/python benchmarks/bench_cdnow.py [--seeds 10] [--scenario cdnow] [--master]

Runs the command as a user would (a fresh process: imports, the panel, the model's seeds,
BG/NBD, figures and report), prints its wall time, the machine's load average before and
after, and the errors table with the model / BG/NBD ratios.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--scenario", default="cdnow")
    ap.add_argument("--master", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            *(sys.executable, "-m", "trustsim.cli", "predict", "cdnow"),
            *("--scenario", args.scenario, "--seeds", str(args.seeds), "--out", tmp),
            *(["--master"] if args.master else []),
        ]
        before = load_average()
        start = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=ROOT)
        wall = time.perf_counter() - start
        errors = pd.read_csv(Path(tmp) / "errors.csv").set_index("predictor")
    print(
        f"trustsim predict cdnow: {wall:.1f} s wall, {os.cpu_count()} cores, load {before} "
        f"before / {load_average()} after"
    )
    print(errors.to_string())
    for ref in ("BG/NBD (published)", "BG/NBD (fitted)"):
        r = errors.loc["model"] / errors.loc[ref]
        print(f"model / {ref}: MAPE x{r.holdout_mape_pct:.2f}, MAE x{r.conditional_mae:.2f}")


if __name__ == "__main__":
    main()
