"""pyabc's sampling on trustsim's executors, in draw order.

pyabc's parallel samplers keep the particles that finish first, and reseed each worker
from the operating system, so a calibration on several workers could not be re-run. Here
candidate ``i`` of a generation is drawn from numpy's global generator seeded by the
generation's key and ``i`` alone, and the generation takes candidates in index order until
it has its particles: one worker, two workers or a dask cluster give the same particles,
the same draw count and the same posterior. Candidates evaluated beyond the last one taken
(at most one window of them) are discarded, never counted.
"""

from __future__ import annotations

import hashlib
import random

import cloudpickle
import numpy as np
from pyabc.sampler import Sampler

_LOADED: dict[bytes, object] = {}  # a worker's unpickled simulate_one (this generation's)


def _simulate_one(digest: bytes, payload: bytes):
    if digest not in _LOADED:
        _LOADED.clear()
        _LOADED[digest] = cloudpickle.loads(payload)
    return _LOADED[digest]


def evaluate(job: tuple[bytes, bytes, int, int]):
    """Candidate ``index`` of the generation with key ``key``: pyabc's proposal, model run
    and acceptance, with numpy's and Python's global generators seeded by (key, index) and
    put back afterwards (in-process evaluation shares them with pyabc)."""
    digest, payload, key, index = job
    simulate_one = _simulate_one(digest, payload)
    saved_np, saved_py = np.random.get_state(), random.getstate()
    try:
        np.random.seed([key, index])
        random.seed(key * 2**32 + index)
        return simulate_one()
    finally:
        np.random.set_state(saved_np)
        random.setstate(saved_py)


class OrderedSampler(Sampler):
    """A pyabc sampler whose generation is the first ``n`` accepted candidates in index
    order, evaluated on an executor of :mod:`trustsim.analysis.sweep.executors`."""

    def __init__(self, executor) -> None:
        super().__init__()
        self.executor = executor

    def __getstate__(self) -> dict:
        # pyabc's simulate_one refers to its ABCSMC, and that to this sampler: the
        # executor (processes, a dask client) stays here
        return {**self.__dict__, "executor": None}

    def sample_until_n_accepted(
        self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None
    ):
        del t, all_accepted, ana_vars  # the order alone decides what is taken
        payload = cloudpickle.dumps(simulate_one)
        digest = hashlib.blake2b(payload, digest_size=16).digest()
        key = int(np.random.randint(2**31))  # the global state is seeded per generation
        sample = self._create_empty_sample()
        ex = self.executor
        finished: dict[int, object] = {}
        pending: dict[object, int] = {}
        submitted = taken = 0
        try:
            while sample.n_accepted < n and taken < max_eval:
                while len(pending) < max(ex.window, 1) and submitted < max_eval:
                    job = (digest, payload, key, submitted)
                    pending[ex.submit(evaluate, job)] = submitted
                    submitted += 1
                done, _ = ex.wait(set(pending))
                for future in done:
                    finished[pending.pop(future)] = ex.result(future)
                while taken in finished and sample.n_accepted < n:
                    sample.append(finished.pop(taken))
                    taken += 1
        finally:
            for future in pending:  # queued ones are dropped; running ones end unread
                future.cancel()
        self.nr_evaluations_ = taken
        if sample.n_accepted < n:
            sample.ok = False
        return sample
