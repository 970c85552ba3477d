"""``trustsim calibrate``: approximate Bayesian computation (ABC-SMC, pyabc) of a targets file.

The inference is pyabc's; this module supplies what pyabc needs (a model that maps
parameters to the targets' statistics on the core engine, uniform priors, a distance that
scales each target by its ``sd``) and what a researcher needs around it:

* a movability check before fitting: a target whose spread across the prior predictive is
  no larger than its spread across replicate seeds at one point is reported as not movable
  and left out of the distance, never silently fitted;
* a strict budget of model runs (each pyabc generation is run on its own, with the
  remaining budget as its cap on evaluations);
* resumption: pyabc's sqlite History keeps every finished generation; a re-run loads it
  with ``ABCSMC.load`` and goes on. A database that cannot be read is moved to
  ``DIR/damaged/`` and the calibration starts again, with one line saying so;
* the outputs (posterior.parquet, calibrated.toml, report.md/.html), see
  :mod:`trustsim.analysis.calibration.report`.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import hashlib
import json
import logging
import math
import os
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trustsim.analysis.calibration.plan import Plan, make_plan
from trustsim.analysis.calibration.posterior import Outcome, posterior_median
from trustsim.analysis.calibration.prior_check import combined_sd
from trustsim.analysis.calibration.targets import Targets, load_targets
from trustsim.analysis.measures import statistics as S
from trustsim.analysis.sweep.chunks import set_aside
from trustsim.analysis.sweep.design import point_data, run_seed
from trustsim.analysis.sweep.driver import exclusive
from trustsim.errors import (
    EXIT_IO,
    OutputError,
    ScenarioError,
    TrustsimError,
    UsageError,
    interrupt_in,
    output_errors,
    require,
)
from trustsim.loader import validate
from trustsim.runtime.files import atomic_write
from trustsim.runtime.run import simulate

DB_NAME = "abc.db"
STATE_NAME = "calibration.json"
SCREEN_NAME = "screen.json"
WORK_NAME = ".abc.db.next"  # the next generation is written here, then renamed to abc.db
PENALTY = 1e6  # distance of a draw whose statistic is undefined (NaN): never accepted
# Movability: a target is fitted when its variance across prior draws is at least this
# multiple of its variance across seeds at one point. A point estimate, not a significance
# test: with a few dozen runs a test would often miss a real effect, and dropping a real
# target costs more than fitting one that is mostly seed noise (which the report shows).
MOVABLE_RATIO = 1.5


class CalibrationError(TrustsimError):
    """A calibration that cannot go on (e.g. no target can be moved)."""


class CalibrationFolderError(UsageError):
    """An --out folder that belongs to another calibration (exit 2, as for sweeps)."""


# ----------------------------------------------------------------------------- the model


def _values_key(values: dict[str, float]) -> int:
    """A stable integer from parameter values: the seeds of a draw depend on nothing else."""
    text = json.dumps({k: float(v).hex() for k, v in sorted(values.items())})
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:7], "big")


@dataclass(frozen=True)
class Simulator:
    """Parameter values -> the targets' statistics (mean over replicates) on the core engine.

    Picklable (plain data), so pyabc's samplers can send it to forked processes or dask
    workers. Each run's seed is a function of the master seed, the values and the
    replicate, so any draw can be re-run exactly.
    """

    base: dict[str, Any]
    source: str
    names: tuple[str, ...]  # the free parameters, section.key
    keys: tuple[str, ...]  # their pyabc names
    targets: tuple[str, ...]  # target names (sum-stat keys)
    statistics: tuple[str, ...]  # the statistic of each target
    replicates: int
    master_seed: int
    window: int
    history: bool
    parent: int = 0  # pid of the calibrate process when pyabc forks workers from it

    @classmethod
    def of(cls, t: Targets) -> Simulator:
        base = t.base.model_dump()
        base["run"]["history"] = t.needs_events
        return cls(
            base,
            str(t.path),
            tuple(p.name for p in t.priors),
            tuple(p.key for p in t.priors),
            tuple(x.name for x in t.targets),
            tuple(x.statistic for x in t.targets),
            t.settings.replicates,
            t.settings.master_seed,
            t.settings.window,
            t.needs_events,
        )

    def seeds(self, values: dict[str, float], group: int = 0) -> list[int]:
        key = _values_key(values) ^ (group << 48)
        return [run_seed(self.master_seed, key * 1000 + r) for r in range(self.replicates)]

    def run_once(self, values: dict[str, float], seed: int) -> dict[str, float]:
        """One run at ``values``: every target's statistic."""
        scenario = validate(point_data(self.base, values), f"{self.source}: draw {values}")
        result = simulate(scenario, "core", seed)
        view = S.RunView(
            result.timeseries, result.events, result.model.world, self.window, result.scenario
        )
        stats = S.compute(set(self.statistics), view)
        return {name: stats[stat] for name, stat in zip(self.targets, self.statistics)}

    def mean_of_replicates(self, values: dict[str, float], group: int = 0) -> dict[str, float]:
        runs = [self.run_once(values, s) for s in self.seeds(values, group)]
        # a replicate without a value makes the mean undefined (never accepted), rather
        # than a mean of the others that would count fewer runs than the sd assumes; the
        # prior check reports how often a statistic has no value
        return {name: float(np.mean([r[name] for r in runs])) for name in self.targets}

    def __call__(self, pars: dict[str, float]) -> dict[str, float]:
        """pyabc's model: parameters by pyabc name -> summary statistics."""
        if self.parent and os.getpid() != self.parent and os.getppid() != self.parent:
            os._exit(1)  # a forked worker whose calibration was killed: compute for nobody
        values = {n: float(pars[k]) for n, k in zip(self.names, self.keys)}
        return self.mean_of_replicates(values)


