"""``trustsim calibrate``: approximate Bayesian computation (ABC-SMC, pyabc) of a targets file.

The inference is pyabc's; this module supplies what pyabc needs (a model that maps
parameters to the targets' statistics on the core engine, uniform priors, a distance that
scales each target by its ``sd``) and what a researcher needs around it:

* the prior predictive check first (:mod:`trustsim.analysis.calibration.prior_check`),
  stored in the folder and reused on resume: which targets the model can reach at all, which
  it cannot move (left out of the distance, never silently fitted), and how noisy each
  statistic is, from which the replicates per draw are chosen
  (:func:`trustsim.analysis.calibration.plan.choose_replicates`);
* a stopping rule: the calibration ends when a generation's tolerance reaches
  ``minimum_epsilon`` or a generation would accept fewer than ``min_acceptance_rate`` of its
  draws (both in the targets file), and at the latest when the budget of model runs is spent
  (each pyabc generation is run on its own, with the remaining budget as its cap);
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

from trustsim.analysis.calibration.plan import Plan, make_plan, with_replicates
from trustsim.analysis.calibration.posterior import Outcome, posterior_median
from trustsim.analysis.calibration.prior_check import (
    CHECK_NAME,
    PriorCheck,
    combined_sd,
    load_check,
    prior_check,
    write_check,
)
from trustsim.analysis.calibration.targets import Targets, load_targets
from trustsim.analysis.measures import statistics as S
from trustsim.analysis.sweep.chunks import set_aside
from trustsim.analysis.sweep.design import point_data, run_seed, unobserved
from trustsim.analysis.sweep.driver import exclusive
from trustsim.errors import (
    OutputError,
    RememberedInterrupts,
    ScenarioError,
    TrustsimError,
    UsageError,
    interrupt_in,
    keeping,
    output_errors,
    require,
)
from trustsim.loader import validate
from trustsim.runtime.files import atomic_write
from trustsim.runtime.run import simulate

DB_NAME = "abc.db"
STATE_NAME = "calibration.json"
WORK_NAME = ".abc.db.next"  # the next generation is written here, then renamed to abc.db
PENALTY = 1e6  # distance of a draw whose statistic is undefined (NaN): never accepted


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

    Picklable (plain data), so it travels to pool processes and dask workers inside
    pyabc's ``simulate_one``. Each run's seed is a function of the master seed, the values and the
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
        """One run at ``values``: every target's statistic (the simulated measurements
        only if one is a target)."""
        data = unobserved(point_data(self.base, values), self.statistics)
        scenario = validate(data, f"{self.source}: draw {values}")
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
        f"{out}: holds a calibration of another targets file, its settings or base scenario "
        f"({owner}), not of {t.path}; use another --out, or delete {out} to start over"
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
        _forget_check(out)  # nothing proves whose prior check it holds
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


def _forget_check(out: Path) -> None:
    if (out / CHECK_NAME).exists():
        set_aside(
            out, [out / CHECK_NAME], "no record says which targets file it belongs to", "the "
            "prior check runs again",
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


def _sampler(executor):
    """pyabc's sampling on the calibration's executor, in draw order
    (:mod:`trustsim.analysis.calibration.sampler`): the same particles on any executor."""
    require("pyabc", "trustsim calibrate")
    from trustsim.analysis.calibration.sampler import OrderedSampler

    return OrderedSampler(executor)


# ----------------------------------------------------------------------------- prior draws


def midpoint(t: Targets) -> dict[str, float]:
    return {p.name: (p.low + p.high) / 2 for p in t.priors}


def prior_draws(t: Targets, n: int, seed: int) -> list[dict[str, float]]:
    rng = np.random.default_rng([t.settings.master_seed, seed])
    return [{p.name: float(rng.uniform(p.low, p.high)) for p in t.priors} for _ in range(n)]


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
        transitions=pyabc.MultivariateNormalTransition(
            scaling=float(t.settings.transition_scaling)
        ),
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


def _pause_for_tests(stored: int, signals: RememberedInterrupts) -> None:
    if os.environ.get(PAUSE) == str(stored):
        for _ in range(6000):
            signals.check()
            time.sleep(0.1)


def _run_generations(
    make,
    history,
    out: Path,
    plan: Plan,
    progress: bool,
    master_seed: int,
    state: dict[str, Any],
    signals: RememberedInterrupts,
) -> str:
    """One pyabc generation per ABCSMC.load + run, each capped by what is left of the
    budget and by the stated least acceptance rate, and seeded by its number: the same
    path whether the run is fresh or resumed, on any executor (the sampler counts no
    draw past its cap). Returns why it stopped."""
    while True:
        reason = _stop_reason(history, plan, state)
        if reason:
            return reason
        used = history.total_nr_simulations or 0
        left = plan.abc_simulations - used
        if history.max_t < 0:
            left -= plan.population_size  # the prior sample pyabc draws first
        if left < plan.population_size:
            return "budget"
        budget_rate = plan.population_size / left
        before = history.max_t
        np.random.seed(generation_seed(master_seed, before + 1))
        with _next_database(out) as work:
            abc = make()
            abc.load(f"sqlite:///{work}", history.id)
            # the stated least acceptance rate ends the calibration after its first
            # generation, never before it (whose tolerance is the prior sample's median)
            stated = plan.min_acceptance_rate if before >= 0 else 0.0
            abc.run(max_nr_populations=1, min_acceptance_rate=max(budget_rate, stated))
        history = _readable_history(out / DB_NAME)[0]
        signals.check()  # a Ctrl-C that landed in a finalizer ends the work here
        _pause_for_tests(history.max_t + 1, signals)
        if history.max_t == before:  # the cap was hit before the generation filled
            if before >= 0 and plan.min_acceptance_rate >= budget_rate:
                state["stopped"] = {
                    "after_generation": before,
                    "min_acceptance_rate": plan.min_acceptance_rate,
                }
                save_state(out, state)
                return "acceptance"
            return "budget"
        if progress:
            eps = history.get_all_populations().set_index("t").epsilon[history.max_t]
            print(
                f"generation {history.max_t}: epsilon {eps:.3g} (sd units), "
                f"{history.total_nr_simulations} of {plan.abc_simulations} draws",
                file=sys.stderr,
            )


def _stop_reason(history, plan: Plan, state: dict[str, Any]) -> str:
    """Why no further generation is run ("" to go on): the tolerance is reached, or a
    session before found that the next generation would accept too few of its draws."""
    if history.max_t < 0:
        return ""
    if plan.minimum_epsilon > 0:
        eps = float(history.get_all_populations().set_index("t").epsilon[history.max_t])
        if eps <= plan.minimum_epsilon:
            return "tolerance"
    stopped = state.get("stopped") or {}
    if (
        stopped.get("after_generation") == history.max_t
        and stopped.get("min_acceptance_rate") == plan.min_acceptance_rate
    ):
        return "acceptance"
    return ""


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
    with (
        exclusive(out, "calibration", _check_out),
        interrupted_as(out),
        RememberedInterrupts() as signals,
        keeping(lambda: kept_in(out), "to go on"),
    ):
        return _session(t, plan, out, workers, cluster, budget is not None, progress, signals)


def kept_in(out: Path) -> str:
    """What a calibration folder holds for the next session (said when a write failed)."""
    db = out / DB_NAME
    history = _readable_history(db)[0] if db.exists() else None
    done = history.max_t + 1 if history is not None else 0
    if done:
        return f"{done} finished generation{'s are' if done > 1 else ' is'} kept in {db}"
    if (out / CHECK_NAME).exists():
        return f"no generation was finished; the prior check is kept in {out / CHECK_NAME}"
    return "no generation was finished and nothing of this calibration was kept"


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


def _session(
    t: Targets, plan: Plan, out: Path, workers, cluster, given, progress, signals
) -> Outcome:
    """One calibration session in a locked folder."""
    from trustsim.analysis.calibration.report import write_outputs
    from trustsim.analysis.sweep.executors import machine_workers, open_executor

    with output_errors("preparing the calibration folder", out):
        state = open_folder(out, t, plan)
    n_workers = 1 if cluster else (machine_workers() if workers is None else workers)
    sim = Simulator.of(t)
    start = time.perf_counter()
    executor = open_executor(workers=n_workers if not cluster else None, cluster=cluster)
    try:
        check = _load_or_check(out, t, sim, executor, plan)
        screened = check.screen()
        plan = with_replicates(t, plan, check, given)
        sim = dataclasses.replace(sim, replicates=plan.replicates)
        fitted = {  # each scaled by its observational and simulation uncertainty
            x.name: combined_sd(float(x.sd), screened[x.name]["replicate_sd"], plan.replicates)
            for x in t.targets
            if screened[x.name]["movable"]
        }
        if not fitted:
            raise CalibrationError(
                f"{t.path}: no target can be moved by the priors' parameters "
                f"(see {out / CHECK_NAME}); nothing to fit"
            )
        sampler = _sampler(executor)

        def make():
            return _new_abc(t, sim, fitted, plan, sampler)

        history, resumed = _open_history(t, make, out)
        stopped = _run_generations(
            make, history, out, plan, progress, t.settings.master_seed, state, signals
        )
        history = _readable_history(out / DB_NAME)[0]
        if history.max_t < 0:
            raise CalibrationError(
                f"{out}: the budget ended before the first generation (its draws were "
                f"accepted too rarely); raise --budget or calibration.budget and run again"
            )
        df, w = history.get_distribution(m=0, t=history.max_t)
        posterior = pd.DataFrame({p.name: df[p.key].to_numpy() for p in t.priors})
        posterior["weight"] = w
        posterior["generation"] = history.max_t
        outcome = Outcome(
            out,
            t,
            plan,
            posterior,
            history.max_t + 1,
            int(history.total_nr_simulations),
            0.0,
            resumed,
            check=check,
            stopped=stopped,
        )
        outcome.predictive = _predictive(outcome, sim, executor)
    finally:
        executor.stop(set())
    seconds = time.perf_counter() - start
    state["sessions"].append(
        {"seconds": round(seconds, 1), "resumed": resumed, "quick": plan.quick}
    )
    outcome.seconds = sum(s["seconds"] for s in state["sessions"])
    save_state(out, state)
    outcome.paths = write_outputs(outcome, history, state)
    return outcome


def _load_or_check(out: Path, t: Targets, sim: Simulator, executor, plan: Plan) -> PriorCheck:
    """The prior check stored in the folder, or a new one (then stored). A stored check
    is reused only if it was made of this targets file with the file's sizes; any other is
    made again, and being seeded, a check made again after an interruption is the same."""
    check = load_check(out)
    same = check is not None and (check.targets_sha256, check.draws, check.search) == (
        t.sha256,
        plan.check_draws,
        plan.check_search,
    )
    if same:
        return check
    check = run_prior_check(t, sim, executor, plan.check_draws, plan.check_search)
    write_check(check, out)
    return check


def run_prior_check(t: Targets, sim: Simulator, executor, draws: int, search: int) -> PriorCheck:
    return prior_check(
        t,
        prior_draws(t, draws, 7),
        midpoint(t),
        lambda jobs: run_jobs(sim, jobs, executor),
        search,
    )


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
    draws: int | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    search: int | None = None,
):
    """``trustsim calibrate TARGETS --prior-check``: what the model can reach across the
    priors (:mod:`trustsim.analysis.calibration.prior_check`), written to
    ``DIR/prior_check.json``. Returns (the check, its path)."""
    from trustsim.analysis.sweep.executors import machine_workers, open_executor

    t = load_targets(targets)
    draws = t.settings.prior_check_draws if draws is None else draws
    search = t.settings.prior_check_search if search is None else search
    if draws < 5:
        raise UsageError(f"--draws {draws}: the prior check needs at least 5 draws")
    out = Path(out) if out else Path("out") / "calibrations" / t.settings.id
    sim = Simulator.of(t)
    n = 1 if cluster else (machine_workers() if workers is None else workers)
    executor = open_executor(workers=n if not cluster else None, cluster=cluster)
    try:
        check = run_prior_check(t, sim, executor, draws, search)
    finally:
        executor.stop(set())
    return check, write_check(check, out)
