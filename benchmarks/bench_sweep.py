"""Sweep throughput: runs per second, and how much of the time is simulation.

    .venv/bin/python benchmarks/bench_sweep.py                 # 2,000 runs, about a minute
    .venv/bin/python benchmarks/bench_sweep.py --runs 10000    # the full target
    .venv/bin/python benchmarks/bench_sweep.py --cluster tcp://HOST:8786

Each run is 100 customers x 50 steps on the core engine (a Latin hypercube over two
parameters, 5 replicates per point). Prints the sweep's runs/s end to end (start-up,
planning, batching and chunk writing included), the rate of the bare model in one
process it is compared with, and the share of worker time spent simulating; writes them
to benchmarks/results/sweep.json and re-renders docs/PERFORMANCE.md. Target: a sweep of
small runs is dominated by simulation, not scheduling.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # record.py beside this file
from record import Recorder, finish

from trustsim.analysis.sweep.driver import execute
from trustsim.analysis.sweep.load import load_experiment
from trustsim.engine import make_model

REPLICATES = 5


def experiment_file(folder: Path, runs: int, customers: int, steps: int) -> Path:
    path = folder / "bench.toml"
    path.write_text(
        '# Benchmark: many small runs.\n[base]\nscenario = "baseline"\n'
        f'set = ["population.n_customers={customers}", "run.steps={steps}"]\n'
        f'[design]\nmethod = "lhs"\nsamples = {max(1, runs // REPLICATES)}\n'
        '[design.parameters]\n"culture.ring_gradient" = [0.0, 1.0]\n'
        '"salespeople.instrumental_share" = [0.0, 1.0]\n'
        f"[runs]\nreplicates = {REPLICATES}\nmaster_seed = 1\n"
        '[output]\nmetrics = ["mean_trust", "insider_share", "trades"]\n',
        encoding="utf-8",
    )
    return path


def serial_seconds_per_run(path: Path, n: int = 40) -> float:
    """Wall time of building and running one model in a warm process, as a sweep's batch
    runs it (all steps in one compiled call): the work a sweep counts as simulation."""
    scenario = load_experiment(path).base

    def one(seed: int) -> None:
        make_model(scenario, "core", seed).run(scenario.run.steps)

    one(0)  # loads the compiled code
    start = time.perf_counter()
    for seed in range(n):
        one(seed)
    return (time.perf_counter() - start) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--customers", type=int, default=100)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--workers", type=int, help="default: one per core")
    ap.add_argument("--cluster", help="a dask scheduler address instead of the local pool")
    ap.add_argument("--batch", type=int, help="runs per task (default: the sweep's own choice)")
    args = ap.parse_args()
    recorder = Recorder("sweep")
    with tempfile.TemporaryDirectory() as tmp:
        path = experiment_file(Path(tmp), args.runs, args.customers, args.steps)
        per_run = serial_seconds_per_run(path)
        start = time.perf_counter()
        report = execute(
            path,
            Path(tmp) / "out",
            workers=args.workers,
            cluster=args.cluster,
            batch=args.batch,
            progress=True,
        )
        wall = time.perf_counter() - start
    n, w = report.new_runs, report.workers
    print(f"runs: {n} x ({args.customers} customers, {args.steps} steps) on {w} workers")
    print(
        f"sweep: {wall:.1f} s wall, {n / wall:,.1f} runs/s end to end "
        f"({report.rate:,.1f} runs/s after planning)"
    )
    print(
        f"model alone, one process: {per_run * 1000:.2f} ms per run = {1 / per_run:,.1f} runs/s; "
        f"x{w} workers = {w / per_run:,.1f} runs/s ideal"
    )
    print(
        f"share of worker time simulating (world build + steps): {report.sim_seconds / (wall * w):.0%} "
        f"(the rest: process start-up, scheduling, validation, result tables, chunk writing)"
    )
    figures = {"runs": n, "customers": args.customers, "steps": args.steps, "workers": w}
    figures["cluster"] = bool(args.cluster)
    figures.update(wall_s=wall, runs_per_s=n / wall, after_planning_runs_per_s=report.rate)
    figures.update(
        model_ms_per_run=per_run * 1000, simulating_share=report.sim_seconds / (wall * w)
    )
    finish(recorder, figures)


if __name__ == "__main__":
    main()
