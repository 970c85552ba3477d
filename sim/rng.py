"""Counter-based random numbers: a draw is a pure function of (seed, step, a, b, purpose).

Because no generator state is carried, the Mesa engine (agents in shuffled order) and the
numba core (plain loops) get the same number for the same decision whatever the order in
which agents act. The mixer is SplitMix64 (Steele, Lea & Flood 2014).
"""

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True, inline="always")
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def uniform(seed, step, a, b, purpose):
    """A U[0, 1) draw keyed by the master seed, the step, two agent ids and a purpose."""
    z = _mix(np.uint64(seed) + _GOLDEN)
    z = _mix(z ^ (np.uint64(step + 1) * _GOLDEN))
    z = _mix(z ^ (np.uint64(a + 1) * _M1))
    z = _mix(z ^ (np.uint64(b + 2) * _M2))
    z = _mix(z ^ np.uint64(purpose))
    return np.float64(z >> np.uint64(11)) * _TO_UNIT


@njit(cache=True, inline="always")
def normal(seed, step, a, b, purpose):
    """A standard normal draw (Box-Muller on two keyed uniforms)."""
    u1 = uniform(seed, step, a, b, purpose * 2 + 1001)
    u2 = uniform(seed, step, a, b, purpose * 2 + 1002)
    return np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)


@njit(cache=True, inline="always")
def index(seed, step, a, b, purpose, n):
    """A uniform integer in [0, n)."""
    k = int(uniform(seed, step, a, b, purpose) * n)
    return min(k, n - 1)


def seed_from(seed: object, rng: object, default: int, source: str) -> int:
    """The master seed of a model from Mesa's ``seed``/``rng`` arguments: an integer as
    given, a numpy Generator's next draw, and ``default`` (the scenario's run.seed) when
    neither is given, so a run is reproducible unless asked otherwise. Mesa 3.5 takes
    either, not both; so do the engines."""
    from trustsim.errors import UsageError

    if seed is not None and rng is not None:
        raise UsageError(f"{source}: give rng or seed, not both (they are the same thing)")
    given = rng if seed is None else seed
    if given is None:
        return int(default)
    if isinstance(given, np.random.Generator):
        return int(given.integers(2**62))
    if isinstance(given, (int, np.integer)) and not isinstance(given, bool) and given >= 0:
        return int(given)
    raise UsageError(
        f"{source}: rng = {given!r} is not allowed: must be a whole number >= 0 "
        "(the master seed) or a numpy Generator"
    )
