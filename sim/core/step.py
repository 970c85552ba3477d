"""The fast core: the schedule of docs/ODD.md §3 as numba loops over arrays.

Same phases and the same rule calls as :mod:`trustsim.mesa_model.agents`; relationships are
per-customer blocks of packed records (:mod:`trustsim.core.relstore`), ties a CSR. ``CoreModel`` drives it step by step.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from trustsim import rules
from trustsim.codes import (
    CLOSED,
    COLD,
    CONTACT,
    D_CHOOSE,
    D_REPLACE,
    ELSEWHERE,
    FIRST_TRY,
    HANDOVER,
    KIN,
    OUTSIDER,
    REFERRAL,
)
from trustsim.core.eventlog import log_event
from trustsim.core.prefetch import AHEAD, prefetch
from trustsim.core.relations import (
    better_known,
    ensure_relationship,
    record_gift,
    record_trust,
    record_weight,
    start_relationship,
)
from trustsim.core.relstore import (
    START,
    copy_record,
    find,
    make_own,
    make_room,
)
from trustsim.core.state import State
from trustsim.jit import variant
from trustsim.measure import Census, summarize, summarize_parallel
from trustsim.metrics import (
    EV_ENCOUNTER,
    EV_OFFER,
    EV_TURNOVER,
    I_BREACH_EXITS,
    I_BREACHES,
    I_CHURNED,
    I_COLD,
    I_COMPLAINTS,
    I_ENCOUNTERS,
    I_FAILURES,
    I_FOLLOWED,
    I_FORGIVEN,
    I_LOOKED_ELSEWHERE,
    I_LOST_TO_OTHER_FIRM,
    I_LOST_TO_RIVAL,
    I_MOVES,
    I_NEEDS,
    I_OFFERS,
    I_REFERRALS,
    I_STAYED,
    I_STOP_CONTACT,
    I_SWITCHES,
    I_TRADES,
    I_TRADES_ELSEWHERE,
    I_UNSERVED,
    I_WITH_START,
    I_WOM_NEG,
    I_WOM_POS,
)
from trustsim.rng import index

NAN = np.nan


@njit(cache=True)
def _index_staff(sp_firm, staff_ptr, staff):
    """Each firm's salespeople in id order: firm f's are ``staff[staff_ptr[f] :
    staff_ptr[f + 1]]`` (a counting sort, once per step after the moves, so a handover or
    a switch does not scan every salesperson)."""
    staff_ptr[:] = 0
    for s in range(sp_firm.shape[0]):
        staff_ptr[sp_firm[s] + 1] += 1
    for f in range(staff_ptr.shape[0] - 1):
        staff_ptr[f + 1] += staff_ptr[f]
    fill = staff_ptr[:-1].copy()
    for s in range(sp_firm.shape[0]):
        f = sp_firm[s]
        staff[fill[f]] = s
        fill[f] += 1


def step(seed, t, P, history, world, state, scratch, parts=1):
    """Advance the world one step; returns (counts, means, recs, sid). ``parts``: how many
    ranges of listeners word of mouth is split into (the number of threads; any value
    gives the same result).

    Customer loops are numba ``prange`` loops: each iteration writes only its own
    customer's state and log slot, and events are counted by reduction, so the result
    does not depend on the number of threads (NUMBA_NUM_THREADS).

    The three NamedTuples are unpacked here, first, and never touched again: numba 0.68
    silently drops writes made in a ``prange`` loop whose body mentions a tuple (even
    writes to other arrays). tests/test_determinism.py would catch it (1 vs 2 threads).
    """
    (
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
        tab,
    ) = world
    sp_firm, primary, org, aware, recs, sid, blk, top, pending = state
    (
        log,
        logged,
        before,
        counts,
        start_sp,
        choice,
        origin,
        ref_ring,
        wom,
        wom_firm,
        depth_c,
        stage_of,
        ring_c,
        ref_trust,
        cost,
        perf_c,
        trust_c,
        ti_c,
        te_c,
        asym_c,
        porg,
        repeat,
        moved_from,
        demand,
        staff_ptr,
        staff,
        want,
        served,
        look,
        cap_left,
        own_trust,
    ) = scratch

    nc, ns, nf = propensity.shape[0], sp_firm.shape[0], quality.shape[0]
    limit = int(P[0].population.max_relationships)
    counts[:] = 0
    if history:
        logged[:] = False
    choice[:] = -1
    origin[:] = COLD
    ref_trust[:] = 0.0
    ref_ring[:] = OUTSIDER
    wom[:] = 0
    wom_firm[:] = -1
    cost[:] = NAN
    perf_c[:] = NAN
    depth_c[:] = 0
    repeat[:] = False
    start_sp[:] = primary
    counts[I_WITH_START] = np.sum(primary >= 0)

    # Phase 1: turnover. Salespeople move, then their customers follow or stay.
    moved_from[:] = -1
    any_moved = False
    for s in range(ns):
        if rules.moves(seed, t, s, P):
            to = rules.rival_firm(seed, t, s, 1, sp_firm[s], nf)
            if to != sp_firm[s]:
                moved_from[s] = sp_firm[s]
                sp_firm[s] = to
                counts[I_MOVES] += 1
                any_moved = True
    _index_staff(sp_firm, staff_ptr, staff)
    if any_moved:
        recs, sid = make_room(recs, sid, blk, top, pending, limit)
    n_followed = n_stayed = 0
    for c in prange(nc if any_moved else 0):
        s = primary[c]
        if s < 0 or moved_from[s] < 0:
            continue
        f_old = moved_from[s]
        r = before[c]  # a copy: the customer may forget s when it starts the handover
        copy_record(r, recs[blk[c, START]])  # its own salesperson's, first in its block
        personal = record_trust(r, t, P, tab)
        o = org[c, f_old]
        followed = rules.follows(seed, t, c, s, personal, o, P)
        i = -1  # slot of the successor's relationship, when there is one
        if followed:
            n_followed += 1
        else:
            n_stayed += 1
            primary[c] = -1
            k = staff_ptr[f_old + 1] - staff_ptr[f_old]
            if k > 0:
                new = staff[staff_ptr[f_old] + index(seed, t, c, f_old, D_REPLACE, k)]
                t0 = rules.initial_trust(HANDOVER, propensity[c], 0.0, OUTSIDER, o, P)
                i, filled = ensure_relationship(recs, sid, blk, c, new, -1, HANDOVER, t0, t)
                pending[c] = pending[c] or filled
                primary[c] = new
        if history:
            log_event(
                log,
                logged,
                c,
                t,
                EV_TURNOVER,
                c,
                s,
                f_old,
                r,
                r,
                trust_before=personal,
                org_trust=o,
                followed=followed,
            )
        if i >= 0:  # after the log, which shows the copy r; r then serves as the spare
            make_own(recs, sid, blk, c, i, r)

    counts[I_FOLLOWED], counts[I_STAYED] = n_followed, n_stayed

    # Phase 2: competitor offers against the exit barrier.
    recs, sid = make_room(recs, sid, blk, top, pending, limit)
    n_offers = n_switches = 0
    for c in prange(nc):
        s = primary[c]
        if s < 0 or nf < 2 or not rules.offer_arrives(seed, t, c, P):
            continue
        r = recs[blk[c, START]]
        trust = record_trust(r, t, P, tab)
        discount, switched = rules.competitor_offer(seed, t, c, trust, r.ring, P)
        i = -1
        n_offers += 1
        if switched:
            rival = rules.rival_firm(seed, t, c, 0, sp_firm[s], nf)
            k = staff_ptr[rival + 1] - staff_ptr[rival]
            switched = k > 0
            if switched:
                new = staff[staff_ptr[rival] + index(seed, t, c, rival, D_REPLACE, k)]
                t0 = rules.initial_trust(COLD, propensity[c], 0.0, OUTSIDER, 0.0, P)
                i, filled = ensure_relationship(recs, sid, blk, c, new, s, COLD, t0, t)
                pending[c] = pending[c] or filled
                primary[c] = new
                n_switches += 1
        if history:
            log_event(
                log,
                logged,
                nc + c,
                t,
                EV_OFFER,
                c,
                s,
                sp_firm[s],
                r,
                r,
                trust_before=trust,
                discount=discount,
                switched=switched,
            )
        if i >= 0:  # after the log, which shows the relationship left (r)
            make_own(recs, sid, blk, c, i, before[c])

    counts[I_OFFERS], counts[I_SWITCHES] = n_offers, n_switches

    # Phase 3: who needs to buy, and from whom. Each customer's trust in its own salesperson
    # first, once, for the ties that ask it for a referral (nothing it depends on changes
    # in this phase).
    for c in prange(nc):
        prefetch(recs, blk[min(c + AHEAD, nc - 1), START])  # a hint only (trustsim.core.prefetch)
        s = primary[c]
        own_trust[c] = record_trust(recs[blk[c, START]], t, P, tab) if s >= 0 else NAN
    n_needs = 0
    for c in prange(nc):
        if not rules.needs_to_buy(seed, t, c, P):
            continue
        n_needs += 1
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
            tj = own_trust[j]
            if rules.trusted_enough_to_refer(tj, P):
                choice[c] = sj
                origin[c] = REFERRAL
                ref_trust[c] = tj
                ref_ring[c] = tie_ring[k]
                break
        if choice[c] < 0:
            choice[c] = index(seed, t, c, 0, D_CHOOSE, ns)
    counts[I_NEEDS] = n_needs

    # Phase 4: encounters through the sales stages; trades. Round FIRST_TRY meets the
    # chosen salesperson; round ELSEWHERE (7.14) takes needs that did not close to someone
    # else, chosen after every first try is over and served from the capacity left.
    want[:] = choice  # whom each customer meets in this round (-1: nobody)
    cap_left[:] = capacity  # capacity left for this round
    served[:] = False
    look[:] = False
    n_unserved = n_served = n_referrals = n_cold = 0
    n_trades = n_failures = n_breaches = n_complaints = n_forgiven = n_churned = 0
    n_wom_pos = n_wom_neg = 0
    n_looked = n_elsewhere = n_lost = n_lost_firm = n_breach_exits = 0
    for rnd in range(FIRST_TRY, ELSEWHERE + 1):
        if rnd == ELSEWHERE:
            for c in range(nc):
                if served[c]:
                    cap_left[choice[c]] = max(cap_left[choice[c]] - 1, 0)
            want[:] = -1
            for c in prange(nc):
                if not look[c]:
                    continue
                s1 = choice[c]
                origin[c], ref_trust[c], ref_ring[c] = COLD, 0.0, OUTSIDER
                best = better_known(recs, sid, blk, c, s1, t, P, tab)
                if best >= 0:  # a salesperson met before, trusted more
                    want[c] = best
                elif kin[c] >= 0 and kin[c] != s1:
                    want[c] = kin[c]
                    origin[c] = KIN
                else:
                    for k in range(indptr[c], indptr[c + 1]):
                        j = indices[k]
                        sj = primary[j]
                        if sj < 0 or sj == s1:
                            continue
                        if not rules.refers_elsewhere(seed, t, c, j, tie_ring[k], P):
                            continue
                        tj = record_trust(recs[blk[j, START]], t, P, tab)  # j's own
                        if rules.trusted_enough_to_refer(tj, P):
                            want[c] = sj
                            origin[c] = REFERRAL
                            ref_trust[c] = tj
                            ref_ring[c] = tie_ring[k]
                            break
                    if want[c] < 0:  # a cold contact at a rival firm
                        rival = rules.elsewhere_firm(seed, t, c, sp_firm[s1], nf)
                        n_staff = 0
                        if rival != sp_firm[s1]:
                            n_staff = staff_ptr[rival + 1] - staff_ptr[rival]
                        if n_staff > 0:
                            pick = rules.elsewhere_pick(seed, t, c, rival, n_staff)
                            want[c] = staff[staff_ptr[rival] + pick]
                        else:
                            want[c] = rules.other_salesperson(seed, t, c, s1, ns)
                if want[c] >= 0:
                    n_looked += 1
        demand[:] = 0
        for c in range(nc):
            if want[c] >= 0:
                demand[want[c]] += 1
        stage_of[:] = -1
        recs, sid = make_room(recs, sid, blk, top, pending, limit)
        for c in prange(nc):
            prefetch(recs, blk[min(c + AHEAD, nc - 1), START])
            s = want[c]
            if s < 0:
                continue
            if not rules.capacity_accept(seed, t, c, s, demand[s], cap_left[s], P):
                n_unserved += 1
                continue
            n_served += 1
            if rnd == FIRST_TRY:
                served[c] = True
            f = sp_firm[s]
            o = org[c, f]
            i = blk[c, START] if s == primary[c] else find(sid, blk, c, s)
            if i < 0:
                if origin[c] == REFERRAL:
                    n_referrals += 1
                elif origin[c] == COLD:
                    n_cold += 1
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
                if history:
                    log_event(
                        log,
                        logged,
                        slot,
                        t,
                        EV_ENCOUNTER,
                        c,
                        s,
                        f,
                        r,
                        r,
                        stage=stage,
                        trust_before=trust,
                        trust_after=trust,
                        org_trust=o,
                        elsewhere=rnd == ELSEWHERE,
                    )
                continue
            # the trade
            b = before[c]
            copy_record(b, r)
            depth = rules.needs_depth(seed, t, c, s, b.ring, empathy[s], P)
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
            tcost = rules.transaction_cost(trust, b.asym, P)
            if breach:
                nti, nte, ngift, nscar = rules.breach_loss(b.ti, b.te, P)
                nasym = b.asym
            else:
                nti, nte, ngift, nscar, nasym = rules.learn(
                    b.ti,
                    b.te,
                    g,
                    b.scar,
                    b.asym,
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
                    seed, t, c, s, trust, nti, nte, b.ring, recovery[f], P
                )
            r.ti, r.te, r.gift, r.scar, r.asym = nti, nte, ngift, nscar, nasym
            r.n_trades = b.n_trades + 1
            r.last_step = t
            r.misses = 0
            after = rules.weighted_trust(nti, nte, ngift, record_weight(r.n_trades, P, tab), P)
            r.ring = rules.ring_after(b.ring, after, r.n_trades, breach, P)
            left = False
            if breach and not exited:
                lost = max(trust - after, 0.0)
                left = rules.leaves_after_breach(seed, t, c, s, lost, b.ring, P)
            org[c, f] = rules.org_learn(
                o, perf, failed, forgiven, breach, recovery[f], social[f], b.asym, P
            )
            bad = breach or (failed and not forgiven)
            wom[c] = rules.wom_sign(
                seed, t, c, s, rules.satisfaction(perf, depth, b.ti, P), bad, failed, P
            )
            wom_firm[c] = f
            old = primary[c]
            lost_sp = old if old >= 0 and old != s else -1
            primary[c] = -1 if exited or left else s
            cost[c], perf_c[c], depth_c[c], repeat[c] = tcost, perf, depth, b.n_trades > 0
            n_trades += 1
            n_failures += 1 if failed else 0
            n_breaches += 1 if breach else 0
            n_complaints += 1 if complained else 0
            n_forgiven += 1 if forgiven else 0
            n_churned += 1 if exited else 0
            n_breach_exits += 1 if left else 0
            n_elsewhere += 1 if rnd == ELSEWHERE else 0
            n_lost += 1 if lost_sp >= 0 else 0
            n_lost_firm += 1 if lost_sp >= 0 and sp_firm[lost_sp] != f else 0
            n_wom_pos += 1 if wom[c] > 0 else 0
            n_wom_neg += 1 if wom[c] < 0 else 0
            if history:
                log_event(
                    log,
                    logged,
                    slot,
                    t,
                    EV_ENCOUNTER,
                    c,
                    s,
                    f,
                    b,
                    r,
                    stage=CLOSED,
                    trust_before=trust,
                    trust_after=after,
                    org_trust=o,
                    perf=perf,
                    depth=depth,
                    cost=tcost,
                    breach=breach,
                    failed=failed,
                    forgiven=forgiven,
                    complained=complained,
                    exited=exited,
                    wom=wom[c],
                    elsewhere=rnd == ELSEWHERE,
                    lost_salesperson=lost_sp,
                    breach_exit=left,
                )
            if primary[c] == s:  # after the log, which shows the record (r) at slot i
                make_own(recs, sid, blk, c, i, b)
        for c in range(nc):
            if 0 <= stage_of[c] < CLOSED:
                counts[I_STOP_CONTACT + stage_of[c] - CONTACT] += 1
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
        (I_BREACH_EXITS, n_breach_exits),
        (I_LOOKED_ELSEWHERE, n_looked),
        (I_TRADES_ELSEWHERE, n_elsewhere),
        (I_LOST_TO_RIVAL, n_lost),
        (I_LOST_TO_OTHER_FIRM, n_lost_firm),
    ):
        counts[k] = n

    # Phase 5: word of mouth along the ties, weighted by ring. Pushed from the few
    # speakers, in speaker-id order: each listener hears its speakers in the same order as
    # when it pulls from its sorted tie list (Customer.listen), so results are identical.
    # Each thread takes the listeners of one range of ids, so threads never write the same
    # customer and every listener still hears in that order, whatever the number of threads.
    speakers = np.flatnonzero(wom)
    for part in prange(parts):
        lo, hi = part * nc // parts, (part + 1) * nc // parts
        for j in speakers:
            fj = wom_firm[j]
            for k in range(indptr[j], indptr[j + 1]):
                c = indices[k]
                if lo <= c < hi:
                    org[c, fj] = rules.wom_receive(org[c, fj], wom[j], tie_ring[k], P)
                    aware[c] = True

    # Measurement.
    for c in prange(nc):
        prefetch(recs, blk[min(c + AHEAD, nc - 1), START])
        s = primary[c]
        if s < 0:
            trust_c[c] = ti_c[c] = te_c[c] = asym_c[c] = porg[c] = NAN
            ring_c[c] = OUTSIDER
            continue
        r = recs[blk[c, START]]
        g = record_gift(r, t, P, tab)
        trust_c[c] = rules.weighted_trust(r.ti, r.te, g, record_weight(r.n_trades, P, tab), P)
        ti_c[c] = rules.instrumental_now(r.ti, g, P)
        te_c[c] = r.te
        ring_c[c] = r.ring
        asym_c[c] = r.asym
        porg[c] = org[c, sp_firm[s]]
    census = Census(
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
    )
    means = summarize(seed, t, counts, census, P)
    return counts, means, recs, sid


def _compiled(parallel: bool):
    """``step`` compiled serially or with parallel customer loops (and summary).

    The serial one never starts numba's thread pool, so a process that only uses it can
    fork (process pools) and run in several threads at once (dask workers).
    """
    if parallel:
        return variant(step, "step_parallel", True, summarize=summarize_parallel)
    return variant(step, "step_serial")


step_serial = _compiled(parallel=False)
step_parallel = _compiled(parallel=True)


def run_steps(seed, first, k, P, world, state, scratch, counts_out, means_out, parts):
    """Steps ``first .. first + k - 1`` without the event log, in one compiled call: a
    call from Python costs ~12 us of argument unboxing, as much as a step of a small
    world. Row i of ``counts_out`` and ``means_out`` gets step ``first + i``'s summary.
    Returns the relationship pool (recs, sid), which may have grown."""
    sp_firm, primary, org, aware, recs, sid, blk, top, pending = state
    for i in range(k):
        now = State(sp_firm, primary, org, aware, recs, sid, blk, top, pending)
        counts, means, recs, sid = _step(seed, first + i, P, False, world, now, scratch, parts)  # noqa: F821 (bound by _runner)
        counts_out[i, :] = counts
        means_out[i, :] = means
    return recs, sid


def _runner(parallel: bool):
    """``run_steps`` bound to the serial or the parallel step (two cached copies)."""
    if parallel:
        return variant(run_steps, "run_steps_parallel", _step=step_parallel)
    return variant(run_steps, "run_steps_serial", _step=step_serial)


run_steps_serial = _runner(parallel=False)
run_steps_parallel = _runner(parallel=True)
