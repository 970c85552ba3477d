"""Running a scenario on either engine and storing what it produced, with provenance."""

from __future__ import annotations

import errno
import importlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import __version__
from .errors import output_errors
from .metrics import COUNTERS, LOG_COLUMNS, LOG_INT_COLUMNS, MEANS, METRICS

if TYPE_CHECKING:  # pandas is imported where a DataFrame is made: `trustsim run` needs none
    import pandas as pd

    from .params import Scenario

# Engine name -> (module, class). Imported on demand: a core run need not load Mesa.
ENGINES: dict[str, tuple[str, str]] = {
    "mesa": ("trustsim.model", "TrustModel"),
    "core": ("trustsim.kernel", "CoreModel"),
}
DEPENDENCIES = ("mesa", "numba", "numpy", "networkx", "pandas", "pyarrow", "pydantic")


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


def make_model(scenario: Scenario, engine: str = "core", seed: int | None = None):
    """A fresh model of the chosen engine."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    module, name = ENGINES[engine]
    return getattr(importlib.import_module(module), name)(scenario, seed)


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
    """Per-step metric rows collected so far (Mesa: from its DataCollector)."""
    if hasattr(model, "datacollector"):
        return model.datacollector.get_model_vars_dataframe().to_dict("records")
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
    (:mod:`trustsim.memory`), rather than being killed later.
    """
    from .memory import check_run

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


def make_folder(path: Path, doing: str = "creating the output folder") -> Path:
    """Create an output folder (and its parents) before any work that would be lost if it
    could not be; a failure is an :class:`~trustsim.errors.OutputError` naming ``path``."""
    path = Path(path)
    with output_errors(doing, path, kept="nothing was computed or written"):
        path.mkdir(parents=True, exist_ok=True)
    return path


# Fault injection for the tests: TRUSTSIM_FAIL_WRITE=<errno name>:<n> makes the n-th
# atomic_write of this process (1 = the first) fail with that error, e.g. ENOSPC:3.
FAIL_WRITE = "TRUSTSIM_FAIL_WRITE"
_writes = [0]  # atomic_write calls so far in this process


def _injected_fault(path: Path) -> None:
    spec = os.environ.get(FAIL_WRITE)
    if not spec:
        return
    _writes[0] += 1
    name, _, nth = spec.partition(":")
    if _writes[0] == int(nth or 1):
        code = getattr(errno, name)
        raise OSError(code, os.strerror(code), str(path))


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write via a temporary file in the same folder, then rename: never a half file.
    An operating-system failure becomes an OutputError naming ``path`` (not the temporary
    file); callers wrap it in :func:`~trustsim.errors.output_errors` to say what was kept."""
    path = Path(path)
    with output_errors(f"writing {path.name}", path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; results are for sharing
        try:
            _injected_fault(path)
            write(Path(tmp))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


def write_run(result: RunResult, out: Path, source: str | None = None) -> dict[str, Path]:
    """Write timeseries.parquet, events.parquet (with history) and run.json into ``out``,
    all or nothing: each is written into a staging folder first and the files are renamed
    into place only when all are complete (renames need no space), so a full disk never
    leaves new results beside an old run.json."""
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
        return staged_write(out, {k: (out / name, w) for k, (name, w) in files.items()})


def write_columns(columns: dict[str, np.ndarray], path: Path) -> None:
    """Columns of equal length as a Parquet file, the same as ``DataFrame.to_parquet``
    writes (NaN stored as null) but with pyarrow alone: pandas is slow to import. The file
    lacks only pandas' own schema note, which for a plain 0..n-1 index changes nothing
    that pandas or any other reader reads back."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = [_arrow_array(values) for values in columns.values()]
    pq.write_table(pa.Table.from_arrays(arrays, names=list(columns)), path)


def _arrow_array(values: np.ndarray):
    """A numeric array as an Arrow array with NaN as null. Built from its buffers because
    ``pyarrow.array`` imports pandas to check for pandas types."""
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    nulls = np.isnan(values) if values.dtype.kind == "f" else np.zeros(len(values), bool)
    valid = pa.py_buffer(np.packbits(~nulls, bitorder="little")) if nulls.any() else None
    return pa.Array.from_buffers(
        pa.from_numpy_dtype(values.dtype),
        len(values),
        [valid, pa.py_buffer(values)],
        null_count=int(nulls.sum()),
    )


def staged_write(
    out: Path, files: dict[str, tuple[Path, Callable[[Path], None]]]
) -> dict[str, Path]:
    """Write several files of one folder all or nothing (see :func:`write_run`)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(dir=out, prefix=".staging-"))
    except OSError as exc:
        exc.filename = str(out)  # the folder the user named, not a random staging name
        raise
    try:
        for target, write in files.values():
            tmp = stage / target.name
            try:
                _injected_fault(target)
                write(tmp)
                os.chmod(tmp, 0o666 & ~_umask())
            except OSError as exc:
                exc.filename = str(target)  # name the file the user asked for
                raise
        for target, _ in files.values():
            os.replace(stage / target.name, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return {key: target for key, (target, _) in files.items()}


def _run_record(result: RunResult, source: str | None) -> dict[str, object]:
    """run.json: what was run, on which engine and seed, with every parameter and version."""
    return {
        "scenario_file": source,
        "engine": result.engine,
        "seed": result.seed,
        "steps": result.steps,
        "wall_time_s": round(result.wall_time, 4),
        "parameters": result.scenario.model_dump(),
        **provenance(),
    }
