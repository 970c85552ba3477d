"""Customers who differ, who leave the market, who give up on a salesperson, and firms that
reassign a departing salesperson's customers (ODD 7.11, 7.14, 7.17, 7.18): each switch
changes the run, each mechanism does what the ODD says, and both engines dock."""

import numpy as np
import pytest

from tests.helpers import assert_frames_equal, small
from trustsim.analysis.measures.statistics import RunView, lookup
from trustsim.codes import CLOSED
from trustsim.errors import ScenarioError
from trustsim.loader import load_scenario
from trustsim.metrics import EV_INTRODUCED, EV_LEFT_MARKET, EV_TURNOVER
from trustsim.params import Scenario
from trustsim.population import build_world
from trustsim.runtime.run import simulate
from trustsim.value import clv_mean, customer_values

ON = (
    "mechanisms.purchase_heterogeneity=true",
    "mechanisms.leave_market=true",
    "mechanisms.give_up=true",
)


def run(*overrides, engine="core", seed=2, name="baseline"):
    return simulate(small(name, "run.history=true", *overrides), engine, seed=seed)


def per_customer_trades(result, n):
    ev = result.events
    trades = ev[(ev.kind == 0) & (ev.stage == CLOSED)]
    return np.bincount(trades.customer.to_numpy(), minlength=n)


# ------------------------------------------------------------------ the world's draws


def test_propensities_differ_around_the_purchase_rate_and_baskets_around_their_mean():
    sc = load_scenario(None, ["mechanisms.purchase_heterogeneity=true"])
    sc.population.n_customers = 20_000
    w = build_world(sc, 3)
    assert w.purchase_rate.mean() == pytest.approx(sc.population.purchase_rate, rel=0.05)
    assert w.purchase_rate.min() >= 0 and w.purchase_rate.max() <= 1
    # beta(r, .) with r = 0.24: most customers rarely need to buy, a few often
    assert np.median(w.purchase_rate) < 0.5 * sc.population.purchase_rate
    assert w.basket.mean() == pytest.approx(sc.buying.basket_mean, rel=0.05)
    cv2 = w.basket.var() / w.basket.mean() ** 2
    assert cv2 == pytest.approx(1 / sc.buying.basket_shape, rel=0.1)
    assert (w.dropout == 0).all()  # leave_market off


def test_with_the_switches_off_every_customer_buys_at_the_common_rate():
    sc = Scenario()
    w = build_world(sc, 3)
    assert (w.purchase_rate == sc.population.purchase_rate).all()
    assert (w.basket == sc.buying.basket_mean).all() and (w.dropout == 0).all()


