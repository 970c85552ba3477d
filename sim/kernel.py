"""The fast core: the schedule of docs/ODD.md §3 as numba loops over arrays.

Same phases and the same rule calls as :mod:`trustsim.agents`; relationships are dense
customer x salesperson arrays, ties a CSR. ``CoreModel`` drives it step by step.
"""

from __future__ import annotations

import os
import types

import numba
import numpy as np
from numba import njit, prange

from . import rules
from .codes import CLOSED, COLD, CONTACT, D_CHOOSE, D_REPLACE, HANDOVER, KIN, OUTSIDER, REFERRAL
from .measure import summarize
from .metrics import (
    COUNTERS,
    EV_ENCOUNTER,
    EV_OFFER,
    EV_TURNOVER,
    I_BREACHES,
    I_CHURNED,
    I_COLD,
    I_COMPLAINTS,
    I_ENCOUNTERS,
    I_FAILURES,
    I_FOLLOWED,
    I_FORGIVEN,
    I_MOVES,
    I_OFFERS,
    I_REFERRALS,
    I_STAYED,
    I_STOP_CONTACT,
    I_SWITCHES,
    I_TRADES,
    I_UNSERVED,
    I_WITH_START,
    I_WOM_NEG,
    I_WOM_POS,
    LOG_COLUMNS,
    MEANS,
)
from .params import Scenario, param_record
from .population import World, build_world
from .rng import index

NAN = np.nan


def threads() -> int:
    """Threads for the customer loops: TRUSTSIM_THREADS (default 1: sweeps run one process
    per core, and threads only pay off on an otherwise idle machine).

    Above 1, numba's threading layer starts (OpenMP here); a process that has used it must
    not fork() afterwards, which is why sweeps spawn their workers.
    """
    wanted = int(os.environ.get("TRUSTSIM_THREADS", "1"))
    return max(1, min(wanted, numba.config.NUMBA_NUM_THREADS))


@njit(cache=True)
def _staff_count(sp_firm, f):
    n = 0
    for s in range(sp_firm.shape[0]):
        if sp_firm[s] == f:
            n += 1
    return n


@njit(cache=True)
def _staff_at(sp_firm, f, k):
    """The k-th salesperson (by id) now at firm f."""
    for s in range(sp_firm.shape[0]):
        if sp_firm[s] == f:
            if k == 0:
                return s
            k -= 1
    return -1


@njit(cache=True)
def _log(
    buf,
    logged,
    n,
    step,
    kind,
    c,
    s,
    firm,
    origin,
    stage,
    ring_before,
    ring_after,
    n_trades,
    trust_before,
    trust_after,
    ti_before,
    te_before,
    ti_after,
    te_after,
    gift,
    org_trust,
    asym,
    perf,
    depth,
    cost,
    breach,
    failed,
    forgiven,
    complained,
    exited,
    wom,
    discount,
    switched,
    followed,
):
    """Write event row ``n`` (the slot of one phase and customer) in LOG_COLUMNS order."""
    logged[n] = True
    buf[n, 0] = step
    buf[n, 1] = kind
    buf[n, 2] = c
    buf[n, 3] = s
    buf[n, 4] = firm
    buf[n, 5] = origin
    buf[n, 6] = stage
    buf[n, 7] = ring_before
    buf[n, 8] = ring_after
    buf[n, 9] = n_trades
    buf[n, 10] = trust_before
    buf[n, 11] = trust_after
    buf[n, 12] = ti_before
    buf[n, 13] = te_before
    buf[n, 14] = ti_after
    buf[n, 15] = te_after
    buf[n, 16] = gift
    buf[n, 17] = org_trust
    buf[n, 18] = asym
    buf[n, 19] = perf
    buf[n, 20] = depth
    buf[n, 21] = cost
    buf[n, 22] = breach
    buf[n, 23] = failed
    buf[n, 24] = forgiven
    buf[n, 25] = complained
    buf[n, 26] = exited
    buf[n, 27] = wom
    buf[n, 28] = discount
    buf[n, 29] = switched
    buf[n, 30] = followed


@njit(cache=True)
def _ensure(
    c,
    s,
    origin,
    ref_trust,
    ref_ring,
    org,
    t,
    propensity,
    met,
    ti,
    te,
    ring,
    rorigin,
    last,
    gift,
    scar,
    asym,
    ntr,
    P,
):
    """Start relationship (c, s) by ``origin`` if it does not exist yet."""
    if met[c, s]:
        return
    t0 = rules.initial_trust(origin, propensity[c], ref_trust, ref_ring, org, P)
    met[c, s] = True
    ti[c, s] = t0
    te[c, s] = t0
    ring[c, s] = rules.initial_ring(origin)
    rorigin[c, s] = origin
    last[c, s] = t
    gift[c, s] = 0.0
    scar[c, s] = 0.0
    asym[c, s] = 1.0
    ntr[c, s] = 0


