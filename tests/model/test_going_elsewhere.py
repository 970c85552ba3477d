"""Customers who stop trusting go elsewhere (issue 12, ODD 7.14 and 7.15): scenario tests,
docking of the new phases, and properties of the event log and the counters."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import assert_frames_equal, small
from trustsim.codes import CLOSED
from trustsim.loader import load_scenario
from trustsim.runtime.run import simulate

BREACH_STEP = 80  # scenarios/breach.toml: salesperson 0 breaches every trade at step 80


def deceived_at_the_scheduled_breach(*overrides):
    """Run scenarios/breach.toml to its breach; (rows of the deceived, customers' salesperson)."""
    sc = load_scenario("breach", ["run.history=true", f"run.steps={BREACH_STEP}", *overrides])
    assert sc.breach.scheduled_step == BREACH_STEP and sc.breach.scheduled_salesperson == 0
    result = simulate(sc, "core")
    ev = result.events
    rows = ev[(ev.step == BREACH_STEP) & (ev.salesperson == 0) & (ev.breach == 1)]
    return rows, result.model.primary


def test_a_customer_deceived_at_the_scheduled_breach_can_leave_at_once():
    rows, primary = deceived_at_the_scheduled_breach()
    assert len(rows) >= 5
    left = rows[rows.breach_exit == 1]
    assert len(left) >= 1
    assert (primary[left.customer.to_numpy()] != 0).all()  # gone the same step
    stayed = rows[(rows.breach_exit == 0) & (rows.exited == 0)]
    assert (primary[stayed.customer.to_numpy()] == 0).all()
    assert (rows.wom[rows.breach_exit == 1] <= 0).all()  # warnings, never praise


def test_with_the_switch_off_a_deceived_customer_cannot_leave():
    rows, primary = deceived_at_the_scheduled_breach("mechanisms.breach_exit=false")
    assert len(rows) >= 5 and (rows.breach_exit == 0).all()
    kept = rows[rows.exited == 0].customer.to_numpy()
    assert len(kept) >= 5 and (primary[kept] == 0).all()


@pytest.mark.parametrize(
    "switches",
    [(), ("mechanisms.look_elsewhere=false", "mechanisms.breach_exit=false")],
)
def test_engines_dock_with_the_new_phases_on_and_off(switches):
    sc = small(
        "baseline",
        "run.history=true",
        "salespeople.capacity=5",
        "breach.opportunism=0.5",
        "population.kin_share=0.1",
        *switches,
    )
    core, mesa = simulate(sc, "core", seed=2), simulate(sc, "mesa", seed=2)
    assert_frames_equal(core.timeseries, mesa.timeseries)
    assert_frames_equal(core.events, mesa.events)
    if not switches:
        assert core.timeseries.trades_elsewhere.sum() > 0 and core.timeseries.unserved.sum() > 0


def test_the_event_log_accounts_for_needs_taken_elsewhere_and_exits():
    result = simulate(small("baseline", "run.history=true", "breach.opportunism=0.5"), "core")
    ts, ev = result.timeseries, result.events
    enc = ev[ev.kind == 0]
    elsewhere = enc[enc.elsewhere == 1]
    # every need taken elsewhere is an encounter there, unless capacity turned it away
    assert 0 <= ts.looked_elsewhere.sum() - len(elsewhere) <= ts.unserved.sum()
    assert len(elsewhere) > 0
    assert (elsewhere.stage == CLOSED).sum() == ts.trades_elsewhere.sum()
    assert (enc.lost_salesperson >= 0).sum() == ts.lost_to_rival.sum()
    assert (enc.breach_exit == 1).sum() == ts.breach_exits.sum()
    assert ((enc.breach_exit == 1) <= (enc.breach == 1)).all()
    # a need taken elsewhere goes to someone other than the one who did not close
    first = enc[enc.elsewhere == 0].set_index(["step", "customer"]).salesperson
    second = elsewhere.set_index(["step", "customer"]).salesperson
    assert (first.loc[second.index] != second).all()
    assert (
        enc[enc.elsewhere == 0].set_index(["step", "customer"]).loc[second.index].stage < CLOSED
    ).all()


KNOBS = st.fixed_dictionaries(
    {
        "culture.ring_gradient": st.floats(0, 1),
        "salespeople.integrity": st.floats(0, 1),
        "population.purchase_rate": st.floats(0, 1),
        "salespeople.capacity": st.integers(1, 30),
        "population.n_firms": st.integers(1, 4),
        "population.kin_share": st.floats(0, 0.5),
        "elsewhere.distrust_weight": st.floats(0, 1),
        "elsewhere.patience": st.floats(0.1, 20),
        "breach.exit_sensitivity": st.floats(0, 10),
        "competition.offer_rate": st.floats(0, 0.3),
        "turnover.rate": st.floats(0, 0.1),
    }
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=KNOBS, seed=st.integers(0, 2**31))
def test_no_need_counted_twice_one_own_salesperson_customers_conserved(values, seed):
    sc = small(
        "baseline", "run.history=true", "run.steps=25", *(f"{k}={v}" for k, v in values.items())
    )
    result = simulate(sc, "core", seed=seed)
    ts, ev = result.timeseries, result.events
    n = sc.population.n_customers
    # no need counted twice: at most one trade and two encounters per need
    assert (ts.trades <= ts.needs).all() and (ts.needs <= n).all()
    assert (ts.looked_elsewhere <= ts.needs).all()
    assert (ts.trades_elsewhere <= ts.looked_elsewhere).all()
    assert (ts.lost_to_other_firm <= ts.lost_to_rival).all()
    assert (ts.lost_to_rival <= ts.trades_elsewhere).all()
    assert (ts.breach_exits <= ts.breaches).all()
    enc = ev[ev.kind == 0]
    per_need = enc.groupby(["step", "customer"])
    assert (per_need.size() <= 2).all()
    assert ((enc.stage == CLOSED).groupby([enc.step, enc.customer]).sum() <= 1).all()
    assert (enc.elsewhere.groupby([enc.step, enc.customer]).sum() <= 1).all()
    has_needs = ts.needs > 0
    assert np.allclose(ts.needs_met_share[has_needs], (ts.trades / ts.needs)[has_needs])
    assert ts.needs_met_share[~has_needs].isna().all()
    # a customer has at most one own salesperson, and customers are conserved
    primary = result.model.primary
    assert (
        primary.shape == (n,) and ((primary >= -1) & (primary < sc.population.n_salespeople)).all()
    )
    assert ((ts.with_salesperson >= 0) & (ts.with_salesperson <= n)).all()
    assert np.array_equal(
        ts.with_salesperson_start.to_numpy()[1:], ts.with_salesperson.to_numpy()[:-1]
    )
    assert ts.with_salesperson.iloc[-1] == (primary >= 0).sum()
