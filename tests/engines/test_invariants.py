"""Invariants as property tests: whatever the parameters, the state stays meaningful."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import small
from trustsim.core import relstore
from trustsim.core.model import CoreModel
from trustsim.metrics import COUNTERS
from trustsim.runtime.run import simulate

# A few influential parameters over their whole schema range.
knobs = st.fixed_dictionaries(
    {
        "culture.ring_gradient": st.floats(0, 1),
        "salespeople.integrity": st.floats(0, 1),
        "salespeople.instrumental_share": st.floats(0, 1),
        "firms.failure_rate": st.floats(0, 1),
        "population.purchase_rate": st.floats(0, 1),
        "competition.offer_rate": st.floats(0, 1),
        "turnover.rate": st.floats(0, 0.2),
        "salespeople.capacity": st.integers(1, 30),
        "population.n_firms": st.integers(1, 4),
    }
)


def _overrides(values: dict) -> list[str]:
    return [f"{k}={v}" for k, v in values.items()]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=knobs, seed=st.integers(0, 2**31))
def test_state_stays_in_range_and_customers_are_conserved(values, seed):
    scenario = small("baseline", *_overrides(values), "run.steps=25")
    model = CoreModel(scenario, seed)
    n = scenario.population.n_customers
    for _ in range(scenario.run.steps):
        model.step()
        rel = relstore.table(model.store)
        for arr in (rel["ti"], rel["te"], model.org):
            assert np.all((arr >= 0) & (arr <= 1))
        assert np.all(rel["gift"] >= 0) and np.all(rel["gift"] <= 1)
        assert np.all((rel["asym"] > 0) & (rel["asym"] <= 1))
        assert np.all((rel["scar"] >= 0) & (rel["scar"] <= 1))
        # a customer's salesperson is always someone it has met
        has = np.flatnonzero(model.primary >= 0)
        known = set(zip(rel["customer"].tolist(), rel["salesperson"].tolist()))
        assert all((int(c), int(model.primary[c])) in known for c in has)
        assert model.primary.shape == (n,) and np.all(
            model.primary < scenario.population.n_salespeople
        )
        assert np.all((model.sp_firm >= 0) & (model.sp_firm < scenario.population.n_firms))
        m = model.metrics
        assert all(m[k] >= 0 for k in COUNTERS)
        stops = m["stop_contact"] + m["stop_consult"] + m["stop_objection"] + m["stop_closing"]
        assert stops + m["trades"] == m["encounters"]
        assert (
            m["churned"] <= m["failures"] - m["forgiven"]
        )  # exits follow unforgiven failures only
        assert m["forgiven"] <= m["failures"] and m["complaints"] <= m["failures"] - m["forgiven"]
        assert 0 <= m["with_salesperson"] <= n and m["with_salesperson_start"] <= n


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=knobs, seed=st.integers(0, 2**31))
def test_metric_means_are_probabilities_or_nan(values, seed):
    ts = simulate(
        small("baseline", *_overrides(values), "run.steps=15"), "core", seed=seed
    ).timeseries
    for col in (
        "mean_trust",
        "mean_instrumental_trust",
        "mean_emotional_trust",
        "mean_org_trust",
        "insider_share",
        "repurchase_rate",
        "brand_awareness",
        "survey_trust",
        "survey_response_rate",
        "interview_trust",
    ):
        x = ts[col].dropna()
        assert ((x >= 0) & (x <= 1)).all(), col
    s = ts["wom_sentiment"].dropna()
    assert ((s >= -1) & (s <= 1)).all()
    d = ts["mean_needs_depth"].dropna()
    assert ((d >= 1) & (d <= 5)).all()
