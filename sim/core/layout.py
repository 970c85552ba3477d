"""The core's relationship record and block sizes, without numba.

The memory guard (:mod:`trustsim.runtime.memory`) reads these before numba is loaded;
:mod:`trustsim.core.relstore` compiles :func:`grown` and keeps the records.
"""

import numpy as np

INITIAL_SLOTS = 4  # a new customer's block: most customers meet a handful at first
RESERVED_SLOTS = 32  # pool slots per customer reserved up front (pages stay untouched, so
# unused: the operating system commits a page when it is first written)

# One relationship (c, s): the fields of the Mesa engine's ``Relationship``, packed into one
# 64-byte record (room left for a few more counters). Trust state is float64 (the Mesa engine
# computes in Python floats, and docking is exact); counts and codes are as narrow as the
# schema's ranges allow (steps <= 10^6, salespeople <= 10^6).
REL_DTYPE = np.dtype(
    {
        "names": [
            "ti",
            "te",
            "gift",
            "scar",
            "asym",
            "last_step",
            "n_trades",
            "misses",
            "ring",
            "origin",
            "refused",
        ],
        "formats": ["f8", "f8", "f8", "f8", "f8", "i4", "i4", "i4", "i1", "i1", "i1"],
        "offsets": [0, 8, 16, 24, 32, 40, 44, 48, 52, 53, 54],
        "itemsize": 64,
    }
)
BYTES_PER_SLOT = REL_DTYPE.itemsize + 4  # the record and its salesperson id
BYTES_PER_CUSTOMER = 3 * 8 + 1  # start, count, cap of its block; its pending flag
ADDS_PER_STEP = 4  # phases that can start a relationship: handover, switch, two encounters


def grown(cap, count, limit):
    """The block size a customer needs before the next phase: half as large again when
    full, up to the cap."""
    if count < cap or cap >= limit:
        return cap
    return min(cap + max(2, cap // 2), limit)


def block_bound(most: int, limit: int) -> int:
    """The largest block a customer with at most ``most`` relationships can have."""
    cap = min(INITIAL_SLOTS, limit)
    while cap < most:
        cap = grown(cap, cap, limit)
    return cap


def bound_bytes(n_customers: int, n_salespeople: int, steps: int, limit: int) -> int:
    """Upper bound of the memory the store can touch in a run (for the memory guard).

    A customer holds at most ``min(limit, n_salespeople, 1 + ADDS_PER_STEP x steps)``
    relationships, in a block at most :func:`block_bound` slots. The pool's used part
    stays below 1.25x the live blocks (dead blocks are compacted away beyond that) plus
    the blocks moving in one phase; a pool that must grow holds its old copy while the
    new one fills. Three times every block at its largest covers all of it.
    """
    most = min(limit, n_salespeople, 1 + ADDS_PER_STEP * steps)
    live = n_customers * block_bound(most, limit)
    return n_customers * BYTES_PER_CUSTOMER + 3 * live * BYTES_PER_SLOT


# Event-log slots per customer and step in the core, in this order: turnover, offer, the
# two encounters (one's own salesperson, then elsewhere), a joint visit (managed handover)
# and leaving the market; a customer logs at most this many rows a step.
SLOT_TURNOVER, SLOT_OFFER, SLOT_FIRST_TRY, SLOT_ELSEWHERE, SLOT_INTRODUCED, SLOT_LEFT = range(6)
LOG_SLOTS = 6
