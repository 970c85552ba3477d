"""Running an experiment: every design point x replicate on the core engine, in chunks
that survive being killed.

A sweep folder holds ``manifest.json`` (the experiment, its hash, versions), one
``chunks/runs-<first>-<last>.parquet`` per finished batch (written atomically; the set of
finished run ids is read back from them), and, once every run is done, ``runs.parquet``
(and ``timeseries.parquet``) sorted by run id. Running the same command again computes
only what is missing; ``.lock`` keeps a second sweep out while one is writing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from trustsim.errors import UsageError
from trustsim.memory import check_runs
from trustsim.run import atomic_write, provenance

from .batch import Batch, BatchResult, run_batch
from .design import ID_COLUMNS, largest_run, plan
from .executors import machine_workers, open_executor
from .experiment import Experiment, load_experiment
from .progress import SweepProgress

MANIFEST, RUNS_FILE, TS_FILE, CHUNKS = (
    "manifest.json",
    "runs.parquet",
    "timeseries.parquet",
    "chunks",
)
LOCK = ".lock"
TASK_COST = 1_000_000  # customer-steps per batch: about a second of core-engine work
MAX_BATCH = 100  # runs per batch, so that a kill loses little
BATCHES_PER_WORKER = 4  # at least this many batches per worker, for load balance


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) stopped a sweep; every finished batch is kept."""

    def __init__(self, done: int, total: int, out: Path) -> None:
        super().__init__(
            f"interrupted: {done} of {total} runs are saved in {out}; "
            f"run the same command again to compute the rest"
        )
        self.done, self.total, self.out = done, total, out


class SweepError(RuntimeError):
    """A sweep could not finish for a reason other than bad input (finished runs are kept)."""


@dataclass
class SweepReport:
    """What a sweep call did: the full table, and timings of this session's new runs."""

    out: Path
    runs: pd.DataFrame
    new_runs: int
    seconds: float
    sim_seconds: float
    workers: int

    @property
    def rate(self) -> float:
        return self.new_runs / self.seconds if self.seconds > 0 else float("nan")


def default_out(experiment: Experiment) -> Path:
    return Path("out") / "sweeps" / experiment.path.stem


# ----------------------------------------------------------------------------- the folder


def read_manifest(out: Path) -> dict:
    path = Path(out) / MANIFEST
    if not path.exists():
        raise UsageError(f"{out}: not a sweep folder (no {MANIFEST}); `trustsim sweep` makes one")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: cannot be read ({exc})") from None


def _write_manifest(out: Path, manifest: dict) -> None:
    text = json.dumps(manifest, indent=2, ensure_ascii=False)
    atomic_write(out / MANIFEST, lambda p: p.write_text(text, encoding="utf-8"))


def _new_manifest(experiment: Experiment, n_runs: int) -> dict:
    return {
        "experiment_file": str(experiment.path),
        "experiment_sha256": experiment.sha256,
        "experiment": experiment.text,
        "base_scenario": experiment.base.model_dump(),
        "method": experiment.method,
        "parameters": experiment.names,
        "metrics": list(experiment.metrics),
        "replicates": experiment.spec.runs.replicates,
        "runs": n_runs,
        "timeseries_every": experiment.spec.output.timeseries_every,
        "sessions": [],
    }


