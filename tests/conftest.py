"""pytest fixtures shared by the tests (helpers live in tests/helpers.py)."""

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

# What the warm-up compiles: the core serially with and without the event log, and with
# parallel loops (in its own process: a test process never starts numba's thread pool).
WARM = """
import os, sys
from trustsim.engine import make_model
from trustsim.params import Scenario
os.environ["TRUSTSIM_THREADS"] = sys.argv[1]
for history in (False, True):
    s = Scenario.model_validate(
        {"population": {"n_customers": 20}, "run": {"steps": 2, "history": history}})
    make_model(s, "core", 0).run(2)
"""


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session", autouse=True)
def compiled_core() -> None:
    """The compiled core is on disk before any test runs. The suite runs in several
    processes (pytest-xdist); without this each would compile the same functions at once
    (a minute or more of CPU apiece) and print the compile notice into whatever test came
    first. The first process compiles, in child processes, while the others wait on a
    lock; then every one finds the cache warm."""
    cache = Path(os.environ["NUMBA_CACHE_DIR"])
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache.parent / f".{cache.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for threads in ("1", "2"):
            done = subprocess.run(
                [sys.executable, "-c", WARM, threads],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=900,
            )
            if done.returncode != 0:
                pytest.exit(f"compiling the core failed:\n{done.stderr[-3000:]}", returncode=1)