@dataclass(frozen=True)
class ScaledDistance:
    """Euclidean distance of the fitted targets, each in units of its sd."""

    sd: dict[str, float]

    def __call__(self, x: dict[str, float], x0: dict[str, float]) -> float:
        total = 0.0
        for name, sd in self.sd.items():
            value = x[name]
            if not math.isfinite(value):
                return PENALTY
            total += ((value - x0[name]) / sd) ** 2
        return math.sqrt(total)


# ----------------------------------------------------------------------------- budget


# ----------------------------------------------------------------------------- folder state


def _fingerprint(t: Targets) -> str:
    return t.sha256


def _refuse(out: Path, t: Targets, owner: str) -> CalibrationFolderError:
    return CalibrationFolderError(
        f"{out}: holds a calibration of another targets file or base scenario ({owner}), "
        f"not of {t.path}; use another --out, or delete {out} to start over"
    )


def open_folder(out: Path, t: Targets, plan: Plan) -> dict[str, Any]:
    """The folder's state, written at once (so that even a calibration killed in its first
    minute records whose folder this is). The owner is proven by calibration.json or by the
    fingerprint stored in abc.db; a folder of another targets file is refused, and so is a
    database whose owner neither can prove. A damaged calibration.json is set aside."""
    path = out / STATE_NAME
    state = {"targets_sha256": _fingerprint(t), "targets_file": str(t.path), "sessions": []}
    old = None
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(old, dict) or not isinstance(old.get("sessions"), list):
                raise ValueError("not a trustsim calibration state")
        except (OSError, ValueError) as exc:
            why = "not valid JSON" if isinstance(exc, json.JSONDecodeError) else str(exc)[:120]
            set_aside(out, [path], f"damaged ({why})", "the owner is checked in abc.db")
            old = None
    if old is not None and old.get("targets_sha256") != state["targets_sha256"]:
        raise _refuse(out, t, str(old.get("targets_file")))
    owner = _database_owner(out / DB_NAME)
    if owner not in (None, "", state["targets_sha256"]):
        raise _refuse(out, t, f"sha256 {owner[:12]} in {out / DB_NAME}")
    if owner == "" and old is None:
        raise CalibrationFolderError(
            f"{out / DB_NAME}: no record says which targets file made it "
            f"({path} is missing or damaged); use another --out, or delete {out} to start over"
        )
    if old is None and owner is None:
        _forget_screen(out)  # nothing proves whose movability check it holds
    save_state(out, old or state)
    return old or state


def _database_owner(db: Path) -> str | None:
    """The targets fingerprint stored in abc.db ("" if it stores none, None if there is
    no readable database: it is checked, and set aside, later)."""
    if not db.exists():
        return None
    history, _ = _readable_history(db)
    if history is None:
        return None
    try:
        options = ast.literal_eval(history.get_abc().json_parameters or "{}")
    except (ValueError, SyntaxError):
        return ""
    return str(options.get("targets_sha256", "")) if isinstance(options, dict) else ""


