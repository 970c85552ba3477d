"""Speed of the two engines on the same scenario, with a check that they dock.

    .venv/bin/python benchmarks/bench_engines.py [--customers 10000] [--steps 60]

Prints customer-steps per second for each engine and their ratio, and the warm-start
wall time of `trustsim run` (numba cache loaded from disk); writes them to
benchmarks/results/engines.json and re-renders docs/PERFORMANCE.md. Targets: core at
least 100x Mesa; warm start under 2 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # record.py beside this file
from record import Recorder, finish

from trustsim.engine import make_model
from trustsim.loader import load_scenario
from trustsim.runtime.run import model_rows, timeseries_frame


def timed_run(scenario, engine: str, steps: int, seed: int):
    """Seconds for ``steps`` steps (world built and compiled code loaded beforehand)."""
    warm = make_model(scenario, engine, seed)
    warm.step()  # loads compiled rules in this process
    model = make_model(scenario, engine, seed)
    start = time.perf_counter()
    for _ in range(steps):
        model.step()
    return time.perf_counter() - start, timeseries_frame(model_rows(model))


def identical(a, b) -> bool:
    x, y = a.to_numpy(float), b.to_numpy(float)
    return bool(np.all(np.isclose(x, y, rtol=0, atol=1e-12) | (np.isnan(x) & np.isnan(y))))


def warm_start() -> float:
    """Median wall time of `trustsim run --steps 200` in a fresh process, cache warm."""
    times = []
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "trustsim.cli", "run", "--out", out]
        subprocess.run(cmd, check=True, capture_output=True)  # fills the cache if needed
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    recorder = Recorder("engines")
    scenario = load_scenario("baseline", [f"population.n_customers={args.customers}"])
    results = {}
    rows = []
    for label, engine, nthreads in (
        ("core, 1 thread", "core", "1"),
        (f"core, {os.cpu_count()} threads", "core", str(os.cpu_count())),
        ("mesa", "mesa", "1"),
    ):
        os.environ["TRUSTSIM_THREADS"] = nthreads
        seconds, ts = timed_run(scenario, engine, args.steps, args.seed)
        results[label] = (seconds, ts)
        rate = args.customers * args.steps / seconds
        print(f"{label:>16}: {seconds:8.3f} s  {rate:14,.0f} customer-steps/s")
        rows.append({"engine": label, "threads": int(nthreads), "seconds": seconds, "rate": rate})
    same = all(identical(ts, results["mesa"][1]) for _, ts in results.values())
    print(f"outputs identical: {same}")
    for row in rows:
        row["vs_mesa"] = results["mesa"][0] / results[row["engine"]][0]
    for row in rows[:2]:
        print(f"{row['engine']} / mesa speed: {row['vs_mesa']:.1f}x (target >= 100x)")
    start = warm_start()
    print(
        f"warm start of `trustsim run` (baseline, 200 steps, figure): {start:.2f} s (target < 2 s)"
    )
    figures = {"customers": args.customers, "steps": args.steps, "seed": args.seed}
    finish(recorder, {**figures, "engines": rows, "identical": same, "warm_start_s": start})
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
