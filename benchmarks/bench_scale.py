"""Market scale: how the core grows with the market, against the machine's roofline.

    .venv/bin/python benchmarks/bench_scale.py                  # everything (~10 min loaded)
    .venv/bin/python benchmarks/bench_scale.py --only table     # scaling table + roofline
    .venv/bin/python benchmarks/bench_scale.py --only target    # the 10^6 x 40,000 run, maxima
    .venv/bin/python benchmarks/bench_scale.py --only sweep     # 200 runs of 1,000 x 500 steps
    .venv/bin/python benchmarks/bench_scale.py --only start     # warm start of `trustsim run`
    .venv/bin/python benchmarks/bench_scale.py --only calibrate # memory estimate vs peak RSS
    .venv/bin/python benchmarks/bench_scale.py --only work      # the model's work per customer-step

Every size runs in its own subprocess, so peak memory (ru_maxrss) is that run's. Sizes the
memory guard refuses are not run (the refusal is printed); their world is still built and
timed. The roofline is measured in the same subprocess as the core: the purchase kernel of
benchmarks/roofline.py, which does the work a customer-step of the model does (counted from
the model: the purchase share, keyed draws, normals, sigmoids, trust formulas, powers, other
records and ties read) with no model logic, and a STREAM-like triad for the memory
bandwidth. "fraction" = kernel ns / core ns per customer-step.

Each section writes its figures to benchmarks/results/scale_<section>.json (with the
machine, the load before and after, the date and the commit) and re-renders
docs/PERFORMANCE.md from the results files.

Targets (2-core machine): 10^6 customers, 40,000 salespeople, 3 firms, 1,000 steps with
TRUSTSIM_THREADS=2: simulation < 100 s, peak memory < 2.5 GiB, world build < 15 s;
5,000,000 x 1,000,000 runs or is refused up front by the guard; core >= 0.5 of the roofline
kernel at 10^3 ... 10^6 customers; sweep of 200 runs (1,000 customers x 500 steps) >= 25
runs/s on 2 workers; warm start of `trustsim run` < 1.5 s. Record `uptime` with every
figure: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # roofline.py, record.py beside this file
from record import Recorder, finish, load_average

PER_SALESPERSON = 25  # customers per salesperson, as in the baseline scenario
FIRMS = 3
SIZES = (1_000, 10_000, 30_000, 100_000, 1_000_000)
TARGET = (1_000_000, 40_000, 3, 1_000)
MAXIMA = (5_000_000, 1_000_000, 3, 1_000)
CUSTOMER_STEPS = 3e7  # work per size in the table; steps = this / customers, in [20, 500]
RECORD_FIELDS = 8  # ti, te, gift, scar, asym, last, n_trades, ring|origin|met: 64 bytes


def uptime() -> str:
    return Path("/proc/loadavg").read_text().split()[:3].__str__().replace("'", "")


def overrides(n: int, ns: int, nf: int, steps: int) -> list[str]:
    return [
        f"population.n_customers={n}",
        f"population.n_salespeople={ns}",
        f"population.n_firms={nf}",
        f"run.steps={steps}",
    ]


def child(code: str, *args: object, env: dict | None = None, timeout: float = 3600) -> dict:
    """Run this file's function ``code`` in a fresh interpreter; its last stdout line is JSON."""
    cmd = [sys.executable, __file__, "--child", code, *map(str, args)]
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _joined(rates: list[float]) -> str:
    return ",".join(repr(r) for r in rates)


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ----------------------------------------------------------------------------- roofline


def _kernels():
    """The purchase kernel (benchmarks/roofline.py) and the triad, serial and parallel."""
    import numpy as np
    from numba import njit, prange
    from roofline import compiled_kernel

    def triad(a, b, c, scalar):
        for i in prange(a.shape[0]):
            a[i] = b[i] + scalar * c[i]

    return {
        "serial": (compiled_kernel(False), njit(cache=True)(triad)),
        "parallel": (compiled_kernel(True), njit(cache=True, parallel=True)(triad)),
        "np": np,
    }


