"""The fast core: the schedule of docs/ODD.md §3 as compiled phases over arrays.

``step`` calls the phases (:mod:`trustsim.core.phases`, :mod:`trustsim.core.meet`) in
order; they make the same rule calls as :mod:`trustsim.mesa_model.agents`. Relationships
are per-customer blocks of packed records (:mod:`trustsim.core.relstore`), ties a CSR.
``CoreModel`` drives it step by step.
"""

from __future__ import annotations

from trustsim import rules
from trustsim.codes import ELSEWHERE, FIRST_TRY, REASSIGN_HANDOVER
from trustsim.core.borrow import borrowed
from trustsim.core.meet import capacity_left, meet, open_round
from trustsim.core.phases import (
    begin_step,
    choose_elsewhere,
    choose_salespeople,
    consider_offers,
    measure,
    meet_successors,
    move_salespeople,
    react_to_moves,
    word_of_mouth,
)
from trustsim.core.relstore import make_room
from trustsim.core.state import State
from trustsim.jit import variant
from trustsim.measure import summarize_parallel

# The phases with customer loops, each compiled serially and in parallel.
PARALLEL = (begin_step, meet_successors, react_to_moves, consider_offers, choose_salespeople, meet,
            choose_elsewhere, word_of_mouth, measure)  # fmt: skip


def step(seed, t, P, history, world, state, scratch, parts=1):
    """Advance the world one step; returns (counts, means, recs, sid). ``parts``: how many
    ranges of listeners word of mouth is split into (the number of threads; any value
    gives the same result). Unpacks the three named tuples and hands the phases plain
    arrays; only here is the pool grown (``make_room``) and rebound."""
    (indptr, indices, tie_ring, propensity, risk, kin, purchase_rate, basket, dropout, competence, integrity, empathy, strategy,
     capacity, quality, failure_rate, recovery, transparency, consistency, price, social,
     tab) = world  # fmt: skip
    sp_firm, primary, org, aware, in_market, recs, sid, blk, top, pending = state
    (log, logged, before, counts, start_sp, choice, origin, ref_ring, wom, wom_firm, depth_c,
     stage_of, ring_c, ref_trust, cost, perf_c, trust_c, ti_c, te_c, asym_c, porg, repeat,
     moved_from, demand, staff_ptr, staff, want, served, look, cap_left,
     outcome, revenue) = scratch  # fmt: skip
    limit = int(P[0].population.max_relationships)
    begin_step(history, primary, logged, counts, start_sp, choice, origin, ref_trust, ref_ring,
               wom, wom_firm, cost, perf_c, depth_c, repeat, served, look, revenue)  # fmt: skip
    any_moved = move_salespeople(seed, t, P, sp_firm, moved_from, staff_ptr, staff, counts)
    if rules.policy(P) == REASSIGN_HANDOVER:
        recs, sid = make_room(recs, sid, blk, top, pending, limit)
        meet_successors(seed, t, P, history, primary, sp_firm, moved_from, org, propensity, recs,
                        sid, blk, pending, before, staff_ptr, staff, tab, log, logged,
                        counts)  # fmt: skip
    if any_moved:
        recs, sid = make_room(recs, sid, blk, top, pending, limit)
        react_to_moves(seed, t, P, history, primary, start_sp, sp_firm, moved_from, org,
                       propensity, competence, indptr, indices, recs, sid, blk, pending, before,
                       staff_ptr, staff, tab, log, logged, counts)  # fmt: skip
    recs, sid = make_room(recs, sid, blk, top, pending, limit)
    consider_offers(seed, t, P, history, primary, sp_firm, propensity, recs, sid, blk, pending,
                    before, staff_ptr, staff, tab, log, logged, counts)  # fmt: skip
    choose_salespeople(seed, t, P, primary, in_market, purchase_rate, kin, indptr, indices,
                       tie_ring, recs, sid, blk, tab, choice, origin, ref_trust, ref_ring, sp_firm.shape[0],
                       counts)  # fmt: skip
    for rnd in (FIRST_TRY, ELSEWHERE):  # whom each meets, with the capacity left for it
        if rnd == FIRST_TRY:
            who, left = choice, capacity
        else:
            capacity_left(choice, served, capacity, cap_left)
            choose_elsewhere(seed, t, P, look, choice, want, origin, ref_trust, ref_ring,
                             primary, kin, sp_firm, indptr, indices, tie_ring, recs, sid, blk,
                             staff_ptr, staff, tab, counts)  # fmt: skip
            who, left = want, cap_left
        open_round(who, demand, stage_of)
        recs, sid = make_room(recs, sid, blk, top, pending, limit)
        meet(rnd, seed, t, P, history, who, demand, left, served, look, stage_of, outcome,
             origin, ref_trust, ref_ring, primary, sp_firm, org, aware, recs, sid, blk, pending,
             before, propensity, risk, price, competence, integrity, empathy, strategy, quality,
             consistency, failure_rate, recovery, transparency, social, wom, wom_firm, cost,
             perf_c, depth_c, repeat, tab, log, logged, counts, basket, dropout, in_market,
             revenue)  # fmt: skip
    word_of_mouth(P, parts, wom, wom_firm, indptr, indices, tie_ring, org, aware)
    means = measure(seed, t, P, counts, start_sp, primary, sp_firm, org, aware, recs, blk, tab,
                    trust_c, ti_c, te_c, ring_c, asym_c, porg, cost, perf_c, depth_c, repeat,
                    wom, revenue)  # fmt: skip
    return counts, means, recs, sid


def _compiled(parallel: bool):
    """``step`` calling each phase compiled serially or with parallel customer loops (and
    the parallel summary); ``step`` itself has no loop of its own.

    The serial one never starts numba's thread pool, so a process that only uses it can
    fork (process pools) and run in several threads at once (dask workers).
    """
    kind = "parallel" if parallel else "serial"
    extra = {"summarize": summarize_parallel} if parallel else {}
    compiled = {
        fn.__name__: variant(fn, f"{fn.__name__}_{kind}", parallel, **extra) for fn in PARALLEL
    }
    return variant(step, f"step_{kind}", **compiled)


step_serial = _compiled(parallel=False)
step_parallel = _compiled(parallel=True)


def run_steps(seed, first, k, P, world, state, scratch, counts_out, means_out, parts):
    """Steps ``first .. first + k - 1`` without the event log, in one compiled call: a
    call from Python costs ~12 us of argument unboxing, as much as a step of a small
    world. Row i of ``counts_out`` and ``means_out`` gets step ``first + i``'s summary.
    Returns the relationship pool (recs, sid), which may have grown."""
    sp_firm, primary, org, aware, in_market, recs, sid, blk, top, pending = borrowed(state)
    recs, sid = state.recs, state.sid  # the pool grows: it keeps its owner
    P, world, scratch = borrowed(P), borrowed(world), borrowed(scratch)
    for i in range(k):
        now = State(sp_firm, primary, org, aware, in_market, recs, sid, blk, top, pending)
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
