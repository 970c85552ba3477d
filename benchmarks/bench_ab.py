"""The core of two source trees timed in the same sitting, alternating, so that a change
can be judged on a shared (loaded) machine: ns per customer-step of ``CoreModel.run`` on
the baseline, best of the rounds, wall and CPU time.

    git archive REV sim analysis scenarios | tar -x -C /tmp/old
    mv /tmp/old/sim /tmp/old/trustsim && mv /tmp/old/analysis /tmp/old/trustsim/ \
        && mv /tmp/old/scenarios /tmp/old/trustsim/
    .venv/bin/python benchmarks/bench_ab.py --old /tmp/old [--sizes 1000 30000] [--rounds 5]

The other tree is put first on PYTHONPATH of its subprocesses (it is found before the
installed package); the current tree is the installed one, or ``--new`` another such tree.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_scale.py beside this file
from bench_scale import FIRMS, PER_SALESPERSON

CHILD = """
import json, sys, time
n, steps, per, firms = (int(a) for a in sys.argv[1:5])
try:
    from trustsim.core.model import CoreModel
except ImportError:  # a tree from before the layout by layer
    from trustsim.kernel import CoreModel
from trustsim.loader import load_scenario
import trustsim
ns = max(1, n // per)
warm = load_scenario("baseline", ["population.n_customers=60", "population.n_salespeople=4", "run.steps=2"])
CoreModel(warm, 1).run(2)
sc = load_scenario("baseline", [f"population.n_customers={n}", f"population.n_salespeople={ns}",
                                f"population.n_firms={firms}", f"run.steps={steps}"])
m = CoreModel(sc, 1)
m.run(steps // 5)  # the first weeks, in which customers look for salespeople
k = steps - steps // 5
w, c = time.perf_counter(), time.process_time()
m.run(k)
w, c = time.perf_counter() - w, time.process_time() - c
print(json.dumps({"where": trustsim.__file__, "wall_ns": w / (n * k) * 1e9, "cpu_ns": c / (n * k) * 1e9}))
"""


def timed(tree: str | None, n: int, steps: int) -> dict:
    env = {**os.environ, "TRUSTSIM_THREADS": "1"}
    if tree:
        env["PYTHONPATH"] = tree
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), str(steps), str(PER_SALESPERSON), str(FIRMS)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=3600,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, help="the other tree (laid out as installed)")
    ap.add_argument("--new", help="a second such tree to time instead of the installed one")
    ap.add_argument("--sizes", type=int, nargs="*", default=[1000, 30000])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    for n in args.sizes:
        steps = int(min(500, max(40, 3e7 // n)))
        best: dict[str, dict[str, float]] = {}
        for _ in range(args.rounds):
            for name, tree in (("old", args.old), ("new", args.new)):
                r = timed(tree, n, steps)
                b = best.setdefault(name, {"wall_ns": 1e18, "cpu_ns": 1e18})
                b["wall_ns"] = min(b["wall_ns"], r["wall_ns"])
                b["cpu_ns"] = min(b["cpu_ns"], r["cpu_ns"])
        o, w = best["old"], best["new"]
        print(
            f"{n:>9,} customers x {steps} steps: old {o['cpu_ns']:.0f} ns (cpu) / "
            f"{o['wall_ns']:.0f} ns (wall), new {w['cpu_ns']:.0f} / {w['wall_ns']:.0f}; "
            f"new/old cpu {w['cpu_ns'] / o['cpu_ns']:.3f}"
        )
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