def _check_folder(out: Path) -> None:
    """Refuse an --out that is a file, or a folder that holds something other than a sweep."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: is a file; --out must be a folder")
    if (
        out.is_dir()
        and not (out / MANIFEST).exists()
        and any(not p.name.startswith(".") for p in out.iterdir())
    ):
        raise UsageError(
            f"{out}: exists and is not a sweep folder (no {MANIFEST}); use another --out"
        )


@contextlib.contextmanager
def exclusive(out: Path) -> Iterator[None]:
    """Hold DIR/.lock for a session: two sweeps writing one folder would duplicate runs.
    The kernel drops the lock when the process dies, even by kill -9."""
    _check_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / LOCK, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f"{out}: another sweep is writing to this folder; wait for it to end "
                f"or use another --out"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare(out: Path, experiment: Experiment, n_runs: int, session: dict) -> dict:
    """Create or reopen a sweep folder; refuse one made by another experiment."""
    _check_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    if (out / MANIFEST).exists():
        manifest = read_manifest(out)
        if manifest.get("experiment_sha256") != experiment.sha256:
            raise UsageError(
                f"{out}: holds a sweep of a different experiment ({manifest.get('experiment_file')}, "
                f"sha256 {str(manifest.get('experiment_sha256'))[:12]}), not of {experiment.path} "
                f"(sha256 {experiment.sha256[:12]}); use another --out, or delete {out} to start over"
            )
    else:
        manifest = _new_manifest(experiment, n_runs)
    for tmp in [*out.glob(".*.tmp"), *(out / CHUNKS).glob(".*.tmp")]:
        tmp.unlink()  # half-written files of a killed session
    manifest["sessions"].append(session)
    _write_manifest(out, manifest)
    return manifest


def _chunk_paths(out: Path, kind: str) -> list[Path]:
    return sorted((out / CHUNKS).glob(f"{kind}-*.parquet"))


def _drop_orphans(out: Path) -> None:
    """A time-series chunk without its runs chunk was cut off by a kill: its runs will be
    computed again, so it must go (the runs chunk is written last)."""
    finished = {p.name.removeprefix("runs-") for p in _chunk_paths(out, "runs")}
    for path in _chunk_paths(out, "ts"):
        if path.name.removeprefix("ts-") not in finished:
            path.unlink()


def read_chunks(out: Path, kind: str = "runs") -> pd.DataFrame | None:
    """Every finished chunk of one kind, concatenated (None: nothing finished yet)."""
    paths = _chunk_paths(Path(out), kind)
    if not paths:
        return None
    return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)


def write_chunk(out: Path, result: BatchResult) -> None:
    """Time series first, runs last: a runs chunk on disk means the whole batch is done."""
    if result.timeseries is not None:
        atomic_write(
            out / CHUNKS / f"ts-{result.stem}.parquet",
            lambda p: result.timeseries.to_parquet(p, index=False),
        )
    atomic_write(
        out / CHUNKS / f"runs-{result.stem}.parquet",
        lambda p: result.runs.to_parquet(p, index=False),
    )


def _finished_ids(out: Path, experiment: Experiment, full: pd.DataFrame) -> set[int]:
    """Run ids already computed, after checking they are this experiment's runs."""
    done = read_chunks(out, "runs")
    if done is None:
        return set()
    if done["run_id"].duplicated().any():
        raise SweepError(f"{out}: duplicate run ids in {CHUNKS}/; the folder was edited by hand")
    keys = [*ID_COLUMNS, *experiment.names]
    mine = full.set_index("run_id").loc[done["run_id"], keys[1:]].reset_index()
    if not done[keys].reset_index(drop=True).equals(mine):
        raise UsageError(
            f"{out}: finished runs do not match this experiment's plan (the design or "
            f"seeds changed, e.g. another SALib or trustsim version); use another --out"
        )
    return set(done["run_id"].tolist())


def assemble(out: Path, full: pd.DataFrame) -> pd.DataFrame:
    """Write runs.parquet (and timeseries.parquet) from the chunks, sorted by run id."""
    runs = read_chunks(out, "runs")
    if (
        runs is None
        or runs["run_id"].duplicated().any()
        or set(runs["run_id"]) != set(full["run_id"])
    ):
        raise SweepError(f"{out}: the chunks do not hold every run exactly once")
    runs = runs.sort_values("run_id", kind="stable").reset_index(drop=True)
    atomic_write(out / RUNS_FILE, lambda p: runs.to_parquet(p, index=False))
    ts = read_chunks(out, "ts")
    if ts is not None:
        ts = ts.sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)
        atomic_write(out / TS_FILE, lambda p: ts.to_parquet(p, index=False))
    return runs


# ----------------------------------------------------------------------------- batching


