"""The phases of the core's step (docs/ODD.md §3), in order, each named as the step of the
Mesa engine it mirrors (``TrustModel.step``, :mod:`trustsim.mesa_model.agents`); the
encounters of phase 4 are in :mod:`trustsim.core.meet`.

Every phase takes plain arrays, never one of the core's named tuples: numba 0.68 silently
drops writes made in a ``prange`` loop whose body mentions a tuple (even writes to other
arrays). A phase with customer loops is compiled serially and in parallel (``PARALLEL``,
through :func:`trustsim.jit.variant`); each iteration writes only its own customer's state
and log slot, and events are counted by reduction or in id order afterwards, so results do
not depend on the number of threads. Phases that may fill a customer's block of
relationships set ``pending``; only ``step`` then calls ``make_room`` and rebinds the pool.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from trustsim import rules
from trustsim.codes import (
    COLD,
    D_CHOOSE,
    D_REPLACE,
    HANDOVER,
    KIN,
    OUTSIDER,
    REASSIGN_BEST,
    REFERRAL,
)
from trustsim.core.eventlog import log_event
from trustsim.core.layout import SLOT_INTRODUCED
from trustsim.core.prefetch import AHEAD, prefetch
from trustsim.core.relations import (
    allowed,
    better_known,
    ensure_relationship,
    n_refused,
    record_gift,
    record_trust,
    record_weight,
    refuses,
)
from trustsim.core.relstore import COUNT, START, copy_record, find, make_own
from trustsim.measure import Census, summarize
from trustsim.metrics import (
    EV_INTRODUCED,
    EV_OFFER,
    EV_TURNOVER,
    I_FOLLOWED,
    I_INTRODUCED,
    I_LOOKED_ELSEWHERE,
    I_MOVES,
    I_NEEDS,
    I_OFFERS,
    I_STAYED,
    I_SWITCHES,
    I_WITH_START,
)
from trustsim.rng import index

NAN = np.nan


def begin_step(history, primary, logged, counts, start_sp, choice, origin, ref_trust, ref_ring,
               wom, wom_firm, cost, perf_c, depth_c, repeat, served, look, revenue):  # fmt: skip
    """Phase 0 (``Customer.begin_step``): clear the per-step scratch; count customers with
    a salesperson."""
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
    served[:] = False
    look[:] = False
    revenue[:] = NAN
    start_sp[:] = primary
    counts[I_WITH_START] = np.sum(primary >= 0)


@njit(cache=True)
def move_salespeople(seed, t, P, sp_firm, moved_from, staff_ptr, staff, counts):
    """Phase 1a (``Salesperson.consider_moving``): each salesperson may move to a rival
    firm; then each firm's staff in id order. Returns whether anyone moved."""
    nf = staff_ptr.shape[0] - 1
    moved_from[:] = -1
    any_moved = False
    for s in range(sp_firm.shape[0]):
        if rules.moves(seed, t, s, P):
            to = rules.rival_firm(seed, t, s, 1, sp_firm[s], nf)
            if to != sp_firm[s]:
                moved_from[s] = sp_firm[s]
                sp_firm[s] = to
                counts[I_MOVES] += 1
                any_moved = True
    index_staff(sp_firm, staff_ptr, staff)
    return any_moved


@njit(cache=True)
def index_staff(sp_firm, staff_ptr, staff):
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


