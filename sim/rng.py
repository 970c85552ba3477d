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
