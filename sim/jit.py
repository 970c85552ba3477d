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
