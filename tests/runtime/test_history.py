"""The relationship event log records what each hypothesis H1-H12 needs, and the measure
can be computed from it. (Whether the model supports a hypothesis is not tested here.)"""

import numpy as np
import pytest

from trustsim.analysis.measures import hypotheses as H
from trustsim.loader import load_scenario
from trustsim.metrics import EVENT_KINDS, LOG_COLUMNS
from trustsim.runtime.run import simulate


@pytest.fixture(scope="module")
def run():
    sc = load_scenario(
        "baseline",
        [
            "run.history=true",
            "run.steps=150",
            "population.n_customers=300",
            "population.n_salespeople=8",
            "population.n_firms=3",
            "firms.failure_rate=0.1",
            "competition.offer_rate=0.05",
            "breach.scheduled_step=60",
            "turnover.scheduled_step=90",
            "turnover.rate=0.01",
            "firms.heterogeneity=0.4",
            # every kind of row: joint visits (3) and, rarely, customers leaving the market (4)
            "turnover.reassignment=handover",
            "mechanisms.leave_market=true",
            "buying.dropout_b=300",
        ],
    )
    return simulate(sc, "core", seed=2)


@pytest.fixture(scope="module")
def ev(run):
    return run.events


def finite(x) -> bool:
    x = np.asarray(x, dtype=float)
    return x.size > 0 and np.isfinite(x).any()


def test_log_has_every_column_and_kind(ev):
    assert list(ev.columns) == list(LOG_COLUMNS)
    assert set(ev.kind.unique()) == set(range(len(EVENT_KINDS)))
    # one row per step, kind and customer, but for a need taken elsewhere (two encounters)
    assert not ev.duplicated(["step", "kind", "customer", "elsewhere"]).any()
    assert ev.duplicated(["step", "kind", "customer"]).any()


def test_log_is_consistent_with_the_metrics(run, ev):
    ts = run.timeseries
    enc = H.encounters(ev)
    assert len(enc) == ts.encounters.sum()
    assert len(H.trades(ev)) == ts.trades.sum()
    assert H.trades(ev).breach.sum() == ts.breaches.sum()


def test_h1_insider_share_by_trades(ev):
    df = H.h1_insider_by_trades(ev)
    assert finite(df.insider_share) and df.n_trades.min() == 1
    assert finite(df.attrs["trades_to_insider"])


def test_h2_ability_and_character_weights_by_age(ev):
    df = H.h2_decision_by_age(ev)
    assert set(df.age) == {"young", "old"}
    assert finite(df[["beta_ability", "beta_character"]].to_numpy())


def test_h3_cost_by_trust(ev):
    assert finite(H.h3_cost_by_trust(ev)["mean"])


def test_h4_failure_response_by_trust(ev):
    df = H.h4_failure_response(ev)
    assert df.n.sum() > 0 and finite(df.forgiven) and finite(df.exited)


def test_h5_offers_with_trust_and_discount(ev):
    df = H.h5_offers(ev)
    assert len(df) > 0 and df.switched.isin([0, 1]).all() and finite(df.discount)


def test_h6_trades_to_build_and_rebuild(ev):
    df = H.h6_rebuild(ev)
    assert len(df) > 0 and finite(df.trades_to_build)


def test_h7_referral_vs_cold(ev):
    df = H.h7_origin(ev)
    assert set(df.origin) == {"cold", "referral"} and finite(df.first_close_rate)


def test_h8_transparency_per_firm(run, ev):
    df = H.h8_transparency(ev, run.model.world)
    assert len(df) == 3 and finite(df.transparency) and finite(df.to_insider)


def test_h9_personal_vs_org_trust_at_turnover(ev):
    df = H.h9_turnover(ev)
    assert len(df) > 0 and finite(df.personal_minus_org) and df.followed.isin([0, 1]).all()


def test_h10_by_strategy(run, ev):
    df = H.h10_strategy(ev, run.model.world)
    assert set(df.strategy) == {"instrumental", "emotional"} and finite(df.trust_at_3)


def test_h11_cold_start_and_insider_loss(ev):
    df = H.h11_culture(ev)
    assert finite(df.cold_first_close_rate) and df.insider_relationships.iloc[0] > 0


def test_h12_emotional_gain_by_needs_depth(ev):
    df = H.h12_needs(ev)
    assert df.depth.min() == 1 and df.depth.max() >= 2 and finite(df["mean"])