def roofline(n: int, ties, rates: list[float], threads: int, reps: int = 5) -> dict:
    """ns per customer-step of the purchase kernel at n customers (the world's ties, the
    counted work ``rates``); triad GB/s."""
    import numba

    k = _kernels()
    np = k["np"]
    mode = "parallel" if threads > 1 else "serial"
    if threads > 1:
        numba.set_num_threads(threads)
    steps_fn, triad_fn = k[mode]
    rec = np.zeros((n, RECORD_FIELDS))
    tab = np.linspace(0.5, 1.0, 2 * 4096).reshape(2, 4096)  # the size of the core's tables
    work = np.asarray(rates, dtype=np.float64)
    steps_fn(rec, ties, tab, 1, 0, work)  # compile / load, and touch every page
    times = []
    for t in range(1, reps + 1):
        start = time.perf_counter()
        steps_fn(rec, ties, tab, 1, t, work)
        times.append(time.perf_counter() - start)
    size = 1 << 24  # 128 MiB per array: far beyond the caches
    a, b, c = np.zeros(size), np.ones(size), np.full(size, 2.0)
    triad_fn(a, b, c, 3.0)
    best = min(_timed(lambda: triad_fn(a, b, c, 3.0)) for _ in range(reps))
    return {
        "roofline_ns": min(times) / n * 1e9,
        "triad_gbs": 3 * 8 * size / best / 1e9,
    }


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# ----------------------------------------------------------------------------- children


def child_size(n: int, ns: int, nf: int, steps: int, rates: str) -> dict:
    """Build the world, run the core if the guard allows, then the roofline, in one process."""
    from trustsim.core.model import CoreModel, threads
    from trustsim.loader import load_scenario
    from trustsim.population import build_world
    from trustsim.runtime.memory import TooLarge, check_run

    warm = load_scenario("baseline", overrides(60, 4, nf, 2))  # loads compiled code
    CoreModel(warm, 1).run(2)  # loads the compiled code the timed run uses
    scenario = load_scenario("baseline", overrides(n, ns, nf, steps))
    out: dict = {"n": n, "ns": ns, "steps": steps, "threads": threads()}
    start = time.perf_counter()
    world = build_world(scenario, 1)
    out["build_s"] = time.perf_counter() - start
    out["build_peak"] = peak_rss()
    try:
        out["estimate"] = check_run(scenario).total
    except TooLarge as exc:
        out["refused"] = str(exc)
    if "refused" not in out:
        model = CoreModel(scenario, 1, world=world)
        start, cpu = time.perf_counter(), time.process_time()
        model.run(steps)  # as simulate() runs it
        out["run_s"] = time.perf_counter() - start
        out["cpu_s"] = time.process_time() - cpu
        out["ns_per_cs"] = out["run_s"] / (n * steps) * 1e9
        out["peak"] = peak_rss()
        del model
    out.update(roofline(n, world.csr.indices, [float(r) for r in rates.split(",")], threads()))
    return out


def child_calibrate(n: int, ns: int, nf: int, steps: int, history: int, engine: str) -> dict:
    """Peak RSS of a whole simulate() (world, run, time series, event log) vs the estimate."""
    from trustsim.loader import load_scenario
    from trustsim.runtime.memory import Sizes, estimate
    from trustsim.runtime.run import simulate

    sc = load_scenario(
        "baseline", [*overrides(n, ns, nf, steps), f"run.history={str(bool(history)).lower()}"]
    )
    est = estimate(Sizes.of(sc, engine))
    result = simulate(sc, engine)
    rows = 0 if result.events is None else len(result.events)
    return {"peak": peak_rss(), "estimate": est.total, "parts": est.parts, "event_rows": rows}


