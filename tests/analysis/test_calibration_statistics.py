"""The stylized-facts statistics of the registry, on event logs built by hand where the
right answer is known, and on a real run."""

import numpy as np
import pandas as pd
import pytest

from tests.helpers import small
from trustsim.analysis.measures import statistics as S
from trustsim.codes import CLOSED, COLD, CONTACT, REFERRAL
from trustsim.metrics import EV_ENCOUNTER, EV_TURNOVER, LOG_COLUMNS
from trustsim.runtime.run import simulate


def log(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(
        [dict.fromkeys(LOG_COLUMNS, 0) | r for r in rows], columns=list(LOG_COLUMNS)
    )


def series(steps: int, **counts) -> pd.DataFrame:
    return pd.DataFrame({"step": np.arange(1, steps + 1), **counts})


def trade(step, customer, firm, **kw):
    return {
        "step": step,
        "kind": EV_ENCOUNTER,
        "customer": customer,
        "firm": firm,
        "stage": CLOSED,
        **kw,
    }


def test_departure_drop_is_a_difference_in_differences():
    # departure at step 60 of firm 0: customer 1 was the leaver's. In the year before, 4
    # trades each for customers 1 and 2; after, customer 1 buys 3 times, control 2 buys 6.
    rows = [trade(s, 1, 0) for s in (10, 20, 30, 40)] + [trade(s, 2, 0) for s in (10, 20, 30, 40)]
    rows += [trade(s, 1, 0) for s in (70, 80, 90)] + [
        trade(s, 2, 0) for s in (65, 70, 75, 80, 85, 90, 115)
    ]
    rows += [trade(70, 1, 1)]  # followed to firm 1: not the firm's sales
    rows += [{"step": 60, "kind": EV_TURNOVER, "customer": 1, "salesperson": 0, "firm": 0}]
    view = S.RunView(series(150), log(rows))
    # treated 3/4, control 6/4 (step 115 is past the year): 1 - (0.75 / 1.5) = 0.5
    assert S.lookup("departure_sales_drop")(view) == pytest.approx(0.5)


def test_departure_drop_needs_a_full_year_on_both_sides():
    rows = [trade(s, c, 0) for s in (10, 20) for c in (1, 2)]
    rows += [{"step": 30, "kind": EV_TURNOVER, "customer": 1, "salesperson": 0, "firm": 0}]
    assert np.isnan(S.lookup("departure_sales_drop")(S.RunView(series(150), log(rows))))


def test_cost_ratio_compares_least_and_most_trusted_fifths():
    rows = [
        trade(
            1,
            c,
            0,
            salesperson=0,
            trust_before=c / 10,
            cost=2.0 if c < 2 else 1.0 if c < 8 else 0.5,
        )
        for c in range(10)
    ]
    assert S.lookup("cost_ratio_least_to_most_trusted")(S.RunView(series(1), log(rows))) == 4.0


def test_stranger_trust_reads_the_first_encounter_of_cold_contacts_only():
    rows = [
        {
            "step": 1,
            "kind": EV_ENCOUNTER,
            "customer": 1,
            "salesperson": 0,
            "origin": COLD,
            "stage": CONTACT,
            "trust_before": 0.4,
        },
        {
            "step": 2,
            "kind": EV_ENCOUNTER,
            "customer": 1,
            "salesperson": 0,
            "origin": COLD,
            "stage": CLOSED,
            "trust_before": 0.9,
        },
        {
            "step": 1,
            "kind": EV_ENCOUNTER,
            "customer": 2,
            "salesperson": 0,
            "origin": COLD,
            "stage": CLOSED,
            "trust_before": 0.6,
        },
        {
            "step": 1,
            "kind": EV_ENCOUNTER,
            "customer": 3,
            "salesperson": 0,
            "origin": REFERRAL,
            "stage": CLOSED,
            "trust_before": 0.99,
        },
    ]
    assert S.lookup("stranger_trust")(S.RunView(series(2), log(rows))) == pytest.approx(0.5)


def test_complaint_share():
    view = S.RunView(series(3, failures=[2, 0, 2], complaints=[1, 0, 0]))
    assert S.lookup("complaint_share")(view) == 0.25
    assert np.isnan(S.lookup("complaint_share")(S.RunView(series(1, failures=[0], complaints=[0]))))


def test_on_a_real_run_each_statistic_is_in_its_range():
    scenario = small("baseline", "run.steps=130", "run.history=true", "turnover.scheduled_step=60")
    r = simulate(scenario, "core", 3)
    stats = S.compute(
        [
            "departure_sales_drop",
            "cost_ratio_least_to_most_trusted",
            "complaint_share",
            "stranger_trust",
        ],
        S.RunView(r.timeseries, r.events, r.model.world),
    )
    assert -1 <= stats["departure_sales_drop"] <= 1
    assert stats["cost_ratio_least_to_most_trusted"] > 1  # trust lowers cost
    assert 0 <= stats["complaint_share"] <= 1
    p = scenario.population.propensity_mean * (1 - 0.7 * scenario.culture.stranger_wariness)
    assert stats["stranger_trust"] == pytest.approx(p, abs=0.05)
