"""Relationship storage of the numba core: per-customer blocks of packed records that grow.

A customer meets a few dozen salespeople in a long run, not all of them, so memory is
proportional to the relationships that exist (ODD 7.16), not to customers x salespeople:

- ``recs`` is one pool of :data:`REL_DTYPE` records, 64 bytes each (one cache line): the
  fields the rules read and write, packed together; ``sid`` beside it holds each slot's
  salesperson (4 bytes), so a lookup scans one cache line of ids, then touches one record.
- customer ``c``'s relationships are slots ``blk[c, START] .. + blk[c, COUNT] - 1``, its
  own salesperson's first (:func:`make_own`), the others in no particular order (every
  rule that walks them breaks ties by salesperson id), in a block
  of ``blk[c, CAP]`` slots; the three sit together, so a lookup of another customer's
  relationship (a referral) costs one cache line for the block, one for the ids and one
  for the record.
- :func:`make_room`, run serially before each phase that can start relationships (each
  customer starts at most one per phase), moves a customer whose block is full to a block
  half as large again at the end of the pool; when the pool has no room, or dead blocks
  fill a fifth of it, the blocks first slide down over the dead ones (the compaction, in
  place). So relationships never move inside a phase, and a phase's parallel loop only
  writes its own customer's block.
- a customer with ``population.max_relationships`` relationships forgets one to start
  another (:func:`trustsim.rules.forgotten_first`, the Mesa engine applies the same rule).

Chosen by measurement (README, speed): per-customer blocks beat an open-addressing hash of
(customer, salesperson) (1.5-2x slower: a random probe per lookup); ids scanned in their
own array beat ids inside the records once customers know more than a few salespeople.
"""

from __future__ import annotations

__all__ = [
    "BYTES_PER_SLOT",
    "REL_DTYPE",
    "Store",
    "add",
    "copy_record",
    "find",
    "make_own",
    "make_room",
    "new_store",
]

from typing import NamedTuple

import numpy as np
from numba import njit

from trustsim import rules
from trustsim.core.layout import BYTES_PER_SLOT, INITIAL_SLOTS, REL_DTYPE, RESERVED_SLOTS, grown

START, COUNT, CAP = 0, 1, 2  # columns of Store.blk

# numba-free parts (record, sizes, growth rule) live in rellayout, which the memory guard
# reads before numba is loaded
_grown = njit(cache=True)(grown)


class Store(NamedTuple):
    """The relationships of all customers: slot i holds relationship (c, ``sid[i]``) in
    ``recs[i]`` for the customer c whose block contains i. ``top[0]`` is the pool's first
    unused slot, ``top[1]`` the slots all blocks hold (live ones); ``pending[c]`` says that
    customer c's block filled up since the last :func:`make_room`, which then looks at those
    customers only (a flag per customer: scanning them is a 24th of scanning ``blk``)."""

    recs: np.ndarray
    sid: np.ndarray  # salesperson of each slot: the index a lookup scans
    blk: np.ndarray  # customers x (START, COUNT, CAP): one cache line for a lookup
    top: np.ndarray
    pending: np.ndarray


def lines(n: int, dtype: np.dtype, line: int = 64) -> np.ndarray:
    """``np.zeros(n, dtype)`` starting on a cache-line boundary. malloc puts large blocks
    16 bytes past a page boundary, so each 64-byte record would straddle two lines: two
    memory reads for every relationship touched, once the pool outgrows the caches."""
    raw = np.zeros(n * dtype.itemsize + line, dtype=np.uint8)
    skip = -raw.ctypes.data % line
    return raw[skip : skip + n * dtype.itemsize].view(dtype)


def new_store(n_customers: int, limit: int) -> Store:
    """Empty blocks of ``min(INITIAL_SLOTS, limit)`` slots per customer, in a pool with
    room for ``min(RESERVED_SLOTS, limit)`` per customer. ``np.zeros`` of that size maps
    zero pages the kernel commits only when written, so the room costs address space,
    not memory, until blocks grow into it."""
    k = min(INITIAL_SLOTS, limit)
    slots = n_customers * max(k, min(RESERVED_SLOTS, limit))
    blk = np.zeros((n_customers, 3), dtype=np.int64)
    blk[:, START] = np.arange(n_customers) * k
    blk[:, CAP] = k
    return Store(
        recs=lines(slots, REL_DTYPE),
        sid=np.zeros(slots, dtype=np.int32),
        blk=blk,
        top=np.array([n_customers * k, n_customers * k], dtype=np.int64),
        pending=np.zeros(n_customers, dtype=np.bool_),
    )


@njit(cache=True)
def find(sid, blk, c, s):
    """Slot of relationship (c, s), or -1 if customer c does not know salesperson s."""
    lo = blk[c, START]
    for i in range(lo, lo + blk[c, COUNT]):
        if sid[i] == s:
            return i
    return -1


@njit(cache=True)
def victim(recs, sid, lo, n, own):
    """Slot, among ``lo .. lo + n - 1`` (one customer's block), of the relationship the
    customer forgets first (ODD 7.16); never the one with ``own``, its own salesperson."""
    best = -1
    for i in range(lo, lo + n):
        if sid[i] == own:
            continue
        if best < 0 or rules.forgotten_first(
            recs[i].last_step, sid[i], recs[best].last_step, sid[best]
        ):
            best = i
    return best


