"""CoreModel: the fast engine's array state and its step driver, with the Mesa model's
interface."""

from __future__ import annotations

import os

import numba
import numpy as np

from trustsim.core.layout import LOG_SLOTS
from trustsim.core.relstore import (
    Store,
    new_store,
)
from trustsim.core.state import Scratch, State, WorldArrays
from trustsim.core.step import run_steps_parallel, run_steps_serial, step_parallel, step_serial
from trustsim.errors import UsageError
from trustsim.jit import compile_notice
from trustsim.loader import model_settings
from trustsim.metrics import (
    COUNTERS,
    MEANS,
)
from trustsim.params import Scenario, param_record
from trustsim.population import World, build_world
from trustsim.rng import seed_from


def threads() -> int:
    """Threads for the customer loops: TRUSTSIM_THREADS (default 1: sweeps run one process
    per core, and threads only pay off on an otherwise idle machine).

    Above 1, numba's threading layer starts (OpenMP here); a process that has used it must
    not fork() afterwards, which is why sweep workers are forked from a fork server that
    never starts it.
    """
    text = os.environ.get("TRUSTSIM_THREADS", "1")
    if not text.strip().isdigit() or int(text) < 1:
        raise UsageError(
            f"TRUSTSIM_THREADS={text!r}: use a whole number of threads, 1 or more "
            f"(at most {numba.config.NUMBA_NUM_THREADS} are used here)"
        )
    return min(int(text), numba.config.NUMBA_NUM_THREADS)


class CoreModel:
    """Array state plus a step driver: the fast engine, with the Mesa model's interface."""

    def __init__(
        self,
        params: Scenario | None = None,
        seed: int | None = None,
        world: World | None = None,
        *,
        rng: int | np.random.Generator | None = None,
        scenario: object = None,
        **keywords: object,
    ):
        """A model of ``params`` with parameters changed by keyword, as
        :class:`trustsim.mesa_model.model.TrustModel` takes them:
        ``CoreModel(n_customers=200, ring_gradient=0.9, rng=3)``."""
        self.params = model_settings(params, scenario, keywords, type(self).__name__)
        self.seed = seed_from(seed, rng, self.params.run.seed, type(self).__name__)
        compile_notice()  # the first run in a new environment compiles for a minute
        self.P = param_record(self.params)
        self.world = w = world or build_world(self.params, self.seed)
        self.history = self.params.run.history
        nc, ns = w.n_customers, w.n_salespeople
        self.steps = 0
        self.arrays = WorldArrays.of(w, self.P)
        self.limit = self.params.population.max_relationships
        self.state = State(
            w.sp_firm.copy(),
            np.full(nc, -1, dtype=np.int64),
            np.repeat(w.propensity[:, None], w.n_firms, axis=1),
            np.zeros(nc, dtype=np.bool_),
            np.ones(nc, dtype=np.bool_),
            *new_store(nc, self.limit),
        )
        # turnover, offer, two encounters, a joint visit and leaving the market, a customer
        slots = LOG_SLOTS * nc if self.history else 1
        self.scratch = Scratch.new(nc, ns, w.n_firms, slots)
        self._counts: list[np.ndarray] = []  # per-step summaries, in blocks of steps
        self._means: list[np.ndarray] = []
        self._rows: list[dict[str, float]] = []  # the blocks as rows, built when asked
        self._in_rows = 0  # blocks already in _rows
        self.events: list[np.ndarray] = []

    @property
    def running(self) -> bool:
        """True until run.steps steps are done (as a Mesa model's ``running``)."""
        return self.steps < self.params.run.steps

    # The state by name, for tests and tools: views, not copies.
    @property
    def primary(self) -> np.ndarray:
        return self.state.primary

    @property
    def sp_firm(self) -> np.ndarray:
        return self.state.sp_firm

    @property
    def org(self) -> np.ndarray:
        return self.state.org

    @property
    def store(self) -> Store:
        """The relationships (:class:`trustsim.core.relstore.Store`; views, not copies)."""
        return Store(*self.state[5:])  # the State's fields from recs on

    @property
    def rows(self) -> list[dict[str, float]]:
        """One dict of COUNTERS and MEANS per step so far (built on first use)."""
        for counts, means in zip(self._counts[self._in_rows :], self._means[self._in_rows :]):
            for c, m in zip(counts.tolist(), means.tolist()):
                self._rows.append({**dict(zip(COUNTERS, c)), **dict(zip(MEANS, m))})
        self._in_rows = len(self._counts)
        return self._rows

    @property
    def metrics(self) -> dict[str, float]:
        """The last step's summary ({} before the first step)."""
        rows = self.rows
        return rows[-1] if rows else {}

    def series(self) -> tuple[np.ndarray, np.ndarray]:
        """Every step's COUNTERS (int) and MEANS (float) as two arrays, a row per step."""
        if not self._counts:
            return np.zeros((0, len(COUNTERS)), np.int64), np.zeros((0, len(MEANS)))
        return np.concatenate(self._counts), np.concatenate(self._means)

    def _pool(self, recs: np.ndarray, sid: np.ndarray) -> None:
        if recs is not self.state.recs:  # the pool grew
            self.state = self.state._replace(recs=recs, sid=sid)

    def step(self) -> None:
        self.steps += 1
        n = threads()
        if n > 1:
            numba.set_num_threads(n)
        run = step_parallel if n > 1 else step_serial
        counts, means, recs, sid = run(
            self.seed, self.steps, self.P, self.history, self.arrays, self.state, self.scratch, n
        )
        self._pool(recs, sid)
        if self.history:
            self.events.append(self.scratch.log[self.scratch.logged])
        self._counts.append(counts[None, :].copy())
        self._means.append(means[None, :])

    def run(self, steps: int) -> None:
        """Advance ``steps`` steps: one compiled call without the event log, else step by
        step (the same trajectories either way; tests/test_determinism.py)."""
        if self.history or steps < 2:
            for _ in range(steps):
                self.step()
            return
        n = threads()
        if n > 1:
            numba.set_num_threads(n)
        loop = run_steps_parallel if n > 1 else run_steps_serial
        counts = np.zeros((steps, len(COUNTERS)), dtype=np.int64)
        means = np.zeros((steps, len(MEANS)))
        recs, sid = loop(
            self.seed,
            self.steps + 1,
            steps,
            self.P,
            self.arrays,
            self.state,
            self.scratch,
            counts,
            means,
            n,
        )
        self.steps += steps
        self._pool(recs, sid)
        self._counts.append(counts)
        self._means.append(means)