def _forget_screen(out: Path) -> None:
    if (out / SCREEN_NAME).exists():
        set_aside(
            out, [out / SCREEN_NAME], "no record says which targets file it belongs to", "the "
            "movability check runs again",
        )  # fmt: skip


def save_state(out: Path, state: dict[str, Any]) -> None:
    atomic_write(
        out / STATE_NAME, lambda p: p.write_text(json.dumps(state, indent=2), encoding="utf-8")
    )


def _move_aside(out: Path, why: str) -> None:
    names = (DB_NAME, f"{DB_NAME}-journal", f"{DB_NAME}-wal", f"{DB_NAME}-shm")
    paths = [out / name for name in names if (out / name).exists()]
    set_aside(out, paths, f"could not be read ({why})", "the calibration starts again")


def _readable_history(db: Path):
    """The stored History if it holds a usable run, else (None, why)."""
    pyabc = require("pyabc", "trustsim calibrate")
    if db.stat().st_size == 0:
        return None, "empty file"
    try:
        history = pyabc.History(f"sqlite:///{db}")
        ids = history.all_runs()
        if not ids:
            return None, "no run stored"
        history.id = ids[-1].id
        history.observed_sum_stat()
        _ = history.max_t, history.total_nr_simulations
        if history.max_t >= 0:
            _, w = history.get_distribution(m=0, t=history.max_t)
            if not np.isclose(np.sum(w), 1.0) or not np.isfinite(w).all():
                return None, f"generation {history.max_t} is incomplete"
        return history, ""
    except Exception as exc:  # sqlite/sqlalchemy raise many types for a bad file
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"


# ----------------------------------------------------------------------------- executors


def run_jobs(sim: Simulator, jobs: list[tuple[str, dict, int]], executor) -> list[dict]:
    """Evaluate (kind, values, seed-or-group) jobs on the executor, in order."""
    futures = {executor.submit(_job, (sim, job)): i for i, job in enumerate(jobs)}
    results: list[dict | None] = [None] * len(jobs)
    pending = set(futures)
    while pending:
        done, pending = executor.wait(pending)
        for f in done:
            results[futures[f]] = executor.result(f)
    return results  # type: ignore[return-value]


def _job(arg: tuple[Simulator, tuple[str, dict, int]]) -> dict[str, float]:
    sim, (kind, values, number) = arg
    if kind == "run":
        return sim.run_once(values, number)
    return sim.mean_of_replicates(values, group=number)


def _sampler(executor, workers: int, cluster: str | None):
    pyabc = require("pyabc", "trustsim calibrate")
    if cluster:
        # pyabc's dask sampler ignores the per-generation cap: a generation may overrun
        # the budget there (docs/CALIBRATION.md)
        return pyabc.sampler.DaskDistributedSampler(dask_client=executor._client)
    if workers <= 1:
        return pyabc.sampler.SingleCoreSampler(check_max_eval=True)
    return pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers, check_max_eval=True)


# ----------------------------------------------------------------------------- screening


def midpoint(t: Targets) -> dict[str, float]:
    return {p.name: (p.low + p.high) / 2 for p in t.priors}


def prior_draws(t: Targets, n: int, seed: int) -> list[dict[str, float]]:
    rng = np.random.default_rng([t.settings.master_seed, seed])
    return [{p.name: float(rng.uniform(p.low, p.high)) for p in t.priors} for _ in range(n)]


