"""Where the core spends its time: perf samples of the long-run steps, named by function.

    .venv/bin/python benchmarks/profile_core.py                        # 1,000 customers
    .venv/bin/python benchmarks/profile_core.py --customers 100000 --warm 150 --steps 150

numba's compiled code has no symbols perf can read, so a child process compiles the core
afresh (an empty, temporary NUMBA_CACHE_DIR: about a minute), runs ``--warm`` steps, then
the measured ``--steps`` while perf samples it, and writes perf's map of its compiled
functions (/tmp/perf-PID.map: each function's address from its library). The report is
perf's own (`perf report --sort sym`), printed as shares of the samples, the reference
counting (``NRT_incref``/``NRT_decref``) and libm (exp, log, cos) by name. Market: the
scaling table's (bench_scale.py: customers a salesperson, firms), baseline otherwise. Needs perf
(linux-perf) and permission to attach to one's own process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_scale.py beside this file
from bench_scale import FIRMS, PER_SALESPERSON

CHILD = r"""
import os, re, sys, time
from pathlib import Path
from trustsim.core.model import CoreModel
from trustsim.core.step import run_steps_parallel, run_steps_serial
from trustsim.loader import load_scenario
from numba.core.runtime import nrt

n, warm, steps, per, firms = (int(a) for a in sys.argv[1:6])
flags = Path(sys.argv[6])
sc = load_scenario("baseline", [f"population.n_customers={n}",
                                f"population.n_salespeople={max(1, n // per)}",
                                f"population.n_firms={firms}", f"run.steps={warm + steps}"])
m = CoreModel(sc, 1)
m.run(warm)
(flags / "ready").write_text(str(os.getpid()))
while not (flags / "go").exists():
    time.sleep(0.01)
start = time.perf_counter()
m.run(steps)
seconds = time.perf_counter() - start
(flags / "done").write_text(f"{seconds / (n * steps) * 1e9:.0f}")
while not (flags / "stopped").exists():  # perf has stopped sampling: the map is not measured
    time.sleep(0.01)
names = {}
libraries = [cres.library for d in (run_steps_serial, run_steps_parallel) for cres in d.overloads.values()]
for lib in [*libraries, nrt.rtsys.library]:
    for name in re.findall(r'\ndefine [^@]*@"?([^"(]+)', lib.get_llvm_str()):
        address = lib.get_pointer_to_function(name)
        if address:
            names[address] = re.sub(r"B\d+v\d+B\d+\w+$", "", name)
addresses = sorted(names)
with open(f"/tmp/perf-{os.getpid()}.map", "w") as out:
    for a, b in zip(addresses, [*addresses[1:], addresses[-1] + 4096]):
        out.write(f"{a:x} {min(b - a, 1 << 20):x} {names[a][:120]}\n")
"""


def fail(line: str) -> None:
    print(f"error: {line}", file=sys.stderr)
    raise SystemExit(2)


def wait_for(path: Path, child: subprocess.Popen) -> None:
    while not path.exists():
        if child.poll() is not None:
            fail(f"the profiled run stopped early (exit status {child.returncode})")
        time.sleep(0.05)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1000)
    ap.add_argument("--warm", type=int, default=100, help="steps before sampling starts")
    ap.add_argument("--steps", type=int, help="steps sampled (default: 3x10^7 customer-steps)")
    ap.add_argument("--top", type=int, default=30, help="functions listed")
    args = ap.parse_args()
    args.steps = args.steps or max(20, int(3e7 // args.customers))
    if shutil.which("perf") is None:
        fail("perf is not installed (Debian: apt install linux-perf); nothing was profiled")
    with tempfile.TemporaryDirectory() as tmp:
        flags, data = Path(tmp), Path(tmp) / "perf.data"
        env = {**os.environ, "NUMBA_CACHE_DIR": str(flags / "cache"), "TRUSTSIM_THREADS": "1"}
        sizes = (args.customers, args.warm, args.steps, PER_SALESPERSON, FIRMS)
        cmd = [sys.executable, "-c", CHILD, *map(str, sizes)]
        child = subprocess.Popen([*cmd, tmp], env=env)
        print("compiling the core afresh (about a minute), then the warm-up steps ...")
        wait_for(flags / "ready", child)
        pid = (flags / "ready").read_text()
        perf = subprocess.Popen(
            ["perf", "record", "-q", "-F", "2000", "-p", pid, "-o", str(data)],
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.5)  # perf attaches
        (flags / "go").touch()
        wait_for(flags / "done", child)
        perf.send_signal(signal.SIGINT)
        _, err = perf.communicate()
        (flags / "stopped").touch()
        if child.wait() != 0 or not data.exists():
            fail(f"perf could not sample the run: {err.strip() or 'no data'}")
        report = subprocess.run(
            ["perf", "report", "-i", str(data), "--no-children", "--sort", "sym", "--stdio"],
            capture_output=True,
            text=True,
            check=False,
        )
        ns = (flags / "done").read_text()
        Path(f"/tmp/perf-{pid}.map").unlink(missing_ok=True)
    rows = [line for line in report.stdout.splitlines() if "%" in line and not line.startswith("#")]
    print(
        f"{args.customers:,} customers, steps {args.warm + 1}-{args.warm + args.steps}: "
        f"{ns} ns per customer-step (1 thread, under perf); share of samples:"
    )
    for line in rows[: args.top]:
        print("  " + line.strip())


if __name__ == "__main__":
    main()