def step(
    seed,
    t,
    P,
    history,
    # world (fixed)
    indptr,
    indices,
    tie_ring,
    propensity,
    risk,
    kin,
    competence,
    integrity,
    empathy,
    strategy,
    capacity,
    quality,
    failure_rate,
    recovery,
    transparency,
    consistency,
    price,
    social,
    # state (mutable)
    sp_firm,
    primary,
    org,
    aware,
    met,
    ti,
    te,
    ring,
    rorigin,
    last,
    gift,
    scar,
    asym,
    ntr,
    # scratch: one log slot per (phase, customer), and which slots were written
    log,
    logged,
):
    """Advance the world one step; returns (counts, means).

    Customer loops are numba ``prange`` loops: each iteration writes only its own
    customer's state and log slot, and events are counted by reduction, so the result
    does not depend on the number of threads (NUMBA_NUM_THREADS).
    """
    nc, ns, nf = propensity.shape[0], sp_firm.shape[0], quality.shape[0]
    counts = np.zeros(len(COUNTERS), dtype=np.int64)
    logged[:] = False
    choice = np.full(nc, -1, dtype=np.int64)
    origin = np.full(nc, COLD, dtype=np.int64)
    ref_trust = np.zeros(nc)
    ref_ring = np.full(nc, OUTSIDER, dtype=np.int64)
    wom = np.zeros(nc, dtype=np.int64)
    wom_firm = np.full(nc, -1, dtype=np.int64)
    cost = np.full(nc, NAN)
    perf_c = np.full(nc, NAN)
    depth_c = np.zeros(nc, dtype=np.int64)
    repeat = np.zeros(nc, dtype=np.bool_)
    start_sp = primary.copy()
    counts[I_WITH_START] = np.sum(primary >= 0)

    # Phase 1: turnover. Salespeople move, then their customers follow or stay.
    moved_from = np.full(ns, -1, dtype=np.int64)
    for s in range(ns):
        if rules.moves(seed, t, s, P):
            to = rules.rival_firm(seed, t, s, 1, sp_firm[s], nf)
            if to != sp_firm[s]:
                moved_from[s] = sp_firm[s]
                sp_firm[s] = to
                counts[I_MOVES] += 1
    n_followed = n_stayed = 0
    for c in prange(nc):
        s = primary[c]
        if s < 0 or moved_from[s] < 0:
            continue
        f_old = moved_from[s]
        personal = rules.combined_trust(
            ti[c, s], te[c, s], rules.gift_now(gift[c, s], last[c, s], t, P), ntr[c, s], P
        )
        o = org[c, f_old]
        followed = rules.follows(seed, t, c, s, personal, o, P)
        if followed:
            n_followed += 1
        else:
            n_stayed += 1
            primary[c] = -1
            k = _staff_count(sp_firm, f_old)
            if k > 0:
                new = _staff_at(sp_firm, f_old, index(seed, t, c, f_old, D_REPLACE, k))
                _ensure(
                    c,
                    new,
                    HANDOVER,
                    0.0,
                    OUTSIDER,
                    o,
                    t,
                    propensity,
                    met,
                    ti,
                    te,
                    ring,
                    rorigin,
                    last,
                    gift,
                    scar,
                    asym,
                    ntr,
                    P,
                )
                primary[c] = new
        if history:
            _log(
                log,
                logged,
                c,
                t,
                EV_TURNOVER,
                c,
                s,
                f_old,
                rorigin[c, s],
                -1,
                ring[c, s],
                ring[c, s],
                ntr[c, s],
                personal,
                NAN,
                ti[c, s],
                te[c, s],
                ti[c, s],
                te[c, s],
                gift[c, s],
                o,
                asym[c, s],
                NAN,
                0,
                NAN,
                0,
                0,
                0,
                0,
                0,
                0,
                NAN,
                0,
                followed,
            )

    counts[I_FOLLOWED], counts[I_STAYED] = n_followed, n_stayed

    # Phase 2: competitor offers against the exit barrier.
    n_offers = n_switches = 0
    for c in prange(nc):
        s = primary[c]
        if s < 0 or nf < 2 or not rules.offer_arrives(seed, t, c, P):
            continue
        trust = rules.combined_trust(
            ti[c, s], te[c, s], rules.gift_now(gift[c, s], last[c, s], t, P), ntr[c, s], P
        )
        discount, switched = rules.competitor_offer(seed, t, c, trust, ring[c, s], P)
        n_offers += 1
        if switched:
            rival = rules.rival_firm(seed, t, c, 0, sp_firm[s], nf)
            k = _staff_count(sp_firm, rival)
            switched = k > 0
            if switched:
                new = _staff_at(sp_firm, rival, index(seed, t, c, rival, D_REPLACE, k))
                _ensure(
                    c,
                    new,
                    COLD,
                    0.0,
                    OUTSIDER,
                    0.0,
                    t,
                    propensity,
                    met,
                    ti,
                    te,
                    ring,
                    rorigin,
                    last,
                    gift,
                    scar,
                    asym,
                    ntr,
                    P,
                )
                primary[c] = new
                n_switches += 1
        if history:
            _log(
                log,
                logged,
                nc + c,
                t,
                EV_OFFER,
                c,
                s,
                sp_firm[s],
                rorigin[c, s],
                -1,
                ring[c, s],
                ring[c, s],
                ntr[c, s],
                trust,
                NAN,
                ti[c, s],
                te[c, s],
                ti[c, s],
                te[c, s],
                gift[c, s],
                NAN,
                asym[c, s],
                NAN,
                0,
                NAN,
                0,
                0,
                0,
                0,
                0,
                0,
                discount,
                switched,
                0,
            )

    counts[I_OFFERS], counts[I_SWITCHES] = n_offers, n_switches

    # Phase 3: who needs to buy, and from whom.
    for c in prange(nc):
        if not rules.needs_to_buy(seed, t, c, P):
            continue
        if primary[c] >= 0:
            choice[c] = primary[c]
            continue
        if kin[c] >= 0:
            choice[c] = kin[c]
            origin[c] = KIN
            continue
        for k in range(indptr[c], indptr[c + 1]):
            j = indices[k]
            sj = primary[j]
            if sj < 0 or not rules.refers(seed, t, c, j, tie_ring[k], P):
                continue
            tj = rules.combined_trust(
                ti[j, sj], te[j, sj], rules.gift_now(gift[j, sj], last[j, sj], t, P), ntr[j, sj], P
            )
            if rules.trusted_enough_to_refer(tj, P):
                choice[c] = sj
                origin[c] = REFERRAL
                ref_trust[c] = tj
                ref_ring[c] = tie_ring[k]
                break
        if choice[c] < 0:
            choice[c] = index(seed, t, c, 0, D_CHOOSE, ns)
    demand = np.zeros(ns, dtype=np.int64)
    for c in range(nc):
        if choice[c] >= 0:
            demand[choice[c]] += 1

    # Phase 4: encounters through the sales stages; trades.
    stage_of = np.full(nc, -1, dtype=np.int64)
    n_unserved = n_served = n_referrals = n_cold = 0
    n_trades = n_failures = n_breaches = n_complaints = n_forgiven = n_churned = 0
    n_wom_pos = n_wom_neg = 0
    for c in prange(nc):
        s = choice[c]
        if s < 0:
            continue
        if not rules.capacity_accept(seed, t, c, s, demand[s], capacity[s], P):
            n_unserved += 1
            continue
        n_served += 1
        if not met[c, s]:
            if origin[c] == REFERRAL:
                n_referrals += 1
            elif origin[c] == COLD:
                n_cold += 1
        f = sp_firm[s]
        _ensure(
            c,
            s,
            origin[c],
            ref_trust[c],
            ref_ring[c],
            org[c, f],
            t,
            propensity,
            met,
            ti,
            te,
            ring,
            rorigin,
            last,
            gift,
            scar,
            asym,
            ntr,
            P,
        )
        aware[c] = True
        g = rules.gift_now(gift[c, s], last[c, s], t, P)
        trust = rules.combined_trust(ti[c, s], te[c, s], g, ntr[c, s], P)
        o = org[c, f]
        dtrust = rules.decision_trust(trust, o, risk[c], asym[c, s], P)
        stage = rules.sales_stages(seed, t, c, s, dtrust, price[f], P)
        stage_of[c] = stage
        if stage < CLOSED:
            if history:
                _log(
                    log,
                    logged,
                    2 * nc + c,
                    t,
                    EV_ENCOUNTER,
                    c,
                    s,
                    f,
                    rorigin[c, s],
                    stage,
                    ring[c, s],
                    ring[c, s],
                    ntr[c, s],
                    trust,
                    trust,
                    ti[c, s],
                    te[c, s],
                    ti[c, s],
                    te[c, s],
                    gift[c, s],
                    o,
                    asym[c, s],
                    NAN,
                    0,
                    NAN,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    NAN,
                    0,
                    0,
                )
            continue
        # the trade
        depth = rules.needs_depth(seed, t, c, s, ring[c, s], empathy[s], P)
        forced = rules.forced_breach(t, s, P)
        perf, breach, failed = rules.trade_outcome(
            seed,
            t,
            c,
            s,
            competence[s],
            integrity[s],
            quality[f],
            consistency[f],
            failure_rate[f],
            forced,
            P,
        )
        tcost = rules.transaction_cost(trust, asym[c, s], P)
        ti0, te0, asym0, ring0, n0 = ti[c, s], te[c, s], asym[c, s], ring[c, s], ntr[c, s]
        if breach:
            nti, nte, ngift, nscar = rules.breach_loss(ti0, te0, P)
            nasym = asym0
        else:
            nti, nte, ngift, nscar, nasym = rules.learn(
                ti0,
                te0,
                g,
                scar[c, s],
                asym0,
                perf,
                depth,
                integrity[s],
                strategy[s],
                transparency[f],
                P,
            )
        forgiven = complained = exited = False
        if failed:
            forgiven, complained, exited, nti, nte = rules.failure_response(
                seed, t, c, s, trust, nti, nte, ring0, recovery[f], P
            )
        ti[c, s], te[c, s], gift[c, s], scar[c, s], asym[c, s] = nti, nte, ngift, nscar, nasym
        ntr[c, s] = n0 + 1
        last[c, s] = t
        after = rules.combined_trust(nti, nte, ngift, n0 + 1, P)
        ring[c, s] = rules.ring_after(ring0, after, n0 + 1, breach, P)
        org[c, f] = rules.org_learn(
            o, perf, failed, forgiven, breach, recovery[f], social[f], asym0, P
        )
        bad = breach or (failed and not forgiven)
        wom[c] = rules.wom_sign(
            seed, t, c, s, rules.satisfaction(perf, depth, ti0, P), bad, failed, P
        )
        wom_firm[c] = f
        primary[c] = -1 if exited else s
        cost[c], perf_c[c], depth_c[c], repeat[c] = tcost, perf, depth, n0 > 0
        n_trades += 1
        n_failures += 1 if failed else 0
        n_breaches += 1 if breach else 0
        n_complaints += 1 if complained else 0
        n_forgiven += 1 if forgiven else 0
        n_churned += 1 if exited else 0
        n_wom_pos += 1 if wom[c] > 0 else 0
        n_wom_neg += 1 if wom[c] < 0 else 0
        if history:
            _log(
                log,
                logged,
                2 * nc + c,
                t,
                EV_ENCOUNTER,
                c,
                s,
                f,
                rorigin[c, s],
                CLOSED,
                ring0,
                ring[c, s],
                n0 + 1,
                trust,
                after,
                ti0,
                te0,
                nti,
                nte,
                ngift,
                o,
                asym0,
                perf,
                depth,
                tcost,
                breach,
                failed,
                forgiven,
                complained,
                exited,
                wom[c],
                NAN,
                0,
                0,
            )
    for k, n in (
        (I_UNSERVED, n_unserved),
        (I_ENCOUNTERS, n_served),
        (I_REFERRALS, n_referrals),
        (I_COLD, n_cold),
        (I_TRADES, n_trades),
        (I_FAILURES, n_failures),
        (I_BREACHES, n_breaches),
        (I_COMPLAINTS, n_complaints),
        (I_FORGIVEN, n_forgiven),
        (I_CHURNED, n_churned),
        (I_WOM_POS, n_wom_pos),
        (I_WOM_NEG, n_wom_neg),
    ):
        counts[k] = n
    for c in range(nc):
        if 0 <= stage_of[c] < CLOSED:
            counts[I_STOP_CONTACT + stage_of[c] - CONTACT] += 1

    # Phase 5: word of mouth along the ties, weighted by ring. Pushed from the few
    # speakers, in speaker-id order: each listener hears its speakers in the same order as
    # when it pulls from its sorted tie list (Customer.listen), so results are identical.
    for j in range(nc):
        if wom[j] == 0:
            continue
        fj = wom_firm[j]
        for k in range(indptr[j], indptr[j + 1]):
            c = indices[k]
            org[c, fj] = rules.wom_receive(org[c, fj], wom[j], tie_ring[k], P)
            aware[c] = True

    # Measurement.
    trust_c = np.full(nc, NAN)
    ti_c = np.full(nc, NAN)
    te_c = np.full(nc, NAN)
    asym_c = np.full(nc, NAN)
    porg = np.full(nc, NAN)
    ring_c = np.full(nc, OUTSIDER, dtype=np.int64)
    for c in prange(nc):
        s = primary[c]
        if s < 0:
            continue
        g = rules.gift_now(gift[c, s], last[c, s], t, P)
        trust_c[c] = rules.combined_trust(ti[c, s], te[c, s], g, ntr[c, s], P)
        ti_c[c] = rules.instrumental_now(ti[c, s], g, P)
        te_c[c] = te[c, s]
        ring_c[c] = ring[c, s]
        asym_c[c] = asym[c, s]
        porg[c] = org[c, sp_firm[s]]
    means = summarize(
        seed,
        t,
        counts,
        start_sp,
        primary,
        trust_c,
        ti_c,
        te_c,
        ring_c,
        asym_c,
        porg,
        org,
        cost,
        perf_c,
        depth_c,
        repeat,
        wom,
        aware,
        P,
    )
    return counts, means