def screen(t: Targets, sim: Simulator, executor, n: int) -> dict[str, dict[str, Any]]:
    """Which targets the free parameters can move: the variance of single runs across
    the prior against the variance across seeds at the prior's midpoint (their ratio, with
    the one-sided F-test p-value for the record)."""
    from scipy import stats

    draws = prior_draws(t, n, 1)
    mid = midpoint(t)
    jobs = [("run", d, run_seed(t.settings.master_seed, 10_000 + i)) for i, d in enumerate(draws)]
    jobs += [("run", mid, run_seed(t.settings.master_seed, 20_000 + i)) for i in range(n)]
    results = run_jobs(sim, jobs, executor)
    out = {}
    for target in t.targets:
        prior = np.array([r[target.name] for r in results[:n]], dtype=float)
        reps = np.array([r[target.name] for r in results[n:]], dtype=float)
        prior, reps = prior[np.isfinite(prior)], reps[np.isfinite(reps)]
        row: dict[str, Any] = {"prior_n": int(prior.size), "replicate_n": int(reps.size)}
        if prior.size < 3 or reps.size < 3:
            row.update(movable=False, why="undefined (NaN) in most runs")
        else:
            vp, vr = float(prior.var(ddof=1)), float(reps.var(ddof=1))
            row.update(prior_sd=math.sqrt(vp), replicate_sd=math.sqrt(vr))
            if vp == 0:
                row.update(movable=False, why="the same value in every run")
            elif vr == 0:
                row.update(movable=True, p_value=0.0, why="")
            else:
                p = float(stats.f.sf(vp / vr, prior.size - 1, reps.size - 1))
                movable = vp / vr >= MOVABLE_RATIO
                row.update(
                    movable=movable,
                    variance_ratio=vp / vr,
                    p_value=p,
                    why=""
                    if movable
                    else f"variance across the prior {vp / vr:.2g}x that across seeds "
                    f"at one point (< {MOVABLE_RATIO})",
                )
        out[target.name] = row
    return out


# ----------------------------------------------------------------------------- the run


def _prior(t: Targets):
    pyabc = require("pyabc", "trustsim calibrate")
    return pyabc.Distribution(
        **{p.key: pyabc.RV("uniform", p.low, p.high - p.low) for p in t.priors}
    )


def _observed(t: Targets) -> dict[str, float]:
    return {x.name: float(x.observed) for x in t.targets}


def _quiet_pyabc() -> None:
    for name in ("ABC", "Sampler", "Epsilon", "Distance", "Acceptor", "History", "Transition"):
        logging.getLogger(f"ABC.{name}" if name != "ABC" else name).setLevel(logging.WARNING)
    logging.getLogger("pyabc").setLevel(logging.WARNING)


def _new_abc(t: Targets, sim: Simulator, fitted: dict[str, float], plan: Plan, sampler):
    pyabc = require("pyabc", "trustsim calibrate")
    return pyabc.ABCSMC(
        sim,
        _prior(t),
        ScaledDistance(fitted),
        population_size=plan.population_size,
        sampler=sampler,
    )


def _open_history(t: Targets, make, out: Path):
    """The stored run in DIR/abc.db (resumed: True), or a new one; an unreadable database
    is moved aside first. The new database is made beside and renamed into place, so that
    abc.db always holds a whole run record."""
    db = out / DB_NAME
    if db.exists():
        history, why = _readable_history(db)
        if history is not None:
            return history, True
        _move_aside(out, why)
    with _next_database(out) as work:
        make().new(f"sqlite:///{work}", _observed(t), meta_info={"targets_sha256": t.sha256})
    return _readable_history(db)[0], False


@contextlib.contextmanager
def _next_database(out: Path) -> Iterator[Path]:
    """A copy of abc.db to write the next generation into; it replaces abc.db only when
    pyabc has stored the generation whole. An interruption (Ctrl-C, SIGTERM, kill -9)
    while pyabc writes leaves abc.db as it was: a generation is stored wholly or not at
    all. The copy of an interrupted session is removed here or by the next session."""
    db, work = out / DB_NAME, out / WORK_NAME
    for name in (WORK_NAME, f"{WORK_NAME}-journal"):
        (out / name).unlink(missing_ok=True)
    with output_errors("storing a generation", db, kept=f"the finished generations in {db}"):
        if db.exists():
            shutil.copyfile(db, work)
        try:
            yield work
            os.replace(work, db)
        finally:
            for name in (WORK_NAME, f"{WORK_NAME}-journal"):
                (out / name).unlink(missing_ok=True)


def generation_seed(master_seed: int, t: int) -> list[int]:
    """numpy's global seed for generation ``t`` (pyabc samples from the global state): a
    function of the master seed and the generation alone, so a calibration resumed at any
    generation draws what an uninterrupted one draws."""
    return [master_seed % 2**32, master_seed >> 32, t + 1]


# Tests interrupt a calibration at a fixed point: with TRUSTSIM_PAUSE_AFTER_GENERATION=N it
# waits once N generations are stored, until a signal ends or interrupts it.
PAUSE = "TRUSTSIM_PAUSE_AFTER_GENERATION"


