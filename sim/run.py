"""Running a scenario on either engine and storing what it produced, with provenance."""

from __future__ import annotations

import importlib
import json
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .metrics import COUNTERS, LOG_COLUMNS, LOG_INT_COLUMNS, METRICS
from .params import Scenario

# Engine name -> (module, class). Imported on demand: a core run need not load Mesa.
ENGINES: dict[str, tuple[str, str]] = {
    "mesa": ("trustsim.model", "TrustModel"),
    "core": ("trustsim.kernel", "CoreModel"),
}
DEPENDENCIES = ("mesa", "numba", "numpy", "networkx", "pandas", "pyarrow", "pydantic")


@dataclass
class RunResult:
    """What one run produced: per-step metrics, optional event log, and its inputs."""

    scenario: Scenario
    engine: str
    seed: int
    timeseries: pd.DataFrame
    events: pd.DataFrame | None = None
    wall_time: float = 0.0
    model: object = field(default=None, repr=False)


def make_model(scenario: Scenario, engine: str = "core", seed: int | None = None):
    """A fresh model of the chosen engine."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    module, name = ENGINES[engine]
    return getattr(importlib.import_module(module), name)(scenario, seed)


def timeseries_frame(rows: list[dict[str, float]]) -> pd.DataFrame:
    """One row per step, columns in METRICS order, counters as integers."""
    n = len(rows)
    cols = {"step": np.arange(1, n + 1, dtype=np.int64)}
    for name in METRICS[1:]:
        dtype = np.int64 if name in COUNTERS else np.float64
        cols[name] = np.fromiter((r[name] for r in rows), dtype=dtype, count=n)
    return pd.DataFrame(cols)


def events_frame(model) -> pd.DataFrame | None:
    """The relationship event log of a model run with run.history on."""
    if not model.history:
        return None
    if model.events and isinstance(model.events[0], np.ndarray):  # core: blocks per step
        data = np.concatenate(model.events)
    else:  # mesa: one tuple per row
        data = np.array(model.events, dtype=float).reshape(-1, len(LOG_COLUMNS))
    df = pd.DataFrame(data, columns=list(LOG_COLUMNS)).astype(
        dict.fromkeys(LOG_INT_COLUMNS, np.int64)
    )
    return df.sort_values(["step", "kind", "customer"], kind="stable").reset_index(drop=True)


def model_rows(model) -> list[dict[str, float]]:
    """Per-step metric rows collected so far (Mesa: from its DataCollector)."""
    if hasattr(model, "datacollector"):
        return model.datacollector.get_model_vars_dataframe().to_dict("records")
    return model.rows


def simulate(
    scenario: Scenario,
    engine: str = "core",
    seed: int | None = None,
    steps: int | None = None,
    on_step: Callable[[int], None] | None = None,
) -> RunResult:
    """Run ``scenario`` for ``steps`` (default run.steps) and collect its outputs.

    A run too large for the memory available stops here, before anything is allocated
    (:mod:`trustsim.memory`), rather than being killed later.
    """
    from .memory import check_run

    seed = scenario.run.seed if seed is None else seed
    steps = scenario.run.steps if steps is None else steps
    check_run(scenario, engine, steps)
    start = time.perf_counter()
    model = make_model(scenario, engine, seed)
    for _ in range(steps):
        model.step()
        if on_step:
            on_step(model.steps)
    return RunResult(
        scenario,
        engine,
        seed,
        timeseries_frame(model_rows(model)),
        events_frame(model),
        time.perf_counter() - start,
        model,
    )


def git_commit() -> str | None:
    """The commit of the source tree, when it is a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            check=False,
            text=True,
            timeout=5,
        )
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def provenance() -> dict[str, object]:
    """Package, dependency and platform versions plus the git commit."""
    versions = {}
    for dist in DEPENDENCIES:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "trustsim": __version__,
        "python": platform.python_version(),
        "dependencies": versions,
        "git_commit": git_commit(),
    }


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write via a temporary file in the same folder, then rename: never a half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; results are for sharing
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_run(result: RunResult, out: Path, source: str | None = None) -> dict[str, Path]:
    """Write timeseries.parquet, events.parquet (with history) and run.json into ``out``."""
    out = Path(out)
    paths = {"timeseries": out / "timeseries.parquet", "run": out / "run.json"}
    atomic_write(paths["timeseries"], lambda p: result.timeseries.to_parquet(p, index=False))
    if result.events is not None:
        paths["events"] = out / "events.parquet"
        atomic_write(paths["events"], lambda p: result.events.to_parquet(p, index=False))
    meta = {
        "scenario_file": source,
        "engine": result.engine,
        "seed": result.seed,
        "steps": len(result.timeseries),
        "wall_time_s": round(result.wall_time, 4),
        "parameters": result.scenario.model_dump(),
        **provenance(),
    }
    atomic_write(
        paths["run"], lambda p: p.write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    )
    return paths
