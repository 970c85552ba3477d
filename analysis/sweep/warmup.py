"""Readies a process to be a sweep worker: imported once by the fork server that local
sweep pools fork their workers from (:mod:`.executors`).

A worker needs numpy, pandas, the model and the core's compiled code. Loading them costs
about a second of CPU per process (numba alone imports scipy.linalg and loads every
compiled function from its on-disk cache on first call). Done here, in the fork server,
it is paid once per sweep process instead of once per worker, and it runs while the sweep
process is still planning; every forked worker starts ready.

Importing this module runs a tiny model of each kind a batch may run (with and without the
event log). It never raises: a worker that was not warmed still works, it only loads on
its first run. An unexpected failure (not a user's error, which the sweep itself reports)
is said in one line on stderr.
"""

from __future__ import annotations

import gc
import sys


def warm() -> None:
    """Import what a worker imports and call every compiled function once: ``run`` of
    two steps or more goes through the compiled multi-step loop without the event log and
    step by step with it, as :func:`.batch.run_batch` does."""
    from trustsim.analysis.measures import statistics  # noqa: F401 - what run_batch imports
    from trustsim.engine import make_model
    from trustsim.params import Scenario

    for history in (False, True):
        scenario = Scenario.model_validate(
            {"population": {"n_customers": 20}, "run": {"steps": 2, "history": history}}
        )
        make_model(scenario, "core", 0).run(scenario.run.steps)  # as run_batch runs it


try:
    warm()
except Exception as exc:  # warming only saves time: the sweep goes on
    from trustsim.errors import TrustsimError

    if not isinstance(exc, TrustsimError):  # a user's error is the sweep's one line to say
        print(
            f"trustsim: sweep workers were not warmed ({type(exc).__name__}: {exc}); each "
            "loads the model on its first run",
            file=sys.stderr,
            flush=True,
        )
# Everything loaded so far lives as long as the process: keep it out of the collector's
# passes, and out of the pages a forked worker would copy when the collector touches them.
gc.freeze()
