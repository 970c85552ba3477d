"""Phase 4 of the core's step (docs/ODD.md §3): a round of encounters through the sales
stages, and the trades, as the Mesa engine's ``Customer.meet`` and ``Customer.meet_elsewhere``
(through ``Customer.encounter`` and ``Customer.trade``).

A round writes, per customer, the stage its encounter reached (``stage_of``) and what came
of it as bits (``outcome``); :func:`tally` then counts both in id order, so the counts do
not depend on the number of threads.
"""

from __future__ import annotations

from numba import njit, prange

from trustsim import rules
from trustsim.codes import CLOSED, COLD, CONTACT, ELSEWHERE, FIRST_TRY, REFERRAL
from trustsim.core.eventlog import log_event
from trustsim.core.layout import SLOT_LEFT
from trustsim.core.prefetch import AHEAD, prefetch
from trustsim.core.relations import record_gift, record_weight, start_relationship
from trustsim.core.relstore import START, copy_record, find, make_own
from trustsim.metrics import (
    EV_ENCOUNTER,
    EV_LEFT_MARKET,
    I_BREACH_EXITS,
    I_BREACHES,
    I_CHURNED,
    I_COLD,
    I_COMPLAINTS,
    I_ENCOUNTERS,
    I_FAILURES,
    I_FORGIVEN,
    I_GAVE_UP,
    I_LEFT_MARKET,
    I_LOST_TO_OTHER_FIRM,
    I_LOST_TO_RIVAL,
    I_REFERRALS,
    I_STOP_CONTACT,
    I_TRADES,
    I_TRADES_ELSEWHERE,
    I_UNSERVED,
    I_WOM_NEG,
    I_WOM_POS,
)

# The bits of an encounter's outcome, the most frequent first; bit k adds one to counter
# TALLIED[k] (tally stops at the highest bit set).
TALLIED = (
    I_TRADES,
    I_WOM_POS,
    I_COLD,
    I_TRADES_ELSEWHERE,
    I_LOST_TO_RIVAL,
    I_LOST_TO_OTHER_FIRM,
    I_REFERRALS,
    I_FAILURES,
    I_FORGIVEN,
    I_WOM_NEG,
    I_BREACHES,
    I_COMPLAINTS,
    I_BREACH_EXITS,
    I_CHURNED,
    I_LEFT_MARKET,
    I_GAVE_UP,
)
(
    TRADED,
    PRAISED,
    MET_COLD,
    TRADED_ELSEWHERE,
    LOST,
    LOST_FIRM,
    MET_BY_REFERRAL,
    FAILED,
    FORGIVEN,
    WARNED,
    BREACH,
    COMPLAINED,
    LEFT,
    EXITED,
    LEFT_MARKET,
    GAVE_UP,
) = (1 << k for k in range(len(TALLIED)))
UNSERVED = -2  # stage_of: turned away by capacity (-1: no encounter)


@njit(cache=True)
def open_round(want, demand, stage_of):
    """Before a round: each salesperson's demand, the customers who want it (7.3)."""
    demand[:] = 0
    for c in range(want.shape[0]):
        if want[c] >= 0:
            demand[want[c]] += 1
    stage_of[:] = -1


@njit(cache=True)
def capacity_left(choice, served, capacity, cap_left):
    """Before the second try: each salesperson's capacity less the customers it served in
    the first."""
    cap_left[:] = capacity
    for c in range(choice.shape[0]):
        if served[c]:
            cap_left[choice[c]] = max(cap_left[choice[c]] - 1, 0)