def meet_successors(seed, t, P, history, primary, sp_firm, moved_from, org, propensity, recs,
                    sid, blk, pending, before, staff_ptr, staff, tab, log, logged,
                    counts):  # fmt: skip
    """Phase 1, managed handover (``Customer.meet_successor``, 7.11): a customer whose
    salesperson's move is announced meets a colleague in a joint visit that carries over
    part of its trust."""
    nc = primary.shape[0]
    notice = int(P[0].turnover.notice)
    n_introduced = 0
    for c in prange(nc):
        s = primary[c]
        if s < 0 or not rules.announced(seed, t, s, P):
            continue
        f = sp_firm[s] if notice > 0 else moved_from[s]
        if f < 0:  # a move announced for now that did not happen (no rival firm)
            continue
        lo, k = staff_ptr[f], staff_ptr[f + 1] - staff_ptr[f]
        mine = 1 if sp_firm[s] == f else 0  # s is among f's staff unless it just left
        if k - mine <= 0:
            continue
        pick = rules.introduced_pick(seed, t, c, s, k - mine)
        new = staff[lo + pick]  # the pick-th of f's staff by id, s left out
        if mine == 1 and new >= s:
            new = staff[lo + pick + 1]
        t0 = rules.initial_trust(HANDOVER, propensity[c], 0.0, OUTSIDER, org[c, f], P)
        i, filled = ensure_relationship(recs, sid, blk, c, new, s, HANDOVER, t0, t)
        pending[c] = pending[c] or filled
        own, r, b = recs[blk[c, START]], recs[i], before[c]
        copy_record(b, r)
        trust_before = record_trust(r, t, P, tab)
        r.ti = rules.introduced_trust(b.ti, own.ti, P)
        r.te = rules.introduced_trust(b.te, own.te, P)
        n_introduced += 1
        if history:
            log_event(log, logged, SLOT_INTRODUCED * nc + c, t, EV_INTRODUCED, c, new, f, b, r,
                      trust_before=trust_before, trust_after=record_trust(r, t, P, tab))  # fmt: skip
    counts[I_INTRODUCED] += n_introduced


@njit(cache=True)
def successor(seed, t, P, c, f_old, team, start_sp, sp_firm, competence, indptr, indices, recs,
              sid, blk, tab):  # fmt: skip
    """``Customer.successor`` (7.11): whom customer ``c`` gets among ``team``, the staff
    of ``f_old`` by id, if it stays: the best record, or a colleague it knows (met and
    trusted most, else its first tie's salesperson at the start of the step), else random."""
    if rules.policy(P) == REASSIGN_BEST:
        return team[rules.best_record(team, competence)]
    best, best_trust = -1, 0.0
    lo = blk[c, START]
    for i in range(lo, lo + blk[c, COUNT]):
        x = sid[i]
        if sp_firm[x] != f_old:
            continue
        tx = record_trust(recs[i], t, P, tab)
        if best < 0 or rules.preferred(tx, x, best_trust, best):
            best, best_trust = x, tx
    if best >= 0:
        return best
    for k in range(indptr[c], indptr[c + 1]):
        x = start_sp[indices[k]]
        if x >= 0 and sp_firm[x] == f_old:
            return x
    return team[index(seed, t, c, f_old, D_REPLACE, team.shape[0])]


def react_to_moves(seed, t, P, history, primary, start_sp, sp_firm, moved_from, org, propensity,
                   competence, indptr, indices, recs, sid, blk, pending, before, staff_ptr, staff,
                   tab, log, logged, counts):  # fmt: skip
    """Phase 1b (``Customer.react_to_moves``): a customer whose salesperson moved follows
    the person or stays with the firm (and gets a colleague there, if any), weighing the
    successor it would get when the firm's policy lets it know (7.11)."""
    n_followed = n_stayed = 0
    known = rules.successor_known(P)
    for c in prange(primary.shape[0]):
        s = primary[c]
        if s < 0 or moved_from[s] < 0:
            continue
        f_old = moved_from[s]
        r = before[c]  # a copy: the customer may forget s when it starts the handover
        copy_record(r, recs[blk[c, START]])  # its own salesperson's, first in its block
        personal = record_trust(r, t, P, tab)
        o = org[c, f_old]
        lo, k = staff_ptr[f_old], staff_ptr[f_old + 1] - staff_ptr[f_old]
        t0 = rules.initial_trust(HANDOVER, propensity[c], 0.0, OUTSIDER, o, P)
        new, heir = -1, NAN
        if k > 0 and known:
            new = successor(seed, t, P, c, f_old, staff[lo : lo + k], start_sp, sp_firm,
                            competence, indptr, indices, recs, sid, blk, tab)  # fmt: skip
            j = find(sid, blk, c, new)
            heir = (
                record_trust(recs[j], t, P, tab)
                if j >= 0
                else rules.combined_trust(t0, t0, 0.0, 0, P)
            )
        followed = rules.follows(seed, t, c, s, personal, o, heir, P)
        i = -1  # slot of the successor's relationship, when there is one
        if followed:
            n_followed += 1
        else:
            n_stayed += 1
            primary[c] = -1
            if k > 0:
                if new < 0:
                    new = staff[lo + index(seed, t, c, f_old, D_REPLACE, k)]
                i, filled = ensure_relationship(recs, sid, blk, c, new, -1, HANDOVER, t0, t)
                pending[c] = pending[c] or filled
                primary[c] = new
        if history:
            log_event(log, logged, c, t, EV_TURNOVER, c, s, f_old, r, r,
                      trust_before=personal, org_trust=o, followed=followed)  # fmt: skip
        if i >= 0:  # after the log, which shows the copy r; r then serves as the spare
            make_own(recs, sid, blk, c, i, r)
    counts[I_FOLLOWED] += n_followed
    counts[I_STAYED] += n_stayed


