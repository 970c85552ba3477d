"""Running an experiment: every design point x replicate on the core engine, in chunks
that survive being killed.

A sweep folder holds ``manifest.json`` (the experiment, its hash, versions), one
``chunks/runs-<first>-<last>.parquet`` per finished batch (written atomically; the set of
finished run ids is read back from them), and, once every run is done, ``runs.parquet``
(and ``timeseries.parquet``) sorted by run id. Running the same command again computes
only what is missing; ``.lock`` keeps a second sweep out while one is writing.

A folder heals on resume (:mod:`.chunks`): a chunk that cannot be read, holds other runs
than it claims or was made by another experiment is moved to ``damaged/`` and its runs are
computed again; a damaged manifest, ``runs.parquet`` or ``timeseries.parquet`` is moved
there too and rebuilt.
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
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from trustsim.analysis.sweep.batch import Batch, BatchResult, run_batch
from trustsim.analysis.sweep.chunks import check_chunk, heal, read_table, set_aside, write_table
from trustsim.analysis.sweep.design import ID_COLUMNS, largest_run, plan
from trustsim.analysis.sweep.executors import (
    check_main_guard,
    check_options,
    machine_workers,
    open_executor,
)
from trustsim.analysis.sweep.experiment import Experiment
from trustsim.analysis.sweep.load import load_experiment
from trustsim.analysis.sweep.progress import SweepProgress
from trustsim.errors import (
    DamagedFile,
    OutputError,
    UsageError,
    keeping,
    output_errors,
)
from trustsim.runtime.files import atomic_write
from trustsim.runtime.memory import check_runs
from trustsim.runtime.provenance import provenance

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
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or "experiment_sha256" not in manifest:
            raise ValueError("not a trustsim sweep manifest")
        return manifest
    except (OSError, ValueError) as exc:
        why = "not valid JSON" if isinstance(exc, json.JSONDecodeError) else _short(exc)
        raise DamagedFile(
            f"{path}: damaged ({why}); run `trustsim sweep EXPERIMENT --out {out}` "
            f"again with the experiment that made it: it sets the file aside and rebuilds it"
        ) from None


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]


def rebuild_hint(out: Path, manifest: dict | None = None) -> str:
    """How to rebuild a damaged whole-folder file: the sweep command of this folder."""
    exp = (manifest or {}).get("experiment_file") or "EXPERIMENT"
    return (
        f"run `trustsim sweep {exp} --out {out}` again: it rebuilds the file from the "
        f"finished chunks (and recomputes the runs of damaged ones)"
    )


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
        raise OutputError(
            "starting the sweep",
            out,
            "is a file, not a folder",
            kept="nothing was computed or written",
            next_step="choose another --out (a folder) and run the same command again",
        )
    if (
        out.is_dir()
        and not (out / MANIFEST).exists()
        and any(not p.name.startswith(".") for p in out.iterdir())
    ):
        raise UsageError(
            f"{out}: exists and is not a sweep folder (no {MANIFEST}); use another --out"
        )


@contextlib.contextmanager
def exclusive(
    out: Path, what: str = "sweep", check: Callable[[Path], None] = _check_folder
) -> Iterator[None]:
    """Hold DIR/.lock for a session: two sessions writing one folder would duplicate work.
    The kernel drops the lock when the process dies, even by kill -9. A session refused
    before it wrote anything (bad option, another writer) leaves no trace: a folder it made
    is removed again, and so is a lock file it made."""
    check(out)
    made_folder, made_lock = not out.exists(), not (out / LOCK).exists()
    with output_errors(f"creating the {what} folder", out, kept="nothing was computed or written"):
        out.mkdir(parents=True, exist_ok=True)
        handle = open(out / LOCK, "a")  # noqa: SIM115 - held for the whole session
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f"{out}: another {what} is writing to this folder; wait for it to end "
                f"or use another --out"
            ) from None
        try:
            yield
        except BaseException:
            _leave_no_trace(out, made_folder, made_lock)
            raise
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _leave_no_trace(out: Path, made_folder: bool, made_lock: bool) -> None:
    """After a failed session: remove the lock file and folder it made if nothing else
    is there (finished work, or anything the user put there, stays)."""
    rest = [p for p in out.iterdir() if p.name != LOCK]
    if rest or not made_lock:
        return
    with contextlib.suppress(OSError):
        (out / LOCK).unlink()
        if made_folder:
            out.rmdir()


def prepare(out: Path, experiment: Experiment, n_runs: int, session: dict) -> dict:
    """Create or reopen a sweep folder; refuse one made by another experiment."""
    _check_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    manifest = _readable_manifest(out)
    if manifest is not None:
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


def _readable_manifest(out: Path) -> dict | None:
    """The folder's manifest; a damaged one is set aside (the chunks carry the experiment's
    hash, so they are still checked) and None returned, as for a new folder."""
    if not (out / MANIFEST).exists():
        return None
    try:
        return read_manifest(out)
    except DamagedFile as exc:
        reason = str(exc).split(": ", 1)[1].split(";", 1)[0]
        set_aside(out, [out / MANIFEST], reason, "a new one is written")
        return None


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
    """Every finished chunk of one kind, concatenated (None: nothing finished yet). A
    damaged chunk is named, with the command that sets it aside and recomputes its runs."""
    out = Path(out)
    paths = _chunk_paths(out, kind)
    if not paths:
        return None
    exp = (_manifest_or_none(out) or {}).get("experiment_file") or "EXPERIMENT"
    hint = (
        f"run `trustsim sweep {exp} --out {out}` again: it moves the chunk to {out}/damaged/ "
        f"and computes its runs again"
    )
    return pd.concat([read_table(p, hint) for p in paths], ignore_index=True)


def write_chunk(out: Path, result: BatchResult, sha256: str) -> None:
    """Time series first, runs last: a runs chunk on disk means the whole batch is done.
    Both are stamped with the experiment's hash and their run ids (see :mod:`.chunks`)."""
    ids = result.runs["run_id"].tolist()
    first, last = (int(i) for i in result.stem.split("-"))
    with output_errors(f"saving a finished batch (runs {first}-{last})"):
        if result.timeseries is not None:
            write_table(out / CHUNKS / f"ts-{result.stem}.parquet", result.timeseries, sha256, ids)
        write_table(out / CHUNKS / f"runs-{result.stem}.parquet", result.runs, sha256, ids)