@njit(cache=True)
def add(recs, sid, blk, c, s, own):
    """Slot for a new relationship (c, s), its ``sid`` set: the next free one in c's
    block, or, when the block is full (it is full only at the cap: :func:`make_room` ran
    before the phase), the slot of the relationship c forgets. Returns (slot, filled):
    ``filled`` when this made c's block full, so that the next :func:`make_room` must
    look. The caller fills the record."""
    n = blk[c, COUNT]
    if n < blk[c, CAP]:
        blk[c, COUNT] = n + 1
        i, filled = blk[c, START] + n, n + 1 == blk[c, CAP]
    else:
        i, filled = victim(recs, sid, blk[c, START], n, own), False
    sid[i] = s
    return i, filled


@njit(cache=True)
def copy_record(dst, src):
    """Copy relationship record ``src`` into ``dst``, field by field: numba makes a
    whole-record assignment (``dst = src``, or one inside a parallel loop) a view, not a
    copy. The one list of REL_DTYPE's fields that code copies."""
    dst.ti, dst.te, dst.gift, dst.scar, dst.asym = src.ti, src.te, src.gift, src.scar, src.asym
    dst.last_step, dst.n_trades, dst.misses = src.last_step, src.n_trades, src.misses
    dst.ring, dst.origin, dst.refused = src.ring, src.origin, src.refused


@njit(cache=True)
def _copy(recs, sid, i, src, src_sid, j):
    """Copy slot j of (src, src_sid) to slot i."""
    copy_record(recs[i], src[j])
    sid[i] = src_sid[j]


@njit(cache=True)
def make_own(recs, sid, blk, c, i, spare):
    """Move slot i, customer c's relationship with its new own salesperson, to the front
    of c's block (swapping it with the one there, through the record ``spare``): the core
    then reads a customer's own relationship at ``blk[c, START]`` without scanning for it.
    Moves and compaction copy blocks in order, and :func:`victim` never picks the own one,
    so it stays there until the customer's own salesperson changes again."""
    j = blk[c, START]
    if i == j:
        return
    copy_record(spare, recs[i])
    copy_record(recs[i], recs[j])
    copy_record(recs[j], spare)
    sid[i], sid[j] = sid[j], sid[i]


@njit(cache=True)
def make_room(recs, sid, blk, top, pending, limit):
    """Before a phase: move every customer whose block is full (below the cap) to a block
    half as large again at the end of the pool, compacting the pool first when it has no
    room or dead blocks fill a fifth of it. Returns the pool (recs, sid): larger copies
    only when even the compacted pool is too small."""
    n = blk.shape[0]
    need = 0
    for c in range(n):
        if pending[c]:
            g = _grown(blk[c, CAP], blk[c, COUNT], limit)
            if g != blk[c, CAP]:
                need += g
            else:
                pending[c] = False  # full at the cap: add() forgets one instead
    if need == 0:
        return recs, sid
    live = top[1]
    if top[0] + need > recs.shape[0] or 4 * (top[0] - live) > live:
        compact(recs, sid, blk, top)
    if top[0] + need > recs.shape[0]:
        # np.empty: slots are written before they are read; untouched pages cost nothing
        size = max(2 * recs.shape[0], top[0] + need)
        new, new_sid = np.empty(size, dtype=recs.dtype), np.empty(size, dtype=sid.dtype)
        for i in range(top[0]):
            _copy(new, new_sid, i, recs, sid, i)
        recs, sid = new, new_sid
    for c in range(n):
        if not pending[c]:
            continue
        pending[c] = False
        g = _grown(blk[c, CAP], blk[c, COUNT], limit)
        lo = top[0]
        for k in range(blk[c, COUNT]):
            _copy(recs, sid, lo + k, recs, sid, blk[c, START] + k)
        top[1] += g - blk[c, CAP]
        blk[c, START], blk[c, CAP] = lo, g
        top[0] = lo + g
    return recs, sid


@njit(cache=True)
def compact(recs, sid, blk, top):
    """Slide every block down over the dead ones, in the pool, in address order (a block
    only ever moves to a lower address, so none is overwritten before it has moved)."""
    at = 0
    for c in np.argsort(blk[:, START]):
        lo = blk[c, START]
        if lo != at:
            for k in range(blk[c, COUNT]):
                _copy(recs, sid, at + k, recs, sid, lo + k)
            blk[c, START] = at
        at += blk[c, CAP]
    top[0] = at


def relationships(store: Store, c: int) -> np.ndarray:
    """Customer c's relationships, sorted by salesperson (a copy, for tests and tools)."""
    lo = int(store.blk[c, START])
    hi = lo + int(store.blk[c, COUNT])
    return _with(store.recs[lo:hi], "salesperson", store.sid[lo:hi], np.argsort(store.sid[lo:hi]))


def table(store: Store) -> np.ndarray:
    """Every relationship as one array sorted by (customer, salesperson), with a
    ``customer`` column: the storage-independent view tests compare."""
    n, count = store.blk.shape[0], store.blk[:, COUNT]
    first = np.cumsum(count) - count  # each block's first row in the table
    within = np.arange(count.sum()) - np.repeat(first, count)
    idx = np.repeat(store.blk[:, START], count) + within
    cust = np.repeat(np.arange(n), count)
    out = _with(store.recs[idx], "salesperson", store.sid[idx], slice(None))
    out = _with(out, "customer", cust, slice(None))
    return out[np.lexsort((out["salesperson"], out["customer"]))]


def _with(recs: np.ndarray, name: str, values: np.ndarray, order) -> np.ndarray:
    """``recs[order]`` as a plain structured array with one more integer column."""
    fields = [(f, recs.dtype.fields[f][0].str) for f in recs.dtype.names]
    out = np.zeros(len(values), dtype=[(name, "i8"), *fields])
    for f, _ in fields:
        out[f] = recs[f][order]
    out[name] = values[order]
    return out


def nbytes(store: Store) -> int:
    """Bytes the store holds now (pool plus per-customer indexes)."""
    return sum(a.nbytes for a in store)
