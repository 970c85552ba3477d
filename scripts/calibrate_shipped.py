"""Make scenarios/calibrated.toml: calibrate the model to the published stylized facts.

    .venv/bin/python scripts/calibrate_shipped.py [--quick] [--workers N] [--out DIR]

Runs (or resumes) `trustsim calibrate stylized_facts` into out/calibrations/stylized_facts,
then copies its calibrated.toml to scenarios/calibrated.toml with a header saying how it
was made (command, budget, commit, wall time, machine load) and its posterior-predictive
figure to docs/img/calibration_predictive.png. Re-run it whenever the model changes; then
regenerate the golden baseline (tests/golden/regenerate.py), since calibrated.toml is a
shipped scenario.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

from trustsim.analysis.calibration.abc import calibrate
from trustsim.loader import SCENARIO_DIR

ROOT = Path(__file__).resolve().parent.parent


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--out", type=Path, default=ROOT / "out/calibrations/stylized_facts")
    args = parser.parse_args()
    load_before = load_average()
    start = time.perf_counter()
    o = calibrate("stylized_facts", args.out, workers=args.workers, quick=args.quick)
    wall = time.perf_counter() - start
    text = (o.out / "calibrated.toml").read_text(encoding="utf-8")
    made = (
        f"# Made by scripts/calibrate_shipped.py{' --quick' if args.quick else ''} on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {wall / 60:.1f} min wall time "
        f"this session\n# ({o.seconds / 60:.1f} min over all sessions) on {os.cpu_count()} cores, "
        f"load average {load_before} before / {load_average()} after.\n"
    )
    (SCENARIO_DIR / "calibrated.toml").write_text(made + text, encoding="utf-8")
    shutil.copy(o.out / "predictive.png", ROOT / "docs/img/calibration_predictive.png")
    print(f"wrote {SCENARIO_DIR / 'calibrated.toml'} ({wall:.0f} s; report {o.out / 'report.md'})")


if __name__ == "__main__":
    main()