def child_work(n: int, steps: int) -> dict:
    """The work of a customer-step in the long run, counted with the JIT off
    (roofline.count_work)."""
    from roofline import count_work

    return count_work(n, steps, burn=steps // 3).as_dict()


def child_build(n: int) -> dict:
    from trustsim.loader import load_scenario
    from trustsim.population import build_world

    build_world(load_scenario("baseline", ["population.n_customers=60"]), 1)  # compiled code
    sc = load_scenario("baseline", [f"population.n_customers={n}"])
    start = time.perf_counter()
    world = build_world(sc, 1)
    return {"build_s": time.perf_counter() - start, "peak": peak_rss(), "ties": world.csr.n_edges}


CHILDREN = {
    "size": child_size,
    "calibrate": child_calibrate,
    "work": child_work,
    "build": child_build,
}


# ----------------------------------------------------------------------------- sections


def gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


def steps_for(n: int) -> int:
    return int(min(500, max(20, CUSTOMER_STEPS // n)))


def section_work() -> tuple[list[float], dict]:
    """Count the model's work per customer-step; the purchase kernel's rates."""
    from roofline import Work, rates_array

    res = child("work", 200, 150, env={"NUMBA_DISABLE_JIT": "1", "PYTHONWARNINGS": "ignore"})
    if "error" in res:
        raise SystemExit(f"could not count the model's work: {res['error']}")
    work = Work(**res)
    print("work per customer-step in the long run (baseline, 200 customers, steps 51-150):")
    print("  " + ", ".join(f"{k} {v:.3f}" for k, v in res.items()))
    print(
        f"  per purchase: {work.per_purchase('uniforms'):.2f} keyed uniforms, "
        f"{work.per_purchase('sigmoids'):.2f} sigmoids, "
        f"{work.per_purchase('trust_formulas'):.2f} trust formulas"
    )
    return [float(x) for x in rates_array(work)], res


def section_table(sizes: tuple[int, ...], rates: list[float]) -> list[dict]:
    print(
        f"\nscaling table: {PER_SALESPERSON} customers per salesperson, {FIRMS} firms, "
        f"TRUSTSIM_THREADS={os.environ.get('TRUSTSIM_THREADS', '1')}; the roofline kernel does "
        f"the counted work of a customer-step (benchmarks/roofline.py)"
    )
    head = (
        f"{'customers':>10} {'salesp.':>8} {'steps':>5} {'build s':>8} {'ns/c-step':>10} "
        f"{'peak':>10} {'estimate':>10} {'roofline ns':>11} {'fraction':>8} {'triad GB/s':>10}  load"
    )
    print(head)
    rows = []
    for n in sizes:
        ns = max(1, n // PER_SALESPERSON)
        steps = steps_for(n)
        r = child("size", n, ns, FIRMS, steps, _joined(rates))
        rows.append({**r, "n": n, "ns": ns, "steps": steps, "load": load_average()})
        if "error" in r:
            print(f"{n:>10,} {ns:>8,} failed: {r['error']}")
            continue
        if "refused" in r:
            run, peak, est, frac = "refused", gib(r["build_peak"]) + "*", "-", "-"
        else:
            run, peak = f"{r['ns_per_cs']:.0f}", gib(r["peak"])
            est, frac = gib(r["estimate"]), f"{r['roofline_ns'] / r['ns_per_cs']:.2f}"
        print(
            f"{n:>10,} {ns:>8,} {steps:>5} {r['build_s']:>8.2f} {run:>10} {peak:>10} {est:>10} "
            f"{r['roofline_ns']:>11.1f} {frac:>8} {r['triad_gbs']:>10.1f}  {uptime()}"
        )
        if "refused" in r:
            print(f"{'':>10} guard: {r['refused']}")
    print("* refused sizes: peak of building the world only")
    return rows


def table_figure(rows: list[dict], path: Path) -> None:
    """Build time and ns per customer-step (core and roofline kernel) against customers."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ok = [r for r in rows if "error" not in r]
    ran = [r for r in ok if "ns_per_cs" in r]
    fig = Figure(figsize=(10, 4))
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    left.loglog([r["n"] for r in ok], [r["build_s"] for r in ok], "o-", label="world build")
    left.set(xlabel="customers", ylabel="seconds", title="Building the world")
    left.legend()
    right.loglog([r["n"] for r in ran], [r["ns_per_cs"] for r in ran], "o-", label="core")
    right.loglog(
        [r["n"] for r in ok], [r["roofline_ns"] for r in ok], "s--", label="roofline kernel"
    )
    for r in ok:
        if "refused" in r:
            right.axvline(r["n"], color="grey", lw=0.5)
    right.set(
        xlabel=f"customers ({PER_SALESPERSON} per salesperson; grey: refused by the guard)",
        ylabel="ns per customer-step",
        title="Speed against the machine's roofline",
    )
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"figure: {path}")


def guard_line(n: int, ns: int, nf: int, steps: int) -> dict:
    """`trustsim run` at these sizes, as a user would type it: exit status and message."""
    sets = [a for s in overrides(n, ns, nf, steps) for a in ("--set", s)]
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "trustsim.cli", "run", "--no-figure", "--out", tmp, *sets],
            check=False,
            capture_output=True,
            text=True,
            env={**os.environ, "TRUSTSIM_THREADS": "2"},
        )
        wall = time.perf_counter() - start
    print(f"  {n:,} x {ns:,} x {nf} firms x {steps:,} steps, TRUSTSIM_THREADS=2:")
    print(f"  exit {proc.returncode} after {wall:.2f} s  (load {uptime()})")
    for line in proc.stderr.strip().splitlines()[-3:]:
        print(f"  {line}")
    if proc.returncode == 0:
        print("  " + "\n  ".join(proc.stdout.strip().splitlines()[-4:]))
    message = (proc.stderr.strip().splitlines() or [""])[-1]
    return {"exit_status": proc.returncode, "guard_s": wall, "message": message}


def fits(n: int, ns: int, nf: int, steps: int) -> bool:
    """Whether the memory guard lets a run of these sizes start on this machine now."""
    from trustsim.loader import load_scenario
    from trustsim.runtime.memory import TooLarge, check_run

    try:
        check_run(load_scenario("baseline", overrides(n, ns, nf, steps)))
    except TooLarge:
        return False
    return True


def run_or_refusal(n: int, ns: int, nf: int, steps: int, rates: list[float]) -> dict:
    """The guard's refusal as a user sees it, or (once the run fits) the run measured."""
    sizes = {"n": n, "ns": ns, "firms": nf, "steps": steps}
    if not fits(n, ns, nf, steps):
        return {**sizes, **guard_line(n, ns, nf, steps), "load": load_average()}
    r = child("size", n, ns, nf, steps, _joined(rates), env={"TRUSTSIM_THREADS": "2"})
    r.update(sizes, load=load_average())
    if "error" in r or "refused" in r:
        print(f"  {n:,} x {ns:,}: {r.get('error') or r.get('refused')}")
        return r
    print(
        f"  {n:,} x {ns:,} x {nf} firms x {steps:,} steps, TRUSTSIM_THREADS=2: build "
        f"{r['build_s']:.1f} s, simulation {r['run_s']:.1f} s ({r['ns_per_cs']:.0f} ns per "
        f"customer-step, {r['roofline_ns'] / r['ns_per_cs']:.2f} of the roofline), peak "
        f"{gib(r['peak'])}  (load {uptime()})"
    )
    return r


def section_target(rates: list[float]) -> dict:
    print("\ntarget run (peak < 3 GiB, build < 15 s, simulation < 100 s):")
    target = run_or_refusal(*TARGET, rates)
    print("schema maxima (run within memory or refused up front):")
    maxima = run_or_refusal(*MAXIMA, rates)
    builds = []
    for n in (100_000, 1_000_000):
        r = child("build", n)
        builds.append({**r, "n": n, "load": load_average()})
        print(
            f"world build, {n:,} customers: {r['build_s']:.2f} s, {r['ties']:,} ties, "
            f"peak {gib(r['peak'])}  (load {uptime()})"
        )
    return {"target": target, "maxima": maxima, "builds": builds}


def section_sweep(runs: int = 200, customers: int = 1000, steps: int = 500) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sweep.toml"
        path.write_text(
            '[base]\nscenario = "baseline"\n'
            f'set = ["population.n_customers={customers}", "run.steps={steps}"]\n'
            f'[design]\nmethod = "lhs"\nsamples = {runs}\n'
            '[design.parameters]\n"culture.ring_gradient" = [0.0, 1.0]\n'
            '[runs]\nreplicates = 1\n[output]\nmetrics = ["mean_trust", "trades"]\n',
            encoding="utf-8",
        )
        cmd = [sys.executable, "-m", "trustsim.cli", "sweep", str(path), "--workers", "2"]
        start = time.perf_counter()
        proc = subprocess.run(
            [*cmd, "--quiet", "--out", str(Path(tmp) / "out")],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
    print(
        f"\nsweep: {runs} runs of {customers:,} customers x {steps} steps on 2 workers: "
        f"{wall:.1f} s = {runs / wall:.1f} runs/s end to end (target 25)  (load {uptime()})"
    )
    last = (proc.stdout.strip() or proc.stderr.strip()).splitlines()[-1]
    print("  " + last)
    return {
        "runs": runs,
        "customers": customers,
        "steps": steps,
        "workers": 2,
        "wall_s": wall,
        "runs_per_s": runs / wall,
        "exit_status": proc.returncode,
        "summary": last,
    }


def section_start(repeats: int = 5) -> dict:
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "trustsim.cli", "run", "--out", out]
        subprocess.run(cmd, check=True, capture_output=True)  # fills the numba cache if needed
        times = [_timed(lambda: subprocess.run(cmd, check=True, capture_output=True))]
        for _ in range(repeats - 1):
            times.append(_timed(lambda: subprocess.run(cmd, check=True, capture_output=True)))
        bare = [
            _timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True))
            for _ in range(repeats)
        ]
    print(
        f"\nwarm start of `trustsim run` (baseline, figure): median {statistics.median(times):.2f} s, "
        f"min {min(times):.2f} s over {repeats} (target < 1.5 s; bare interpreter "
        f"{statistics.median(bare):.2f} s)  (load {uptime()})"
    )
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "times_s": times,
        "bare_interpreter_s": statistics.median(bare),
    }


CALIBRATION = (
    # n, salespeople, firms, steps, history, engine
    (1_000, 40, 3, 200, 0, "core"),
    (100_000, 20, 4, 50, 0, "core"),
    (20_000, 800, 3, 100, 0, "core"),
    (10_000, 20, 4, 200, 1, "core"),
    (100, 20, 4, 20_000, 0, "core"),
    (2_000, 20, 4, 50, 0, "mesa"),
)


def section_calibrate() -> list[dict]:
    print("\nmemory estimate vs measured peak RSS (simulate(), whole run, in a fresh process):")
    rows = []
    for n, ns, nf, steps, history, engine in CALIBRATION:
        r = child("calibrate", n, ns, nf, steps, history, engine)
        sizes = {"n": n, "ns": ns, "firms": nf, "steps": steps, "history": bool(history)}
        rows.append({**r, **sizes, "engine": engine, "load": load_average()})
        if "error" in r:
            print(f"  {n} x {ns}: {r['error']}")
            continue
        print(
            f"  {engine} {n:>7,} x {ns:>5,} x {nf} firms x {steps:>6,} steps"
            f"{' history' if history else '        '}: peak {gib(r['peak'])}, estimate "
            f"{gib(r['estimate'])} ({r['estimate'] / r['peak']:.2f}x)  (load {uptime()})"
        )
    return rows


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        fn = CHILDREN[sys.argv[2]]
        args = [a if not a.lstrip("-").isdigit() else int(a) for a in sys.argv[3:]]
        print(json.dumps(fn(*args)))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--only", choices=("table", "target", "sweep", "start", "calibrate", "work"), nargs="*"
    )
    ap.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    ap.add_argument("--figure", type=Path, help="also draw the scaling table into this PNG")
    args = ap.parse_args()
    only = set(args.only or ("table", "target", "sweep", "start", "calibrate", "work"))
    print(f"load average at start: {uptime()}; {os.cpu_count()} cores")
    recorder = Recorder("scale_table")  # the work count is part of the table's figures
    rates, work = section_work() if only & {"work", "table", "target"} else ([], {})
    if "table" in only:
        rows = section_table(tuple(args.sizes), rates)
        if args.figure:
            table_figure(rows, args.figure)
        figures = {"per_salesperson": PER_SALESPERSON, "firms": FIRMS, "rows": rows}
        finish(recorder, {**figures, "work": work})
    sections = {
        "target": lambda: section_target(rates),
        "sweep": section_sweep,
        "start": section_start,
        "calibrate": lambda: {"rows": section_calibrate()},
    }
    for name, section in sections.items():
        if name in only:
            recorder = Recorder(f"scale_{name}")
            finish(recorder, section())


if __name__ == "__main__":
    main()
