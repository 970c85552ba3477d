"""Regenerate the golden regression baseline on purpose: ``python tests/golden/regenerate.py``.

Docking proves that the two engines agree; the golden baseline catches a rule change that
moves both at once. Regenerate it only in a commit that says why the trajectories moved.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pandas as pd

from trustsim.loader import SCENARIO_DIR, load_scenario
from trustsim.run import simulate

HERE = Path(__file__).resolve().parent
SEED = 1


def scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def events_digest(events: pd.DataFrame) -> str:
    """A hash of the event log's columns and values (exact float bits)."""
    h = hashlib.sha256(",".join(events.columns).encode())
    for col in events.columns:
        h.update(events[col].to_numpy().tobytes())
    return h.hexdigest()


def golden_run(name: str):
    """The run the baseline stores: core engine, seed 1, event log on."""
    return simulate(load_scenario(name, ["run.history=true"]), "core", seed=SEED)


def main() -> int:
    digests = {}
    for name in scenarios():
        result = golden_run(name)
        result.timeseries.to_parquet(HERE / f"{name}.parquet", index=False)
        digests[name] = {"events_sha256": events_digest(result.events), "rows": len(result.events)}
        print(f"{name}: {len(result.timeseries)} steps, {len(result.events)} events")
    (HERE / "events.json").write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