def meet(rnd, seed, t, P, history, want, demand, cap_left, served, look, stage_of, outcome,
         origin, ref_trust, ref_ring, primary, sp_firm, org, aware, recs, sid, blk, pending,
         before, propensity, risk, price, competence, integrity, empathy, strategy, quality,
         consistency, failure_rate, recovery, transparency, social, wom, wom_firm, cost, perf_c,
         depth_c, repeat, tab, log, logged, counts, basket, dropout, in_market,
         revenue):  # fmt: skip
    """Phase 4a or 4c, round ``rnd`` (``Customer.encounter``): each customer meets ``want[c]``
    if capacity lets it, starts the relationship if new, and walks the sales stages; an
    encounter that closes is a :func:`trade`. Adds the round's events to ``counts``."""
    nc = want.shape[0]
    for c in prange(nc):
        prefetch(recs, blk[min(c + AHEAD, nc - 1), START])
        s = want[c]
        if s < 0:
            continue
        if not rules.capacity_accept(seed, t, c, s, demand[s], cap_left[s], P):
            stage_of[c] = UNSERVED
            continue
        if rnd == FIRST_TRY:
            served[c] = True
        f = sp_firm[s]
        o = org[c, f]
        i = blk[c, START] if s == primary[c] else find(sid, blk, c, s)
        outcome[c] = 0
        if i < 0:
            outcome[c] = MET_BY_REFERRAL * (origin[c] == REFERRAL) + MET_COLD * (origin[c] == COLD)
            t0 = rules.initial_trust(origin[c], propensity[c], ref_trust[c], ref_ring[c], o, P)
            i, filled = start_relationship(recs, sid, blk, c, s, primary[c], origin[c], t0, t)
            pending[c] = pending[c] or filled
        r = recs[i]
        aware[c] = True
        g = record_gift(r, t, P, tab)
        trust = rules.weighted_trust(r.ti, r.te, g, record_weight(r.n_trades, P, tab), P)
        dtrust = rules.decision_trust(trust, o, risk[c], r.asym, P)
        stage = rules.sales_stages(seed, t, c, s, dtrust, price[f], P)
        stage_of[c] = stage
        slot = (2 + rnd) * nc + c
        if stage < CLOSED:
            r.misses += 1
            if rnd == FIRST_TRY:
                look[c] = rules.looks_elsewhere(seed, t, c, s, trust, r.ring, r.misses, P)
            if rules.gives_up(r.misses, P):  # for good (7.14)
                r.refused = True
                outcome[c] |= GAVE_UP
                if s == primary[c]:
                    primary[c] = -1
                look[c] = look[c] or rnd == FIRST_TRY
            if history:
                log_event(log, logged, slot, t, EV_ENCOUNTER, c, s, f, r, r, stage=stage,
                          trust_before=trust, trust_after=trust, org_trust=o,
                          elsewhere=rnd == ELSEWHERE)  # fmt: skip
            continue
        b = before[c]
        perf, depth, tcost, after, bits = trade(seed, t, P, c, s, trust, g, r, b, competence[s],
            integrity[s], empathy[s], strategy[s], quality[f], consistency[f], failure_rate[f],
            recovery[f], transparency[f], tab)  # fmt: skip
        org[c, f], wom[c], bits = after_trade(seed, t, P, c, s, o, trust, after, perf, depth, bits,
                                              b, recovery[f], social[f])  # fmt: skip
        wom_firm[c] = f
        lost_sp = primary[c] if primary[c] >= 0 and primary[c] != s else -1
        primary[c] = -1 if bits & (EXITED | LEFT) else s
        revenue[c] = rules.trade_revenue(basket[c], price[f])
        if rules.leaves_market(seed, t, c, dropout[c], P):  # for good (7.18)
            in_market[c] = False
            primary[c] = -1
            bits += LEFT_MARKET
            if history:
                log_event(log, logged, SLOT_LEFT * nc + c, t, EV_LEFT_MARKET, c, s, f, r, r)
        cost[c], perf_c[c], depth_c[c], repeat[c] = tcost, perf, depth, b.n_trades > 0
        bits += LOST * (lost_sp >= 0) + LOST_FIRM * (lost_sp >= 0 and sp_firm[lost_sp] != f)
        if history:
            log_trade(log, logged, slot, t, c, s, f, b, r, trust, after, o, perf, depth, tcost,
                      bits, wom[c], rnd, lost_sp)  # fmt: skip
        if primary[c] == s:  # after the log, which shows the record (r) at slot i
            make_own(recs, sid, blk, c, i, b)
        outcome[c] |= bits + TRADED_ELSEWHERE * (rnd == ELSEWHERE)
    tally(stage_of, outcome, counts)