def consider_offers(seed, t, P, history, primary, sp_firm, propensity, recs, sid, blk, pending,
                    before, staff_ptr, staff, tab, log, logged, counts):  # fmt: skip
    """Phase 2 (``Customer.consider_offer``): a competitor's discount against the exit
    barrier; a customer who switches gets a salesperson of the rival firm."""
    nc, nf = primary.shape[0], staff_ptr.shape[0] - 1
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
            log_event(log, logged, nc + c, t, EV_OFFER, c, s, sp_firm[s], r, r,
                      trust_before=trust, discount=discount, switched=switched)  # fmt: skip
        if i >= 0:  # after the log, which shows the relationship left (r)
            make_own(recs, sid, blk, c, i, before[c])
    counts[I_OFFERS] += n_offers
    counts[I_SWITCHES] += n_switches


def choose_salespeople(seed, t, P, primary, in_market, purchase_rate, kin, indptr, indices,
                       tie_ring, recs, sid, blk, tab, choice, origin, ref_trust, ref_ring, ns,
                       counts):  # fmt: skip
    """Phase 3 (``Customer.choose_salesperson``): who needs to buy, and from whom: its own
    salesperson, kin, a tie's referral or a cold contact, never one it gave up on (7.14).
    A tie's trust in its own salesperson is read when that tie is asked (nothing it depends
    on changes in this phase, so every customer sees the same value)."""
    nc = primary.shape[0]
    give_up = P[0].mechanisms.give_up  # read before the loop: a parallel loop takes no record
    n_needs = 0
    for c in prange(nc):
        if not in_market[c] or not rules.needs_to_buy_at(seed, t, c, purchase_rate[c]):
            continue
        n_needs += 1
        if primary[c] >= 0:
            choice[c] = primary[c]
            continue
        refusing = give_up and n_refused(recs, sid, blk, c, -1) > 0
        if kin[c] >= 0 and not (refusing and refuses(recs, sid, blk, c, kin[c])):
            choice[c] = kin[c]
            origin[c] = KIN
            continue
        for k in range(indptr[c], indptr[c + 1]):
            j = indices[k]
            sj = primary[j]
            if sj < 0 or not rules.refers(seed, t, c, j, tie_ring[k], P):
                continue
            if refusing and refuses(recs, sid, blk, c, sj):
                continue
            tj = record_trust(recs[blk[j, START]], t, P, tab)
            if rules.trusted_enough_to_refer(tj, P):
                choice[c] = sj
                origin[c] = REFERRAL
                ref_trust[c] = tj
                ref_ring[c] = tie_ring[k]
                break
        if choice[c] < 0 and not refusing:
            choice[c] = index(seed, t, c, 0, D_CHOOSE, ns)
        elif choice[c] < 0:  # a cold contact among those it has not given up on
            ok = allowed(recs, sid, blk, c, np.arange(ns), -1)
            if ok.shape[0] > 0:
                choice[c] = ok[index(seed, t, c, 0, D_CHOOSE, ok.shape[0])]
    counts[I_NEEDS] += n_needs