def _fits(full: pd.DataFrame, keys: list[str]) -> Callable[[pd.DataFrame], bool]:
    """Whether a chunk's rows are exactly the planned runs of their ids."""
    planned = full.set_index("run_id")

    def fits(frame: pd.DataFrame) -> bool:
        if not set(keys) <= set(frame.columns) or not frame["run_id"].isin(planned.index).all():
            return False
        mine = planned.loc[frame["run_id"], keys[1:]].reset_index()
        return frame[keys].reset_index(drop=True).equals(mine)

    return fits


def _finished_ids(out: Path, experiment: Experiment, full: pd.DataFrame) -> set[int]:
    """Run ids already computed, after healing the folder: damaged or foreign chunks go to
    damaged/ (their runs are computed again). If no healthy chunk fits the plan at all, the
    plan itself changed (e.g. another SALib or trustsim version): refuse, change nothing."""
    paths = _chunk_paths(out, "runs")
    fits = _fits(full, [*ID_COLUMNS, *experiment.names])
    readable = [
        c for c in (check_chunk(p, experiment.sha256) for p in paths) if c.frame is not None
    ]
    if readable and not any(fits(c.frame) for c in readable):
        raise UsageError(
            f"{out}: finished runs do not match this experiment's plan (the design or "
            f"seeds changed, e.g. another SALib or trustsim version); use another --out"
        )
    keeps_ts = experiment.spec.output.timeseries_every > 0

    def partner(path: Path) -> Path | None:
        return path.with_name("ts-" + path.name.removeprefix("runs-")) if keeps_ts else None

    healthy = heal(out, paths, experiment.sha256, fits, partner)
    return set().union(*(c.ids for c in healthy.values())) if healthy else set()


def _set_aside_damaged_tables(out: Path, sha256: str) -> None:
    """A damaged runs.parquet or timeseries.parquet goes to damaged/ (assemble rebuilds it)."""
    for name in (RUNS_FILE, TS_FILE):
        path = out / name
        if path.exists():
            problem = check_chunk(path, sha256).problem
            if problem is not None:
                set_aside(out, [path], problem, "it is rebuilt from the chunks")


