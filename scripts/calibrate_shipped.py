"""Make scenarios/calibrated.toml: calibrate the model to the published stylized facts.

    .venv/bin/python scripts/calibrate_shipped.py [--quick] [--workers N] [--out DIR]

Runs (or resumes) `trustsim calibrate stylized_facts` into out/calibrations/stylized_facts,
then copies its calibrated.toml to scenarios/calibrated.toml with a header saying how it
was made (command, budget, commit, wall time, machine load) and its posterior-predictive
figure to docs/img/calibration_predictive.png. Re-run it whenever the model changes; then
regenerate the golden baseline (tests/engines/golden/regenerate.py, with and without
--switches-off), since calibrated.toml is a shipped scenario.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from trustsim.analysis.calibration.shipped import calibrated_text
from trustsim.loader import SCENARIO_DIR

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--out", type=Path, default=ROOT / "out/calibrations/stylized_facts")
    args = parser.parse_args()
    command = "scripts/calibrate_shipped.py"
    o, text = calibrated_text("stylized_facts", args.out, args.workers, args.quick, command)
    (SCENARIO_DIR / "calibrated.toml").write_text(text, encoding="utf-8")
    shutil.copy(o.out / "predictive.png", ROOT / "docs/img/calibration_predictive.png")
    print(
        f"wrote {SCENARIO_DIR / 'calibrated.toml'} ({o.seconds:.0f} s; report {o.out / 'report.md'})"
    )


if __name__ == "__main__":
    main()