def choose_elsewhere(seed, t, P, look, choice, want, origin, ref_trust, ref_ring, primary, kin,
                     sp_firm, indptr, indices, tie_ring, recs, sid, blk, staff_ptr, staff, tab,
                     counts):  # fmt: skip
    """Phase 4b (``Customer.choose_elsewhere``, 7.14): where a customer takes a need whose
    first try did not close: a salesperson met before and trusted more, kin, a tie's
    referral, or a cold contact at a rival firm (or with anyone else)."""
    ns, nf = sp_firm.shape[0], staff_ptr.shape[0] - 1
    give_up = P[0].mechanisms.give_up
    want[:] = -1
    n_looked = 0
    for c in prange(want.shape[0]):
        if not look[c]:
            continue
        s1 = choice[c]
        origin[c], ref_trust[c], ref_ring[c] = COLD, 0.0, OUTSIDER
        refusing = give_up and n_refused(recs, sid, blk, c, -1) > 0
        best = better_known(recs, sid, blk, c, s1, t, P, tab)
        if best >= 0:  # a salesperson met before, trusted more
            want[c] = best
        elif kin[c] >= 0 and kin[c] != s1 and not (refusing and refuses(recs, sid, blk, c, kin[c])):
            want[c] = kin[c]
            origin[c] = KIN
        else:
            for k in range(indptr[c], indptr[c + 1]):
                j = indices[k]
                sj = primary[j]
                if sj < 0 or sj == s1 or (refusing and refuses(recs, sid, blk, c, sj)):
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
            if want[c] < 0 and not refusing:  # a cold contact at a rival firm
                rival = rules.elsewhere_firm(seed, t, c, sp_firm[s1], nf)
                n_staff = 0
                if rival != sp_firm[s1]:
                    n_staff = staff_ptr[rival + 1] - staff_ptr[rival]
                if n_staff > 0:
                    pick = rules.elsewhere_pick(seed, t, c, rival, n_staff)
                    want[c] = staff[staff_ptr[rival] + pick]
                else:
                    want[c] = rules.other_salesperson(seed, t, c, s1, ns)
            elif want[c] < 0:  # the same, among those it has not given up on
                want[c] = cold_elsewhere_allowed(seed, t, c, s1, sp_firm, staff_ptr, staff,
                                                 recs, sid, blk)  # fmt: skip
        if want[c] >= 0:
            n_looked += 1
    counts[I_LOOKED_ELSEWHERE] += n_looked


@njit(cache=True)
def cold_elsewhere_allowed(seed, t, c, s1, sp_firm, staff_ptr, staff, recs, sid, blk):
    """Phase 4b's cold contact (``Customer.cold_elsewhere``) for a customer that has given
    up on someone: a rival firm's salesperson or any other, among those it may meet."""
    nf = staff_ptr.shape[0] - 1
    rival = rules.elsewhere_firm(seed, t, c, sp_firm[s1], nf)
    if rival != sp_firm[s1]:
        ok = allowed(recs, sid, blk, c, staff[staff_ptr[rival] : staff_ptr[rival + 1]], -1)
        if ok.shape[0] > 0:
            return ok[rules.elsewhere_pick(seed, t, c, rival, ok.shape[0])]
    ok = allowed(recs, sid, blk, c, np.arange(sp_firm.shape[0]), s1)
    k = rules.other_pick(seed, t, c, ok.shape[0])
    return ok[k] if k >= 0 else -1


def word_of_mouth(P, parts, wom, wom_firm, indptr, indices, tie_ring, org, aware):
    """Phase 5 (``Customer.listen``): word of mouth along the ties, weighted by ring.

    Pushed from the few speakers, in speaker-id order: each listener hears its speakers in
    the same order as when it pulls from its sorted tie list (``Customer.listen``), so
    results are identical. Each of ``parts`` threads takes the listeners of one range of
    ids, so threads never write the same customer and every listener still hears in that
    order, whatever the number of threads."""
    nc = wom.shape[0]
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


def measure(seed, t, P, counts, start_sp, primary, sp_firm, org, aware, recs, blk, tab, trust_c,
            ti_c, te_c, ring_c, asym_c, porg, cost, perf_c, depth_c, repeat, wom,
            revenue):  # fmt: skip
    """Phase 6 (``TrustModel.summarize``): each customer's trust in its own salesperson at
    the end of the step, then the shared summary (7.12). Returns the MEANS row."""
    for c in prange(primary.shape[0]):
        prefetch(recs, blk[min(c + AHEAD, primary.shape[0] - 1), START])
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
    census = Census(start_sp, primary, trust_c, ti_c, te_c, ring_c, asym_c, porg, org, cost,
                    perf_c, depth_c, repeat, wom, aware, revenue)  # fmt: skip
    return summarize(seed, t, counts, census, P)
