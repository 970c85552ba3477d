"""The core's arrays: what it reads (WorldArrays), what a step changes (State) and its
working space (Scratch), as numba-friendly named tuples of plain arrays."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from trustsim import rules
from trustsim.core.relstore import (
    REL_DTYPE,
)
from trustsim.metrics import (
    COUNTERS,
    LOG_COLUMNS,
)
from trustsim.population import World

NAN = np.nan
TABLE_SIZE = 4096  # trades and steps the trust tables cover; beyond, the rules compute


class WorldArrays(NamedTuple):
    """What the core reads and never writes: the tie CSR and per-agent attributes."""

    indptr: np.ndarray  # ties of customer c are indices[indptr[c]:indptr[c + 1]]
    indices: np.ndarray
    tie_ring: np.ndarray  # ring of each tie
    propensity: np.ndarray  # customers
    risk: np.ndarray
    kin: np.ndarray
    purchase_rate: np.ndarray  # chance to need to buy in a week (7.17)
    basket: np.ndarray  # value of a trade at relative price 1
    dropout: np.ndarray  # chance to leave the market after a purchase (7.18)
    competence: np.ndarray  # salespeople
    integrity: np.ndarray
    empathy: np.ndarray
    strategy: np.ndarray
    capacity: np.ndarray
    quality: np.ndarray  # firms
    failure_rate: np.ndarray
    recovery: np.ndarray
    transparency: np.ndarray
    consistency: np.ndarray
    price: np.ndarray
    social: np.ndarray
    tab: np.ndarray  # rules.trust_tables: ability weight by trades, gift decay by steps

    @classmethod
    def of(cls, w: World, P: np.ndarray) -> WorldArrays:
        return cls(
            w.csr.indptr,
            w.csr.indices,
            w.csr.ring,
            w.propensity,
            w.risk,
            w.kin_salesperson,
            w.purchase_rate,
            w.basket,
            w.dropout,
            w.competence,
            w.integrity,
            w.empathy,
            w.strategy,
            w.capacity,
            w.quality,
            w.failure_rate,
            w.recovery,
            w.transparency,
            w.consistency,
            w.price,
            w.social,
            rules.trust_tables(TABLE_SIZE, P),
        )


class State(NamedTuple):
    """What a step changes."""

    sp_firm: np.ndarray  # employer of each salesperson
    primary: np.ndarray  # each customer's own salesperson (-1: none)
    org: np.ndarray  # organizational trust, customer x firm
    aware: np.ndarray  # brand awareness of each customer
    in_market: np.ndarray  # False once a customer has left the market (7.18)
    recs: np.ndarray  # relationships: the pool of trustsim.core.relstore.Store, REL_DTYPE
    sid: np.ndarray  # salesperson of each slot
    blk: np.ndarray  # customer c's block: START, COUNT, CAP (trustsim.core.relstore)
    top: np.ndarray  # [first unused slot of the pool]
    pending: np.ndarray  # customers whose block filled since the last make_room


class Scratch(NamedTuple):
    """Per-step working space, allocated once per model (a step only refills it): the event
    log, relationship snapshots and what each customer did this step."""

    log: np.ndarray  # one row per (phase, customer) slot, LOG_COLUMNS
    logged: np.ndarray  # which slots this step wrote
    before: np.ndarray  # a customer's relationship as it was before this step's change
    counts: np.ndarray  # COUNTERS
    start_sp: np.ndarray  # customers: salesperson at the start of the step
    choice: np.ndarray  # salesperson chosen in phase 3
    origin: np.ndarray  # how it was found
    ref_ring: np.ndarray  # referrer's ring
    wom: np.ndarray  # word of mouth spoken
    wom_firm: np.ndarray  # ... about this firm
    depth: np.ndarray  # this step's trade: need depth
    stage: np.ndarray  # stage an encounter reached (-1: none; trustsim.core.meet.UNSERVED)
    ring: np.ndarray  # measurement: ring of one's salesperson at the end of the step
    ref_trust: np.ndarray  # referrer's trust in the chosen salesperson
    cost: np.ndarray  # this step's trade: transaction cost, performance
    perf: np.ndarray
    trust: np.ndarray  # measurement: trust in one's salesperson at the end of the step
    ti: np.ndarray
    te: np.ndarray
    asym: np.ndarray
    porg: np.ndarray
    repeat: np.ndarray  # this step's trade was a repeat purchase
    moved_from: np.ndarray  # salespeople: firm left this step (-1: none)
    demand: np.ndarray  # customers who chose each salesperson
    staff_ptr: np.ndarray  # firms + 1: firm f's salespeople are staff[staff_ptr[f]:...]
    staff: np.ndarray  # salespeople by firm, in id order
    want: np.ndarray  # customers: whom each meets in the second try of phase 4 (-1: nobody)
    served: np.ndarray  # served in the first try
    look: np.ndarray  # takes its need elsewhere
    cap_left: np.ndarray  # salespeople: capacity left for the second try
    outcome: np.ndarray  # what came of this round's encounter, as bits (trustsim.core.meet)
    revenue: np.ndarray  # this step's trade: its value (NaN: no trade)

    @classmethod
    def new(cls, nc: int, ns: int, nf: int, log_slots: int) -> Scratch:
        f8, i8 = np.float64, np.int64
        return cls(
            log=np.zeros((log_slots, len(LOG_COLUMNS))),
            logged=np.zeros(log_slots, dtype=np.bool_),
            before=np.zeros(nc, dtype=REL_DTYPE),
            counts=np.zeros(len(COUNTERS), dtype=i8),
            **{k: np.zeros(nc, dtype=i8) for k in ("start_sp", "choice", "origin", "ref_ring")},
            **{k: np.zeros(nc, dtype=i8) for k in ("wom", "wom_firm", "depth", "stage", "ring")},
            **{k: np.zeros(nc, dtype=f8) for k in ("ref_trust", "cost", "perf", "trust", "ti")},
            **{k: np.zeros(nc, dtype=f8) for k in ("te", "asym", "porg")},
            repeat=np.zeros(nc, dtype=np.bool_),
            moved_from=np.zeros(ns, dtype=i8),
            demand=np.zeros(ns, dtype=i8),
            staff_ptr=np.zeros(nf + 1, dtype=i8),
            staff=np.zeros(ns, dtype=i8),
            want=np.zeros(nc, dtype=i8),
            served=np.zeros(nc, dtype=np.bool_),
            look=np.zeros(nc, dtype=np.bool_),
            cap_left=np.zeros(ns, dtype=i8),
            outcome=np.zeros(nc, dtype=i8),
            revenue=np.zeros(nc, dtype=f8),
        )