def _compiled(parallel: bool):
    """``step`` compiled serially or with parallel customer loops.

    Two compiled copies under different names, so that their on-disk caches never mix.
    The serial one never starts numba's thread pool, so a process that only uses it can
    fork (process pools) and run in several threads at once (dask workers).
    """
    name = "step_parallel" if parallel else "step_serial"
    fn = types.FunctionType(step.__code__, step.__globals__, name, step.__defaults__)
    fn.__qualname__ = name
    return njit(cache=True, parallel=parallel)(fn)


step_serial = _compiled(parallel=False)
step_parallel = _compiled(parallel=True)


class CoreModel:
    """Array state plus a step driver: the fast engine, with the Mesa model's interface."""

    def __init__(
        self, scenario: Scenario | None = None, seed: int | None = None, world: World | None = None
    ):
        self.params = scenario or Scenario()
        self.seed = self.params.run.seed if seed is None else seed
        self.P = param_record(self.params)
        self.world = w = world or build_world(self.params, self.seed)
        self.history = self.params.run.history
        nc, ns = w.n_customers, w.n_salespeople
        self.steps = 0
        self.sp_firm = w.sp_firm.copy()
        self.primary = np.full(nc, -1, dtype=np.int64)
        self.org = np.repeat(w.propensity[:, None], w.n_firms, axis=1)
        self.aware = np.zeros(nc, dtype=np.bool_)
        self.met = np.zeros((nc, ns), dtype=np.bool_)
        self.ti, self.te, self.gift, self.scar, self.asym = (np.zeros((nc, ns)) for _ in range(5))
        self.ring = np.full((nc, ns), OUTSIDER, dtype=np.int64)
        self.rorigin = np.zeros((nc, ns), dtype=np.int64)
        self.last = np.zeros((nc, ns), dtype=np.int64)
        self.ntr = np.zeros((nc, ns), dtype=np.int64)
        slots = 3 * nc if self.history else 1  # turnover, offer and encounter slot per customer
        self._log = np.zeros((slots, len(LOG_COLUMNS)))
        self._logged = np.zeros(slots, dtype=np.bool_)
        self.rows: list[dict[str, float]] = []
        self.events: list[np.ndarray] = []
        self.metrics: dict[str, float] = {}

    def step(self) -> None:
        self.steps += 1
        n = threads()
        if n > 1:
            numba.set_num_threads(n)
        w = self.world
        counts, means = (step_parallel if n > 1 else step_serial)(
            self.seed,
            self.steps,
            self.P,
            self.history,
            w.csr.indptr,
            w.csr.indices,
            w.csr.ring,
            w.propensity,
            w.risk,
            w.kin_salesperson,
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
            self.sp_firm,
            self.primary,
            self.org,
            self.aware,
            self.met,
            self.ti,
            self.te,
            self.ring,
            self.rorigin,
            self.last,
            self.gift,
            self.scar,
            self.asym,
            self.ntr,
            self._log,
            self._logged,
        )
        if self.history:
            self.events.append(self._log[self._logged])
        out: dict[str, float] = {k: int(v) for k, v in zip(COUNTERS, counts)}
        out.update(zip(MEANS, means.tolist()))
        self.metrics = out
        self.rows.append(out)
