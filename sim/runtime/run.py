"""Running a scenario on either engine and storing what it produced, with provenance."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from trustsim.engine import make_model
from trustsim.errors import output_errors
from trustsim.metrics import COUNTERS, LOG_COLUMNS, LOG_INT_COLUMNS, MEANS, METRICS
from trustsim.runtime.files import staged_write, write_columns
from trustsim.runtime.provenance import provenance
from trustsim.value import run_metrics

if TYPE_CHECKING:  # pandas is imported where a DataFrame is made: `trustsim run` needs none
    import pandas as pd

    from trustsim.params import Scenario


@dataclass
class RunResult:
    """What one run produced: per-step metrics, optional event log, and its inputs.

    The metrics are kept as ``columns`` (one array per metric, METRICS order);
    ``timeseries`` is the same as a DataFrame, made on first use, so that a command
    which only writes and draws them (`trustsim run`) never pays for importing pandas.
    """

    scenario: Scenario
    engine: str
    seed: int
    columns: dict[str, np.ndarray] = field(repr=False)
    events: pd.DataFrame | None = None
    wall_time: float = 0.0
    model: object = field(default=None, repr=False)

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        """One row per step, columns in METRICS order, counters as integers."""
        import pandas as pd

        return pd.DataFrame(self.columns)

    @property
    def steps(self) -> int:
        return len(self.columns["step"])

    def __repr__(self) -> str:
        """One line (the scenario and the tables are attributes: ``.scenario``,
        ``.timeseries``, ``.events``)."""
        p = self.scenario.population
        events = "no event log" if self.events is None else f"{len(self.events)} events"
        return (
            f"RunResult(engine={self.engine!r}, seed={self.seed}, steps={self.steps}, "
            f"{p.n_customers} customers, {p.n_salespeople} salespeople, {events}, "
            f"{self.wall_time:.2f} s)"
        )


def timeseries_columns(rows: list[dict[str, float]]) -> dict[str, np.ndarray]:
    """One array per metric in METRICS order, one value per step, counters as integers."""
    n = len(rows)
    cols = {"step": np.arange(1, n + 1, dtype=np.int64)}
    for name in METRICS[1:]:
        dtype = np.int64 if name in COUNTERS else np.float64
        cols[name] = np.fromiter((r[name] for r in rows), dtype=dtype, count=n)
    return cols


def timeseries_frame(rows: list[dict[str, float]]) -> pd.DataFrame:
    """:func:`timeseries_columns` as a DataFrame."""
    import pandas as pd

    return pd.DataFrame(timeseries_columns(rows))


def events_frame(model) -> pd.DataFrame | None:
    """The relationship event log of a model run with run.history on."""
    if not model.history:
        return None
    import pandas as pd

    if model.events and isinstance(model.events[0], np.ndarray):  # core: blocks per step
        data = np.concatenate(model.events)
    else:  # mesa: one tuple per row
        data = np.array(model.events, dtype=float).reshape(-1, len(LOG_COLUMNS))
    df = pd.DataFrame(data, columns=list(LOG_COLUMNS)).astype(
        dict.fromkeys(LOG_INT_COLUMNS, np.int64)
    )
    return df.sort_values(["step", "kind", "customer"], kind="stable").reset_index(drop=True)


def model_rows(model) -> list[dict[str, float]]:
    """Per-step metric rows collected so far, from step 1 (Mesa: from its DataCollector,
    whose first row is step 0, the starting state)."""
    if hasattr(model, "datacollector"):
        return model.datacollector.get_model_vars_dataframe().to_dict("records")[1:]
    return model.rows


def model_columns(model) -> dict[str, np.ndarray]:
    """:func:`timeseries_columns` of a model's steps so far; the core's straight from its
    arrays (no per-step dicts)."""
    if not hasattr(model, "series"):
        return timeseries_columns(model_rows(model))
    counts, means = model.series()
    cols = {"step": np.arange(1, len(counts) + 1, dtype=np.int64)}
    cols.update((name, counts[:, i]) for i, name in enumerate(COUNTERS))
    cols.update((name, means[:, i]) for i, name in enumerate(MEANS))
    return {name: cols[name] for name in METRICS}


def simulate(
    scenario: Scenario,
    engine: str = "core",
    seed: int | None = None,
    steps: int | None = None,
    on_step: Callable[[int], None] | None = None,
) -> RunResult:
    """Run ``scenario`` for ``steps`` (default run.steps) and collect its outputs.

    A run too large for the memory available stops here, before anything is allocated
    (:mod:`trustsim.runtime.memory`), rather than being killed later.
    """
    from trustsim.runtime.memory import check_run

    seed = scenario.run.seed if seed is None else seed
    steps = scenario.run.steps if steps is None else steps
    check_run(scenario, engine, steps)
    start = time.perf_counter()
    model = make_model(scenario, engine, seed)
    if engine == "core" and on_step is None:
        model.run(steps)  # one compiled call for all steps
    else:
        for _ in range(steps):
            model.step()
            if on_step:
                on_step(model.steps)
    return RunResult(
        scenario,
        engine,
        seed,
        model_columns(model),
        events_frame(model),
        time.perf_counter() - start,
        model,
    )


# Every file a run writes into its folder: a new run removes those of an earlier run that
# it does not write itself (an old events.parquet, a figure), so a folder holds one run.
RUN_FILES = ("timeseries.parquet", "events.parquet", "run.json", "trust.png")


def write_run(result: RunResult, out: Path, source: str | None = None) -> dict[str, Path]:
    """Write timeseries.parquet, events.parquet (with history) and run.json into ``out``,
    all or nothing: each is written into a staging folder first and the files are renamed
    into place only when all are complete (renames need no space), so a full disk never
    leaves new results beside an old run.json. Then an earlier run's other files
    (:data:`RUN_FILES`) are removed and run.json, the record of the run, comes last."""
    out = Path(out)
    files: dict[str, tuple[str, Callable[[Path], None]]] = {
        "timeseries": ("timeseries.parquet", lambda p: write_columns(result.columns, p))
    }
    if result.events is not None:
        files["events"] = ("events.parquet", lambda p: result.events.to_parquet(p, index=False))
    text = json.dumps(_run_record(result, source), indent=2, ensure_ascii=False)
    files["run"] = ("run.json", lambda p: p.write_text(text, encoding="utf-8"))
    with output_errors(
        "saving the run",
        kept="no result of this run was saved (files already in that folder are untouched; "
        "the same command gives the same results)",
    ):
        return staged_write(
            out, {k: (out / name, w) for k, (name, w) in files.items()}, stale=RUN_FILES
        )


def _run_record(result: RunResult, source: str | None) -> dict[str, object]:
    """run.json: what was run, on which engine and seed, with every parameter and version."""
    return {
        "scenario_file": source,
        "engine": result.engine,
        "seed": result.seed,
        "steps": result.steps,
        "wall_time_s": round(result.wall_time, 4),
        "run_metrics": run_metrics(result.columns["revenue"], result.scenario),
        "parameters": result.scenario.model_dump(),
        **provenance(),
    }
