"""Compiled copies of one Python function under other names, with some globals rebound.

The core's step exists twice, compiled serially and with parallel loops, and calls a serial
or a parallel summary; each copy needs its own name so that numba's on-disk caches of the
two never mix (the cache is keyed by the function's name).
"""

import types

from numba import njit


def variant(fn, name: str, parallel: bool = False, **rebind):
    """``fn`` compiled (cached) as ``name``, with the globals in ``rebind`` replaced."""
    env = {**fn.__globals__, **rebind} if rebind else fn.__globals__
    copy = types.FunctionType(fn.__code__, env, name, fn.__defaults__)
    copy.__qualname__ = name
    return njit(cache=True, parallel=parallel)(copy)


COMPILING = (
    "trustsim: compiling the fast core for this version, about a minute, once "
    "(later runs start in seconds)"
)
_told: list[bool] = []


def cold_cache(folder: str | None = None) -> bool:
    """True when this version's compiled code is not on disk yet (the first run compiles
    it: about a minute, against seconds once cached)."""
    import os
    from pathlib import Path

    path = Path(folder or os.environ.get("NUMBA_CACHE_DIR", ""))
    return not path.is_dir() or next(path.rglob("*.nbi"), None) is None


def compile_notice() -> None:
    """Say once per process, on stderr, that the fast core is being compiled, when it is."""
    import sys

    if not _told and cold_cache():
        _told.append(True)
        print(COMPILING, file=sys.stderr, flush=True)