# trade and after_trade take attributes, not arrays: an array passed to a call costs
# reference counting, per trade.
@njit(cache=True)
def trade(seed, t, P, c, s, trust, g, r, b, competence, integrity, empathy, strategy, quality,
          consistency, failure_rate, recovery, transparency, tab):  # fmt: skip
    """The trade of a closed encounter (``Customer.trade``, 7.4-7.6, 7.9) with salesperson
    ``s`` of a firm of these attributes: the relationship ``r`` learns, ``b`` keeps it as it
    was. Returns (perf, depth, cost, trust after, the outcome's bits)."""
    copy_record(b, r)
    depth = rules.needs_depth(seed, t, c, s, b.ring, empathy, P)
    forced = rules.forced_breach(t, s, P)
    perf, breach, failed = rules.trade_outcome(
        seed, t, c, s, competence, integrity, quality, consistency, failure_rate, forced, P
    )
    tcost = rules.transaction_cost(trust, b.asym, P)
    if breach:
        nti, nte, ngift, nscar = rules.breach_loss(b.ti, b.te, P)
        nasym = b.asym
    else:
        nti, nte, ngift, nscar, nasym = rules.learn(
            b.ti, b.te, g, b.scar, b.asym, perf, depth, integrity, strategy, transparency, P
        )
    forgiven = complained = exited = False
    if failed:
        forgiven, complained, exited, nti, nte = rules.failure_response(
            seed, t, c, s, trust, nti, nte, b.ring, recovery, P
        )
    r.ti, r.te, r.gift, r.scar, r.asym = nti, nte, ngift, nscar, nasym
    r.n_trades = b.n_trades + 1
    r.last_step = t
    r.misses = 0
    after = rules.weighted_trust(nti, nte, ngift, record_weight(r.n_trades, P, tab), P)
    r.ring = rules.ring_after(b.ring, after, r.n_trades, breach, P)
    bits = TRADED + FAILED * failed + BREACH * breach + COMPLAINED * complained
    return perf, depth, tcost, after, bits + FORGIVEN * forgiven + EXITED * exited


@njit(cache=True)
def after_trade(seed, t, P, c, s, o, trust, after, perf, depth, bits, b, recovery, social):
    """The customer's side of a trade (``Customer.trade``, 7.5, 7.7, 7.10, 7.15): leaving
    after a breach, organizational trust ``o`` in the firm, word of mouth. Returns the new
    organizational trust, the word of mouth (-1, 0, 1) and the outcome's bits."""
    breach, failed = (bits & BREACH) != 0, (bits & FAILED) != 0
    forgiven, exited = (bits & FORGIVEN) != 0, (bits & EXITED) != 0
    left = False
    if breach and not exited:
        lost = max(trust - after, 0.0)
        left = rules.leaves_after_breach(seed, t, c, s, lost, b.ring, P)
    org = rules.org_learn(o, perf, failed, forgiven, breach, recovery, social, b.asym, P)
    bad = breach or (failed and not forgiven)
    sat = rules.satisfaction(perf, depth, b.ti, P)
    wom = rules.wom_sign(seed, t, c, s, sat, bad, failed, P)
    return org, wom, bits + LEFT * left + PRAISED * (wom > 0) + WARNED * (wom < 0)


@njit(cache=True)
def log_trade(log, logged, slot, t, c, s, f, b, r, trust, after, o, perf, depth, tcost, bits,
              wom, rnd, lost_sp):  # fmt: skip
    """Event-log row of a trade: the relationship before (``b``) and after (``r``)."""
    log_event(log, logged, slot, t, EV_ENCOUNTER, c, s, f, b, r, stage=CLOSED,
              trust_before=trust, trust_after=after, org_trust=o, perf=perf, depth=depth,
              cost=tcost, breach=(bits & BREACH) != 0, failed=(bits & FAILED) != 0,
              forgiven=(bits & FORGIVEN) != 0, complained=(bits & COMPLAINED) != 0,
              exited=(bits & EXITED) != 0, wom=wom, elsewhere=rnd == ELSEWHERE,
              lost_salesperson=lost_sp, breach_exit=(bits & LEFT) != 0)  # fmt: skip


@njit(cache=True)
def tally(stage_of, outcome, counts):
    """Count a round in id order: turned away, served, the stage an unclosed encounter
    stopped at, and each bit of every served customer's outcome."""
    for c in range(stage_of.shape[0]):
        stage = stage_of[c]
        if stage == UNSERVED:
            counts[I_UNSERVED] += 1
        if stage < 0:
            continue
        counts[I_ENCOUNTERS] += 1
        if stage < CLOSED:
            counts[I_STOP_CONTACT + stage - CONTACT] += 1
        bits = outcome[c]
        k = 0
        while bits:
            counts[TALLIED[k]] += bits & 1
            bits >>= 1
            k += 1