def _pause_for_tests(stored: int) -> None:
    if os.environ.get(PAUSE) == str(stored):
        time.sleep(600)


def _run_generations(
    make, history, out: Path, plan: Plan, workers: int, progress: bool, master_seed: int
) -> None:
    """One pyabc generation per ABCSMC.load + run, each capped by what is left of the
    budget and seeded by its number: the same path whether the run is fresh or resumed."""
    slack = max(workers, 1)  # parallel samplers may finish evaluations already started
    while True:
        used = history.total_nr_simulations or 0
        left = plan.abc_simulations - used - slack
        if history.max_t < 0:
            left -= plan.population_size  # the prior sample pyabc draws first
        if left < plan.population_size:
            return
        before = history.max_t
        np.random.seed(generation_seed(master_seed, before + 1))
        with _next_database(out) as work:
            abc = make()
            abc.load(f"sqlite:///{work}", history.id)
            abc.run(max_nr_populations=1, min_acceptance_rate=plan.population_size / left)
        history = _readable_history(out / DB_NAME)[0]
        _pause_for_tests(history.max_t + 1)
        if history.max_t == before:
            return  # the cap was hit before the generation filled: the budget is spent
        if progress:
            eps = history.get_all_populations().set_index("t").epsilon[history.max_t]
            print(
                f"generation {history.max_t}: epsilon {eps:.3g} (sd units), "
                f"{history.total_nr_simulations} of {plan.abc_simulations} draws",
                file=sys.stderr,
            )


def calibrate(
    targets: str | Path,
    out: Path | None = None,
    budget: int | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    quick: bool = False,
    progress: bool = True,
) -> Outcome:
    """Run or resume the calibration of ``targets`` into ``out``; write its outputs.
    ``.lock`` keeps a second calibration out of the folder while one runs."""
    from trustsim.analysis.sweep.executors import check_options

    require("pyabc", "trustsim calibrate")
    _quiet_pyabc()
    t = load_targets(targets)
    plan = make_plan(t, budget, quick)
    out = Path(out) if out else Path("out") / "calibrations" / t.settings.id
    check_options(workers, cluster)
    with exclusive(out, "calibration", _check_out), interrupted_as(out):
        try:
            return _session(t, plan, out, workers, cluster, quick, progress)
        except OutputError as exc:  # a full disk, ...: say what is kept, not "nothing"
            exc.kept = exc.kept or f"the finished generations are kept in {out / DB_NAME}"
            exc.next_step = exc.next_step or (
                "free space and run the same command again to go on"
                if exc.exit_status == EXIT_IO
                else "fix that and run the same command again to go on"
            )
            raise


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(
            "starting the calibration",
            out,
            "is a file, not a folder",
            kept="nothing was computed or written",
            next_step="choose another --out (a folder) and run the same command again",
        )


@contextlib.contextmanager
def interrupted_as(out: Path) -> Iterator[None]:
    """Ctrl-C or SIGTERM, wherever it lands (also inside pyabc's or SQLAlchemy's code,
    which may turn it into an error of their own): one line saying what is kept."""
    try:
        yield
    except BaseException as exc:
        if interrupt_in(exc):
            raise KeyboardInterrupt(
                f"interrupted: the finished generations are kept in {out / DB_NAME}; "
                f"run the same command again to go on"
            ) from None
        raise


