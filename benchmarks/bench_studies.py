"""Study throughput: all shipped studies in --quick and in full mode, wall time on N workers.

    .venv/bin/python benchmarks/bench_studies.py               # quick, then full (2 workers)
    .venv/bin/python benchmarks/bench_studies.py --only quick
    .venv/bin/python benchmarks/bench_studies.py --keep out/studies   # keep the full run there

Targets: every shipped study in full mode within 20 minutes on 2 cores, --quick
within 2 minutes. Each mode starts in an empty folder, so nothing is resumed. The machine
may be shared: the load average (`uptime`) before and after is printed next to each time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from trustsim.analysis.studies.run import run_studies

TARGETS = {"quick": 120.0, "full": 1200.0}


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def measure(mode: str, out: Path, workers: int) -> None:
    if out.exists():
        shutil.rmtree(out)
    before = load()
    start = time.perf_counter()
    report = run_studies([], out, quick=mode == "quick", workers=workers)
    seconds = time.perf_counter() - start
    verdict = "met" if seconds <= TARGETS[mode] else "NOT met"
    print(
        f"{mode}: {len(report.summary)} studies, {report.meta['runs']} runs in {seconds:.1f} s "
        f"on {workers} workers (target {TARGETS[mode]:.0f} s: {verdict}); "
        f"before: {before}; after: {load()}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(TARGETS))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="folder for the full run (default: temporary)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("quick", "full"):
            if args.only in (None, mode):
                out = args.keep if (mode == "full" and args.keep) else Path(tmp) / mode
                measure(mode, out, args.workers)


if __name__ == "__main__":
    main()