def test_the_new_draws_leave_every_other_initial_draw_as_it_was():
    off, on = Scenario(), load_scenario(None, list(ON))
    a, b = build_world(off, 5), build_world(on, 5)
    for name in ("propensity", "risk", "kin_salesperson", "competence", "quality", "price"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(a.csr.indices, b.csr.indices)


def test_dropout_chances_follow_their_beta():
    sc = load_scenario(None, ["mechanisms.leave_market=true"])
    sc.population.n_customers = 20_000
    d = build_world(sc, 1).dropout
    a, b = sc.buying.dropout_a, sc.buying.dropout_b
    assert d.mean() == pytest.approx(a / (a + b), rel=0.05)


# ------------------------------------------------------------------ each switch changes the run


@pytest.mark.parametrize("switch", ON)
def test_each_new_switch_changes_the_run(switch):
    base = run().timeseries
    assert not run(switch).timeseries.equals(base)


@pytest.mark.parametrize("policy", ["best", "known", "handover"])
def test_each_reassignment_policy_changes_a_departure(policy):
    base = simulate(load_scenario("salesperson_leaves", ["run.steps=110"]), "core")
    other = simulate(
        load_scenario("salesperson_leaves", ["run.steps=110", f"turnover.reassignment={policy}"]),
        "core",
    )
    assert not other.timeseries.equals(base.timeseries)


# ------------------------------------------------------------------ what each mechanism does


def test_heterogeneity_makes_trades_per_customer_more_unequal():
    def dispersion(*o):
        t = per_customer_trades(run("run.steps=52", *o, seed=1), 120)
        return t.var() / t.mean()

    assert dispersion("mechanisms.purchase_heterogeneity=true") > 1.5 * dispersion()


def test_revenue_is_the_baskets_of_the_trades_at_their_firms_price():
    sc = small("baseline", "run.history=true", "mechanisms.purchase_heterogeneity=true")
    result = simulate(sc, "core", seed=1)
    w = build_world(sc, 1)
    ev = result.events
    trades = ev[(ev.kind == 0) & (ev.stage == CLOSED)]
    value = w.basket[trades.customer.to_numpy()] * w.price[trades.firm.to_numpy()]
    by_step = np.bincount(trades.step.to_numpy(), weights=value, minlength=sc.run.steps + 1)
    assert np.allclose(result.timeseries.revenue.to_numpy(), by_step[1:], rtol=1e-12)
    assert result.timeseries.revenue.sum() > 0


def test_lifetime_value_is_each_customers_discounted_revenue_averaged():
    sc = small("baseline", "run.history=true", "mechanisms.purchase_heterogeneity=true")
    result = simulate(sc, "core", seed=1)
    w, n = build_world(sc, 1), sc.population.n_customers
    trades = result.events[(result.events.kind == 0) & (result.events.stage == CLOSED)]
    value = w.basket[trades.customer.to_numpy()] * w.price[trades.firm.to_numpy()]
    revenue = result.timeseries.revenue.to_numpy()
    rate = sc.measurement.discount_rate
    per_customer = customer_values(trades.customer, trades.step, value, n, rate)
    assert clv_mean(revenue, n, rate) == pytest.approx(per_customer.mean(), rel=1e-12)
    assert clv_mean(revenue, n, 0.0) == pytest.approx(revenue.sum() / n, rel=1e-12)
    assert clv_mean(revenue, n, 0.5) < clv_mean(revenue, n, rate) < revenue.sum() / n
    view = RunView(result.timeseries, None, None, scenario=sc)
    assert lookup("clv_mean")(view) == clv_mean(revenue, n, rate)
    assert np.isnan(lookup("clv_mean")(RunView(result.timeseries)))


def test_a_customer_who_leaves_the_market_never_trades_again_and_is_not_churn():
    result = run("mechanisms.leave_market=true", "run.steps=60")
    ev, ts = result.events, result.timeseries
    left = ev[ev.kind == EV_LEFT_MARKET]
    assert len(left) == ts.left_market.sum() >= 10
    assert left.customer.is_unique
    first_gone = left.groupby("customer").step.min()
    later = ev[(ev.kind == 0) & ev.customer.isin(first_gone.index)]
    later = later[later.step.to_numpy() > first_gone[later.customer].to_numpy()]
    assert later.empty  # no encounter after leaving
    # each leaving follows a trade of that customer the same step
    trades = ev[(ev.kind == 0) & (ev.stage == CLOSED)]
    keys = set(zip(trades.step, trades.customer))
    assert all((s, c) in keys for s, c in zip(left.step, left.customer))
    assert (result.model.primary[left.customer.to_numpy()] < 0).all()


def test_giving_up_bounds_the_run_of_misses_with_a_salesperson():
    def longest(*o):
        ev = run("run.steps=120", "salespeople.capacity=3", *o, seed=3).events
        enc = ev[ev.kind == 0]
        return int(enc.misses.max())

    give_up = load_scenario(None).elsewhere.give_up
    assert longest() > give_up + 2
    assert longest("mechanisms.give_up=true") < longest()


def test_a_customer_who_gives_up_on_a_salesperson_never_meets_it_again():
    # Without firms assigning salespeople (no turnover, no competitor offers), a customer
    # meets a salesperson it gave up on through nothing: no referral, cold contact, kin or
    # search elsewhere (ODD 7.14).
    give_up = load_scenario(None).elsewhere.give_up
    result = run(
        "run.steps=120",
        "salespeople.capacity=3",
        "mechanisms.give_up=true",
        "mechanisms.turnover=false",
        "mechanisms.competitor_offers=false",
        seed=3,
    )
    enc = result.events[result.events.kind == 0]
    assert result.timeseries.gave_up.sum() >= 10
    assert enc.misses.max() == give_up
    refused = enc[enc.misses == give_up].groupby(["customer", "salesperson"]).step.min()
    last = enc.groupby(["customer", "salesperson"]).step.max()
    assert (last[refused.index] == refused).all()  # nothing after the step it gave up
    assert len(refused) == result.timeseries.gave_up.sum()


def test_the_joint_visit_carries_trust_over_to_the_colleague_introduced():
    sc = load_scenario(
        "departure_policies", ["run.history=true", "run.steps=100", "turnover.carryover=1"]
    )
    ev = simulate(sc, "core").events
    intro = ev[ev.kind == EV_INTRODUCED]
    assert len(intro) >= 10
    assert (intro.step == sc.turnover.scheduled_step - sc.turnover.notice).all()
    assert (intro.salesperson != sc.turnover.scheduled_salesperson).all()
    assert (intro.trust_after >= intro.trust_before).all()
    assert (intro.trust_after > intro.trust_before).mean() > 0.5


def test_customers_who_know_their_successor_weigh_it_and_follow_less():
    def followed(policy, carry="1"):
        sc = load_scenario(
            "departure_policies",
            ["run.steps=100", f"turnover.reassignment={policy}", f"turnover.carryover={carry}"],
        )
        return sum(simulate(sc, "core", seed=s).timeseries.followed.sum() for s in (1, 2, 3))

    assert followed("handover") < followed("random")


def test_a_word_the_schema_does_not_know_is_one_clear_line():
    with pytest.raises(ScenarioError) as err:
        load_scenario("baseline", ["turnover.reassignment=nearest"])
    msg = str(err.value)
    assert "turnover.reassignment" in msg and "'handover'" in msg and "\n" not in msg


# ------------------------------------------------------------------ docking


@pytest.mark.parametrize("policy", ["random", "best", "known", "handover"])
def test_engines_dock_with_every_new_mechanism_on(policy):
    sc = small(
        "salesperson_leaves",
        "run.history=true",
        "run.steps=70",
        "turnover.scheduled_step=40",
        "turnover.rate=0.02",
        "turnover.notice=3",
        "salespeople.capacity=5",
        f"turnover.reassignment={policy}",
        *ON,
    )
    core, mesa = simulate(sc, "core", seed=4), simulate(sc, "mesa", seed=4)
    assert core.timeseries.moves.sum() >= 2
    assert_frames_equal(core.timeseries, mesa.timeseries)
    assert_frames_equal(core.events, mesa.events)


def test_turnover_rows_remain_one_per_reacting_customer():
    ev = run("turnover.rate=0.05", "turnover.reassignment=handover", "run.steps=40").events
    moves = ev[ev.kind == EV_TURNOVER]
    assert not moves.duplicated(["step", "customer"]).any()


@pytest.mark.parametrize("policy", ["known", "handover"])
def test_the_parallel_core_gives_the_same_run_with_the_new_mechanisms(monkeypatch, policy):
    sc = small(
        "salesperson_leaves",
        "run.history=true",
        "run.steps=60",
        "turnover.rate=0.03",
        "turnover.notice=2",
        f"turnover.reassignment={policy}",
        *ON,
    )
    monkeypatch.setenv("TRUSTSIM_THREADS", "1")
    one = simulate(sc, "core", seed=5)
    monkeypatch.setenv("TRUSTSIM_THREADS", "2")
    two = simulate(sc, "core", seed=5)
    assert one.timeseries.moves.sum() >= 2 and one.timeseries.left_market.sum() > 0
    assert_frames_equal(one.timeseries, two.timeseries, atol=0)
    assert_frames_equal(one.events, two.events, atol=0)