def assemble(out: Path, full: pd.DataFrame, sha256: str | None = None) -> pd.DataFrame:
    """Write runs.parquet (and timeseries.parquet) from the chunks, sorted by run id."""
    runs = read_chunks(out, "runs")
    if (
        runs is None
        or runs["run_id"].duplicated().any()
        or set(runs["run_id"]) != set(full["run_id"])
    ):
        raise SweepError(f"{out}: the chunks do not hold every run exactly once")
    runs = runs.sort_values("run_id", kind="stable").reset_index(drop=True)
    ids = runs["run_id"].tolist()
    _write_whole(out / RUNS_FILE, runs, sha256, ids)
    ts = read_chunks(out, "ts")
    if ts is not None:
        ts = ts.sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)
        _write_whole(out / TS_FILE, ts, sha256, ids)
    return runs


def _write_whole(path: Path, frame: pd.DataFrame, sha256: str | None, ids: list[int]) -> None:
    if sha256 is None:
        atomic_write(path, lambda p: frame.to_parquet(p, index=False))
    else:
        write_table(path, frame, sha256, ids)


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
            experiment.statistics,
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


def _drive(executor, batches: list[Batch], out: Path, bar: SweepProgress, sha256: str) -> float:
    """Keep ``executor.window`` batches in flight and write each result as it arrives;
    raise KeyboardInterrupt once a requested stop has saved what finished."""
    queue, pending, sim_seconds = deque(batches), {}, 0.0

    def collect(result: BatchResult) -> None:
        nonlocal sim_seconds
        write_chunk(out, result, sha256)
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
    check_options(workers, cluster)
    if not cluster and at_once > 1:
        check_main_guard()  # before the folder is locked: a script's workers rerun it

    def kept() -> str:
        return f"{len(_chunk_ids(out))} of {len(full)} runs are finished and kept in {out}"

    with exclusive(out), keeping(kept, "to compute the rest"):
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
    with output_errors("preparing the sweep folder", out):
        manifest = prepare(out, exp, len(full), session)
        _drop_orphans(out)
        done = _finished_ids(out, exp, full)
        _set_aside_damaged_tables(out, exp.sha256)
    todo = full[~full["run_id"].isin(done)]
    start, sim_seconds, n_workers = time.perf_counter(), 0.0, 0
    if len(todo):
        executor = open_executor(workers, cluster)
        n_workers = executor.workers
        size = batch or batch_size(exp, full, n_workers, len(todo))
        bar = SweepProgress(len(full), len(done), exp.path.stem, enabled=progress)
        try:
            sim_seconds = _drive(executor, make_batches(exp, todo, size), out, bar, exp.sha256)
        except KeyboardInterrupt:
            bar.close()
            finished = len(_chunk_ids(out))
            raise Interrupted(finished, len(full), out) from None
        except BaseException:
            bar.close()  # the error line must not land inside a live progress bar
            raise
        bar.close()
    seconds = time.perf_counter() - start
    with output_errors("writing runs.parquet and timeseries.parquet from the chunks", out):
        runs = assemble(out, full, exp.sha256)
    manifest["sessions"][-1]["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    _write_manifest(out, manifest)
    return SweepReport(out, runs, len(todo), seconds, sim_seconds, n_workers)


def _chunk_ids(out: Path) -> set[int]:
    """Run ids in the readable chunks (for counting what is kept; never raises)."""
    ids: set[int] = set()
    for path in _chunk_paths(out, "runs"):
        with contextlib.suppress(Exception):
            ids |= set(pd.read_parquet(path, columns=["run_id"])["run_id"].tolist())
    return ids


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
        return _read_whole(out, RUNS_FILE)
    runs = read_chunks(out, "runs")
    if runs is None:
        read_manifest(out)  # a clear error if this is no sweep folder at all
        return pd.DataFrame()
    return runs.sort_values("run_id").reset_index(drop=True)


def load_timeseries(out: str | Path) -> pd.DataFrame:
    """A sweep's kept time series (output.timeseries_every > 0), joined to nothing."""
    out = Path(out)
    if (out / TS_FILE).exists():
        return _read_whole(out, TS_FILE)
    ts = read_chunks(out, "ts")
    return (
        pd.DataFrame() if ts is None else ts.sort_values(["run_id", "step"]).reset_index(drop=True)
    )


def _manifest_or_none(out: Path) -> dict | None:
    try:
        return read_manifest(out)
    except (UsageError, DamagedFile):
        return None


def _read_whole(out: Path, name: str) -> pd.DataFrame:
    """runs.parquet or timeseries.parquet, checked against the manifest's experiment."""
    manifest = _manifest_or_none(out)
    sha = manifest.get("experiment_sha256") if manifest else None
    return read_table(out / name, rebuild_hint(out, manifest), sha)