def _session(t: Targets, plan: Plan, out: Path, workers, cluster, quick, progress) -> Outcome:
    """One calibration session in a locked folder."""
    from trustsim.analysis.calibration.report import write_outputs
    from trustsim.analysis.sweep.executors import machine_workers, open_executor

    with output_errors("preparing the calibration folder", out):
        state = open_folder(out, t, plan)
    n_workers = 1 if cluster else (machine_workers() if workers is None else workers)
    sim = Simulator.of(t)
    if n_workers > 1 and not cluster:
        sim = dataclasses.replace(sim, parent=os.getpid())
    start = time.perf_counter()
    executor = open_executor(workers=n_workers if not cluster else None, cluster=cluster)
    try:
        screened = _load_or_screen(out, t, sim, executor, plan)
        fitted = {  # each scaled by its observational and simulation uncertainty
            x.name: combined_sd(float(x.sd), screened[x.name].get("replicate_sd"), plan.replicates)
            for x in t.targets
            if screened[x.name]["movable"]
        }
        if not fitted:
            raise CalibrationError(
                f"{t.path}: no target can be moved by the priors' parameters "
                f"(see {out / SCREEN_NAME}); nothing to fit"
            )
        sampler = _sampler(executor, n_workers, cluster)

        def make():
            return _new_abc(t, sim, fitted, plan, sampler)

        history, resumed = _open_history(t, make, out)
        _run_generations(make, history, out, plan, n_workers, progress, t.settings.master_seed)
        history = _readable_history(out / DB_NAME)[0]
        if history.max_t < 0:
            raise CalibrationError(f"{out}: the budget ended before the first generation")
        df, w = history.get_distribution(m=0, t=history.max_t)
        posterior = pd.DataFrame({p.name: df[p.key].to_numpy() for p in t.priors})
        posterior["weight"] = w
        posterior["generation"] = history.max_t
        outcome = Outcome(
            out,
            t,
            plan,
            screened,
            posterior,
            history.max_t + 1,
            int(history.total_nr_simulations),
            0.0,
            resumed,
        )
        outcome.predictive = _predictive(outcome, sim, executor)
    finally:
        executor.stop(set())
    seconds = time.perf_counter() - start
    state["sessions"].append({"seconds": round(seconds, 1), "resumed": resumed, "quick": quick})
    outcome.seconds = sum(s["seconds"] for s in state["sessions"])
    save_state(out, state)
    outcome.paths = write_outputs(outcome, history, state)
    return outcome


def _load_or_screen(out: Path, t: Targets, sim: Simulator, executor, plan: Plan) -> dict:
    path = out / SCREEN_NAME
    if path.exists():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            pass
    screened = screen(t, sim, executor, plan.screen_runs)
    atomic_write(path, lambda p: p.write_text(json.dumps(screened, indent=2), encoding="utf-8"))
    return screened


def _predictive(o: Outcome, sim: Simulator, executor) -> pd.DataFrame:
    """The targets' statistics (replicate means) at the defaults, at posterior draws and
    at the posterior median (the calibrated scenario)."""
    t, n = o.targets, o.plan.predictive_draws
    rng = np.random.default_rng([t.settings.master_seed, 2])
    w = o.posterior.weight.to_numpy()
    picks = rng.choice(len(w), size=n, replace=True, p=w / w.sum())
    names = [p.name for p in t.priors]
    defaults = {
        name: getattr(getattr(t.base, name.split(".")[0]), name.split(".")[1]) for name in names
    }
    median = posterior_median(o.posterior, names)
    jobs = [("mean", defaults, 1 + i) for i in range(n)]
    jobs += [
        ("mean", {k: float(o.posterior[k].iloc[j]) for k in names}, 1000 + i)
        for i, j in enumerate(picks)
    ]
    jobs += [("mean", median, 1 + i) for i in range(n)]
    results = run_jobs(sim, jobs, executor)
    kinds = ["defaults"] * n + ["posterior"] * n + ["calibrated"] * n
    return pd.DataFrame(results).assign(set=kinds, draw=list(range(n)) * 3)


__all__ = ["CalibrationError", "Outcome", "ScenarioError", "calibrate", "load_targets"]


# ----------------------------------------------------------------------------- prior check


def check_priors(
    targets: str | Path,
    out: Path | None = None,
    draws: int = 60,
    workers: int | None = None,
    cluster: str | None = None,
    search: int = 8,
):
    """``trustsim calibrate TARGETS --prior-check``: what the model can reach across the
    priors (:mod:`trustsim.analysis.calibration.prior_check`), written to
    ``DIR/prior_check.json``. Returns (the check, its path)."""
    from trustsim.analysis.calibration.prior_check import prior_check, write_check
    from trustsim.analysis.sweep.executors import machine_workers, open_executor

    t = load_targets(targets)
    if draws < 5:
        raise UsageError(f"--draws {draws}: the prior check needs at least 5 draws")
    out = Path(out) if out else Path("out") / "calibrations" / t.settings.id
    sim = Simulator.of(t)
    n = 1 if cluster else (machine_workers() if workers is None else workers)
    executor = open_executor(workers=n if not cluster else None, cluster=cluster)
    try:
        check = prior_check(
            t,
            prior_draws(t, draws, 7),
            midpoint(t),
            lambda jobs: run_jobs(sim, jobs, executor),
            search,
        )
    finally:
        executor.stop(set())
    return check, write_check(check, out)
