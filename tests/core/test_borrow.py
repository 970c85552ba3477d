"""Borrowed views (trustsim.core.borrow): the same data without reference counting, so a
run that uses them computes the same numbers and writes into the arrays it was given."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from trustsim.core.borrow import borrowed


class Pair(NamedTuple):
    values: np.ndarray
    label: int


@njit
def _write_through(a, pair):
    va, vp = borrowed(a), borrowed(pair)
    for i in range(va.shape[0]):
        va[i] += 1.0
    vp.values[0] = vp.label
    return va.sum() + vp.values.sum(), vp.label


def test_a_borrowed_view_reads_and_writes_the_arrays_it_was_given():
    a = np.arange(4.0)
    pair = Pair(np.zeros(3), 7)
    total, label = _write_through(a, pair)
    assert a.tolist() == [1.0, 2.0, 3.0, 4.0]  # written through the view, not a copy
    assert pair.values.tolist() == [7.0, 0.0, 0.0]
    assert (total, label) == (17.0, 7)  # non-array members kept as they are


def test_borrowed_refuses_what_is_not_an_array_or_a_tuple():
    import pytest
    from numba.core.errors import TypingError

    @njit
    def borrow(x):
        return borrowed(x)

    with pytest.raises(TypingError):
        borrow(3.0)
