"""Relationship storage of the core (trustsim.core.relstore): property tests against a dict.

Phases of random first meetings (at most one per customer and phase, as in the core),
each after ``make_room``: whatever grows, moves or is compacted, the store holds exactly
the relationships a plain dict of dicts holds, each once, with its fields intact; at the
cap the same one is forgotten; the Mesa engine's rule picks the same one as the core's.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import assert_frames_equal, small
from trustsim.core import relstore
from trustsim.loader import load_scenario
from trustsim.mesa_model.agents import Relationship
from trustsim.mesa_model.model import TrustModel
from trustsim.runtime.run import simulate

# one phase: for each customer, a salesperson it meets (or None) and whether the customer's
# own salesperson is its first relationship (kept from forgetting)
phases = st.lists(
    st.lists(st.one_of(st.none(), st.integers(0, 60)), min_size=6, max_size=6),
    min_size=1,
    max_size=60,
)


def _check_layout(store, n):
    top = int(store.top[0])
    assert top <= len(store.recs)
    start, count, cap = store.blk.T
    spans = sorted((int(start[c]), int(cap[c])) for c in range(n))
    for (lo, size), (next_lo, _) in zip(spans, spans[1:]):
        assert lo + size <= next_lo  # blocks never overlap
    assert spans[-1][0] + spans[-1][1] <= top
    assert np.all(count <= cap)
    assert store.top[1] == cap.sum()  # the live slots, kept up to date


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=phases, limit=st.integers(2, 45), keep_own=st.booleans())
def test_store_holds_exactly_the_relationships_a_dict_holds(plan, limit, keep_own):
    n = 6
    store = relstore.new_store(n, limit)
    ref: list[dict[int, tuple[int, float]]] = [{} for _ in range(n)]  # s -> (last, value)
    own = [-1] * n
    value = 0.0
    for t, phase in enumerate(plan):
        recs, sid = relstore.make_room(*store, limit)
        store = store._replace(recs=recs, sid=sid)
        _check_layout(store, n)
        for c, s in enumerate(phase):
            if s is None:
                continue
            i = relstore.find(sid, store.blk, c, s)
            if i >= 0:  # known: a trade refreshes it
                recs[i]["last_step"] = t
                ref[c][s] = (t, ref[c][s][1])
                continue
            i, filled = relstore.add(recs, sid, store.blk, c, s, own[c])
            store.pending[c] |= filled
            if len(ref[c]) == limit:  # the documented rule: oldest last trade, lowest id
                gone = min((last, k) for k, (last, _) in ref[c].items() if k != own[c])[1]
                del ref[c][gone]
            value += 1.0
            recs[i]["last_step"], recs[i]["ti"] = t, value
            ref[c][s] = (t, value)
            if keep_own and own[c] < 0:
                own[c] = s
        table = relstore.table(store)
        got = {
            (int(r["customer"]), int(r["salesperson"])): (int(r["last_step"]), float(r["ti"]))
            for r in table
        }
        want = {(c, s): v for c in range(n) for s, v in ref[c].items()}
        assert len(table) == len(got)  # none duplicated
        assert got == want  # none lost, fields intact
        assert all(len(ref[c]) <= limit for c in range(n))


def test_pool_grows_and_compacts_without_loss():
    # 40 > RESERVED_SLOTS: the pool itself must grow; many small blocks: compactions
    n, limit = 50, 40
    store = relstore.new_store(n, limit)
    size0 = len(store.recs)
    for t in range(limit):
        recs, sid = relstore.make_room(*store, limit)
        store = store._replace(recs=recs, sid=sid)
        for c in range(n):
            if c % 5 != 0 or t < 6:  # four in five customers keep meeting new people
                i, filled = relstore.add(recs, sid, store.blk, c, t, -1)
                store.pending[c] |= filled
                recs[i]["n_trades"] = c
        _check_layout(store, n)
    table = relstore.table(store)
    assert len(store.recs) > size0
    expect = sum(limit if c % 5 != 0 else 6 for c in range(n))
    assert len(table) == expect
    assert np.all(table["n_trades"] == table["customer"])
    for c in range(1, n, 5):
        assert list(relstore.relationships(store, c)["salesperson"]) == list(range(limit))


@settings(max_examples=40, deadline=None)
@given(
    lasts=st.lists(st.integers(0, 5), min_size=2, max_size=8),
    own_at=st.integers(-1, 7),
)
def test_both_engines_forget_the_same_relationship(lasts, own_at):
    model = TrustModel(
        small("baseline", "population.n_customers=10", "population.n_salespeople=30"), 1
    )
    cust = model.customers[0]
    ids = [3 * k + 1 for k in range(len(lasts))]
    cust.relationships = {s: Relationship(0.5, 0.5, 2, 0, last) for s, last in zip(ids, lasts)}
    own = ids[own_at] if 0 <= own_at < len(ids) else -1
    cust.salesperson = model.salespeople[own] if own >= 0 else None
    recs = np.zeros(len(ids), dtype=relstore.REL_DTYPE)
    sid = np.array(ids[::-1], dtype=np.int32)  # any order in a block
    recs["last_step"] = lasts[::-1]
    core = int(sid[relstore.victim(recs, sid, 0, len(ids), own)])
    cust.forget()
    (mesa,) = set(ids) - set(cust.relationships)
    assert core == mesa != own


@pytest.mark.slow
def test_a_pool_that_grows_inside_the_step_changes_nothing(monkeypatch):
    # Customers who buy every step from 2,000 salespeople, half of whom move to a rival
    # each week, and who remember up to 1,000 of them outgrow the 32 slots per customer
    # reserved up front within 100 weeks: the pool is reallocated inside the compiled step
    # (twice), with one thread and with two, and the Mesa engine keeps dicts.
    sc = load_scenario(
        "baseline",
        [
            "run.history=true",
            "population.n_customers=60",
            "population.n_salespeople=2000",
            "population.purchase_rate=1.0",
            "population.max_relationships=1000",
            "turnover.rate=0.5",
            "run.steps=100",
        ],
    )
    monkeypatch.setenv("TRUSTSIM_THREADS", "1")
    one = simulate(sc, "core", seed=4)
    assert len(one.model.store.recs) > 2 * relstore.RESERVED_SLOTS * 60  # it grew twice
    monkeypatch.setenv("TRUSTSIM_THREADS", "2")
    two = simulate(sc, "core", seed=4)
    assert_frames_equal(one.timeseries, two.timeseries, atol=0)
    assert_frames_equal(one.events, two.events, atol=0)
    mesa = simulate(sc, "mesa", seed=4)
    assert_frames_equal(one.timeseries, mesa.timeseries)
    assert_frames_equal(one.events, mesa.events)


def test_making_a_relationship_own_moves_it_first_and_loses_nothing():
    store = relstore.new_store(3, 8)
    recs, sid = store.recs, store.sid
    for s in (5, 9, 2):
        i, _ = relstore.add(recs, sid, store.blk, 1, s, -1)
        recs[i]["ti"], recs[i]["n_trades"] = s / 10, s
    before = relstore.table(store)
    spare = np.zeros(1, dtype=relstore.REL_DTYPE)[0]
    relstore.make_own(recs, sid, store.blk, 1, relstore.find(sid, store.blk, 1, 2), spare)
    assert sid[store.blk[1, relstore.START]] == 2
    assert recs[store.blk[1, relstore.START]]["n_trades"] == 2  # the record moved with its id
    assert np.array_equal(relstore.table(store), before)  # same relationships, same fields


def test_each_customers_own_relationship_stays_first_in_its_block():
    # turnover (handovers), competitor offers (switches) and trades all change a customer's
    # own salesperson; growing and compacting blocks move them: the core reads a customer's
    # own relationship at the front of its block, so it must be there after every step
    from trustsim.core.model import CoreModel

    sc = small(
        "baseline",
        "population.n_customers=200",
        "population.n_salespeople=40",
        "turnover.rate=0.05",
        "competition.offer_rate=0.3",
        "population.max_relationships=6",
    )
    model = CoreModel(sc, 2)
    changed = 0
    for _ in range(80):
        was = model.primary.copy()
        model.step()
        changed += int(np.sum(was != model.primary))
        store = model.store
        has = np.flatnonzero(model.primary >= 0)
        assert np.array_equal(store.sid[store.blk[has, relstore.START]], model.primary[has])
    assert changed > 200  # the own salesperson did change, many times
