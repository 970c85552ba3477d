"""Regenerate the golden regression baseline on purpose: ``python tests/engines/golden/regenerate.py``.

Docking proves that the two engines agree; the golden baseline catches a rule change that
moves both at once. Regenerate it only in a commit that says why the trajectories moved.

``tests/engines/golden/before_issue12/`` holds the baseline of the model before customers could
take a need elsewhere or leave after a breach (issue 12): with both switches off the model
must still give it, in the columns it had then. Regenerate that one only when something
else moved those trajectories on purpose (the world building, say):
``python tests/engines/golden/regenerate.py --switches-off``.

``tests/engines/golden/before_issue18/`` holds the baseline of the model before customers could
differ in their buying, leave the market or be handed over by a managed departure (issue
18): with those switches off (their defaults) the model gives it, in the columns it had
then (``--switches-off`` regenerates it too).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pandas as pd

from trustsim.loader import SCENARIO_DIR, load_scenario
from trustsim.runtime.run import simulate

HERE = Path(__file__).resolve().parent
SEED = 1
BEFORE_ISSUE12 = HERE / "before_issue12"
SWITCHES_OFF = ("mechanisms.look_elsewhere=false", "mechanisms.breach_exit=false")
BEFORE_ISSUE18 = HERE / "before_issue18"
SWITCHES_OFF_18 = ("mechanisms.purchase_heterogeneity=false", "mechanisms.leave_market=false")


def scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def events_digest(events: pd.DataFrame) -> str:
    """A hash of the event log's columns and values (exact float bits)."""
    h = hashlib.sha256(",".join(events.columns).encode())
    for col in events.columns:
        h.update(events[col].to_numpy().tobytes())
    return h.hexdigest()


def golden_run(name: str, overrides: tuple[str, ...] = ()):
    """The run the baseline stores: core engine, seed 1, event log on."""
    return simulate(load_scenario(name, ["run.history=true", *overrides]), "core", seed=SEED)


def before_run(folder: Path, name: str, switches: tuple[str, ...]):
    """(timeseries, events) of the run with ``switches``, in the columns ``folder`` keeps."""
    cols = json.loads((folder / "columns.json").read_text())
    result = golden_run(name, switches)
    return result.timeseries[cols["timeseries"]], result.events[cols["events"]]


def before_issue12_run(name: str):
    """(timeseries, events) of the both-switches-off run, in the columns of before issue 12."""
    return before_run(BEFORE_ISSUE12, name, SWITCHES_OFF)


def before_issue18_run(name: str):
    """(timeseries, events) with issue 18's switches off, in the columns of before it."""
    return before_run(BEFORE_ISSUE18, name, SWITCHES_OFF_18)


def write(folder: Path, runs) -> None:
    digests = {}
    for name, (timeseries, events) in runs:
        timeseries.to_parquet(folder / f"{name}.parquet", index=False)
        digests[name] = {"events_sha256": events_digest(events), "rows": len(events)}
        print(f"{name}: {len(timeseries)} steps, {len(events)} events")
    (folder / "events.json").write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")


def main(argv: list[str]) -> int:
    if "--switches-off" in argv:
        # only the scenarios that existed before issue 12 have a trajectory to keep
        for folder, run in (
            (BEFORE_ISSUE12, before_issue12_run),
            (BEFORE_ISSUE18, before_issue18_run),
        ):
            kept = [n for n in scenarios() if (folder / f"{n}.parquet").exists()]
            write(folder, ((n, run(n)) for n in kept))
    else:
        runs = ((n, golden_run(n)) for n in scenarios())
        write(HERE, ((n, (r.timeseries, r.events)) for n, r in runs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
