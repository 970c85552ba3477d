"""Make scenarios/realdata/cdnow.toml: calibrate the cohort market to CDNOW's weeks 1-39.

    .venv/bin/python scripts/calibrate_cdnow.py [--heterogeneous] [--quick] [--workers N]
                                                [--out DIR]

Runs (or resumes) `trustsim calibrate cdnow` (scenarios/targets/cdnow.toml, written by
`trustsim data cdnow --write-targets`) into out/calibrations/cdnow; the calibration runs
weeks 1-39 only. Its posterior median becomes scenarios/realdata/cdnow.toml, the same
scenario run for 78 weeks. With --heterogeneous: the targets file cdnow_heterogeneous
(`--model heterogeneous`: customers also differ in purchase rate and spend and may leave
the market) and scenarios/realdata/cdnow_heterogeneous.toml. Each scenario has a header
saying how it was made (command, budget, commit, wall time, machine load); `trustsim predict
cdnow [--scenario cdnow_heterogeneous]` uses it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from trustsim.analysis.calibration.shipped import calibrated_text
from trustsim.analysis.measures.cohort import CALIBRATION_WEEKS, TOTAL_WEEKS
from trustsim.loader import SCENARIO_DIR

ROOT = Path(__file__).resolve().parent.parent


def full_length(text: str) -> str:
    """The calibrated scenario run over weeks 1-78 instead of the calibration's 1-39."""
    old = f"[run]\nsteps = {CALIBRATION_WEEKS}\n"
    if text.count(old) != 1:
        raise SystemExit(f"calibrated.toml has no single '{old!r}': the format changed")
    new = f"[run]\nsteps = {TOTAL_WEEKS}  # calibrated on weeks 1-{CALIBRATION_WEEKS} only\n"
    return text.replace(old, new)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heterogeneous", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    name = "cdnow_heterogeneous" if args.heterogeneous else "cdnow"
    target = SCENARIO_DIR / "realdata" / f"{name}.toml"
    command = "scripts/calibrate_cdnow.py" + (" --heterogeneous" if args.heterogeneous else "")
    why = (
        f"The cohort scenario of docs/REAL_DATA.md: nothing in it was chosen by looking at "
        f"weeks {CALIBRATION_WEEKS + 1}-{TOTAL_WEEKS}."
    )
    out = args.out or ROOT / "out/calibrations" / name
    o, text = calibrated_text(name, out, args.workers, args.quick, command, why)
    target.write_text(full_length(text), encoding="utf-8")
    print(f"wrote {target} ({o.seconds:.0f} s; report {o.out / 'report.md'})")


if __name__ == "__main__":
    main()