def batch_size(experiment: Experiment, full: pd.DataFrame, workers: int, todo: int) -> int:
    """Runs per batch: about TASK_COST customer-steps, yet enough batches to share out."""

    def largest(name: str, default: int) -> int:
        return int(full[name].max()) if name in full else default

    cost = largest("population.n_customers", experiment.base.population.n_customers) * largest(
        "run.steps", experiment.base.run.steps
    )
    by_cost = max(1, TASK_COST // max(cost, 1))
    by_share = max(1, -(-todo // (BATCHES_PER_WORKER * workers)))
    return int(min(by_cost, by_share, MAX_BATCH))


def make_batches(experiment: Experiment, todo: pd.DataFrame, size: int) -> list[Batch]:
    base = experiment.base.model_dump()
    out = experiment.spec.output
    records = todo.sort_values("run_id").to_dict("records")
    runs = [({k: r[k] for k in ID_COLUMNS}, {k: r[k] for k in experiment.names}) for r in records]
    return [
        Batch(
            base,
            str(experiment.path),
            tuple(runs[i : i + size]),
            experiment.metrics,
            out.window,
            out.timeseries_every,
        )
        for i in range(0, len(runs), size)
    ]


# ----------------------------------------------------------------------------- running


class StopRequest:
    """Ctrl-C or SIGTERM during a sweep: the first asks to stop after the running batches
    (queued ones are dropped, finished ones kept); a second stops at once."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict = {}

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():  # only it may set handlers
            self._previous = {sig: signal.signal(sig, self._handle) for sig in self.SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _drive(executor, batches: list[Batch], out: Path, bar: SweepProgress) -> float:
    """Keep ``executor.window`` batches in flight and write each result as it arrives;
    raise KeyboardInterrupt once a requested stop has saved what finished."""
    queue, pending, sim_seconds = deque(batches), {}, 0.0

    def collect(result: BatchResult) -> None:
        nonlocal sim_seconds
        write_chunk(out, result)
        sim_seconds += result.sim_seconds
        bar.advance(len(result.runs))

    with StopRequest() as stop:
        try:
            while (queue or pending) and not stop.requested:
                while queue and len(pending) < executor.window:
                    batch = queue.popleft()
                    pending[executor.submit(run_batch, batch)] = batch
                done, _ = executor.wait(set(pending))
                for future in done:
                    del pending[future]
                    collect(executor.result(future))
        except BrokenProcessPool as exc:
            executor.stop(pending)
            raise SweepError(
                f"a worker process died ({exc}); finished runs are kept in {out}, "
                f"run the same command again to resume"
            ) from None
        except BaseException:
            executor.stop(pending)
            raise
        if stop.requested:
            if bar.enabled:
                print(
                    "stopping: saving the batches that are running (Ctrl-C again to stop now)",
                    file=sys.stderr,
                    flush=True,
                )
            for result in executor.stop(pending):
                collect(result)
            raise KeyboardInterrupt
    executor.stop([])
    return sim_seconds


def execute(
    experiment: Experiment | str | Path,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    cluster: str | None = None,
    batch: int | None = None,
    progress: bool = False,
    max_memory: int | str | None = None,
) -> SweepReport:
    """Run (or resume) a sweep into ``out`` and return the full table with timings.

    A sweep whose largest run times the local workers would not fit in memory is refused
    before anything runs (with a cluster, each run must fit on this machine).
    """
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    out = Path(out) if out is not None else default_out(exp)
    if batch is not None and batch < 1:
        raise UsageError(f"--batch {batch}: must be at least 1")
    full = plan(exp)
    at_once = 1 if cluster else (machine_workers() if workers is None else max(workers, 1))
    check_runs(largest_run(exp, full), at_once, max_memory, f"{exp.path}: this sweep")
    with exclusive(out):
        return _session(exp, out, full, workers, cluster, batch, progress)


def _session(
    exp: Experiment,
    out: Path,
    full: pd.DataFrame,
    workers: int | None,
    cluster: str | None,
    batch: int | None,
    progress: bool,
) -> SweepReport:
    """One sweep session in a locked folder: prepare, run what is missing, assemble."""
    session = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "workers": workers,
        "cluster": cluster,
        **provenance(),
    }
    manifest = prepare(out, exp, len(full), session)
    _drop_orphans(out)
    done = _finished_ids(out, exp, full)
    todo = full[~full["run_id"].isin(done)]
    start, sim_seconds, n_workers = time.perf_counter(), 0.0, 0
    if len(todo):
        executor = open_executor(workers, cluster)
        n_workers = executor.workers
        size = batch or batch_size(exp, full, n_workers, len(todo))
        bar = SweepProgress(len(full), len(done), exp.path.stem, enabled=progress)
        try:
            sim_seconds = _drive(executor, make_batches(exp, todo, size), out, bar)
        except KeyboardInterrupt:
            bar.close()
            finished = len(_chunk_ids(out))
            raise Interrupted(finished, len(full), out) from None
        bar.close()
    seconds = time.perf_counter() - start
    runs = assemble(out, full)
    manifest["sessions"][-1]["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    _write_manifest(out, manifest)
    return SweepReport(out, runs, len(todo), seconds, sim_seconds, n_workers)


def _chunk_ids(out: Path) -> set[int]:
    runs = read_chunks(out, "runs")
    return set() if runs is None else set(runs["run_id"].tolist())


def run_sweep(
    experiment: Experiment | str | Path,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    cluster: str | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Python API: run or resume a sweep and return ``runs.parquet`` as a DataFrame."""
    return execute(experiment, out, workers=workers, cluster=cluster, progress=progress).runs


def load_runs(out: str | Path) -> pd.DataFrame:
    """A sweep's runs table; for an unfinished sweep, the runs finished so far."""
    out = Path(out)
    if (out / RUNS_FILE).exists():
        return pd.read_parquet(out / RUNS_FILE)
    runs = read_chunks(out, "runs")
    if runs is None:
        read_manifest(out)  # a clear error if this is no sweep folder at all
        return pd.DataFrame()
    return runs.sort_values("run_id").reset_index(drop=True)


def load_timeseries(out: str | Path) -> pd.DataFrame:
    """A sweep's kept time series (output.timeseries_every > 0), joined to nothing."""
    out = Path(out)
    if (out / TS_FILE).exists():
        return pd.read_parquet(out / TS_FILE)
    ts = read_chunks(out, "ts")
    return (
        pd.DataFrame() if ts is None else ts.sort_values(["run_id", "step"]).reset_index(drop=True)
    )
