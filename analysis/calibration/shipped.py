"""A shipped calibrated scenario (``scripts/calibrate_shipped.py``, ``calibrate_cdnow.py``):
the calibration run or resumed, and its calibrated.toml under a header that says how the
file was made (command, date, wall time, cores, machine load)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from trustsim.analysis.calibration.abc import calibrate
from trustsim.analysis.calibration.posterior import Outcome


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def calibrated_text(
    targets: str, out: Path, workers: int | None, quick: bool, command: str, why: str = ""
) -> tuple[Outcome, str]:
    """Calibrate ``targets`` into ``out`` (resuming what is there); the outcome and the text
    of its calibrated.toml under the header, which names ``command`` and adds ``why``."""
    before = load_average()
    start = time.perf_counter()
    o = calibrate(targets, out, workers=workers, quick=quick)
    wall = time.perf_counter() - start
    header = (
        f"# Made by {command}{' --quick' if quick else ''} on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {wall / 60:.1f} min wall time "
        f"this session\n# ({o.seconds / 60:.1f} min over all sessions) on {os.cpu_count()} cores, "
        f"load average {before} before / {load_average()} after.\n" + (f"# {why}\n" if why else "")
    )
    return o, header + (o.out / "calibrated.toml").read_text(encoding="utf-8")
