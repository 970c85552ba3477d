"""Relationship records in the core: start one, find the best known, read its trust at a
step, and pick among the salespeople a customer has not given up on (ODD 7.1, 7.2, 7.14)."""

from __future__ import annotations

import numpy as np
from numba import njit

from trustsim import rules
from trustsim.core.relstore import (
    COUNT,
    START,
    add,
    find,
)


@njit(cache=True)
def ensure_relationship(recs, sid, blk, c, s, own, origin, trust0, t):
    """Slot of relationship (c, s), started now (met by ``origin``, initial trust
    ``trust0``, ODD 7.1) if it does not exist yet; at the cap, the customer forgets one to
    make room, never ``own`` (ODD 7.16). Returns (slot, whether c's block just filled)."""
    i = find(sid, blk, c, s)
    if i >= 0:
        return i, False
    return start_relationship(recs, sid, blk, c, s, own, origin, trust0, t)


@njit(cache=True)
def start_relationship(recs, sid, blk, c, s, own, origin, trust0, t):
    """Start relationship (c, s), known not to exist, as :func:`ensure_relationship` does."""
    i, filled = add(recs, sid, blk, c, s, own)
    r = recs[i]
    r.ti = trust0
    r.te = trust0
    r.ring = rules.initial_ring(origin)
    r.origin = origin
    r.last_step = t
    r.gift = 0.0
    r.scar = 0.0
    r.asym = 1.0
    r.n_trades = 0
    r.misses = 0
    r.refused = 0
    return i, filled


@njit(cache=True)
def better_known(recs, sid, blk, c, s1, t, P, tab):
    """The salesperson customer c has met and trusts most, if more than ``s1`` (lowest id
    among equals; -1: none), as the Mesa engine's ``Customer.better_known`` (ODD 7.14)."""
    lo = blk[c, START]
    hi = lo + blk[c, COUNT]
    best_trust = record_trust(recs[find(sid, blk, c, s1)], t, P, tab)
    best = -1
    for i in range(lo, hi):
        k = sid[i]
        if k == s1 or recs[i].refused:
            continue
        tk = record_trust(recs[i], t, P, tab)
        if tk > best_trust or (best >= 0 and tk == best_trust and k < best):
            best, best_trust = k, tk
    return best


@njit(cache=True, inline="always")
def record_gift(r, t, P, tab):
    """``rules.gift_now`` for record ``r`` at step ``t``, from the table while it reaches."""
    if r.gift <= 0.0:
        return 0.0
    k = max(t - r.last_step, 0)
    if k < tab.shape[1]:
        return r.gift * tab[1, k]
    return rules.gift_now(r.gift, r.last_step, t, P)


@njit(cache=True, inline="always")
def record_weight(n_trades, P, tab):
    """``rules.ability_weight``, from the table while it reaches."""
    return tab[0, n_trades] if n_trades < tab.shape[1] else rules.ability_weight(n_trades, P)


@njit(cache=True, inline="always")
def record_trust(r, t, P, tab):
    """Overall trust T in relationship record ``r`` at step ``t`` (ODD 7.2): what
    ``rules.combined_trust`` gives, without its exp and pow."""
    return rules.weighted_trust(
        r.ti, r.te, record_gift(r, t, P, tab), record_weight(r.n_trades, P, tab), P
    )


@njit(cache=True)
def refuses(recs, sid, blk, c, s):
    """Whether customer c has given up on salesperson s for good (ODD 7.14)."""
    i = find(sid, blk, c, s)
    return i >= 0 and recs[i].refused != 0


@njit(cache=True)
def n_refused(recs, sid, blk, c, skip):
    """How many salespeople other than ``skip`` customer c has given up on."""
    lo = blk[c, START]
    n = 0
    for i in range(lo, lo + blk[c, COUNT]):
        if recs[i].refused and sid[i] != skip:
            n += 1
    return n


@njit(cache=True)
def allowed(recs, sid, blk, c, ids, skip):
    """Of the salespeople ``ids`` (in id order), those customer c may meet: not ``skip``
    and not given up on (``Customer.allowed``)."""
    out = np.empty(ids.shape[0], dtype=np.int64)
    n = 0
    for x in ids:
        if x != skip and not refuses(recs, sid, blk, c, x):
            out[n] = x
            n += 1
    return out[:n]
