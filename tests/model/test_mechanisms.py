"""Every mechanism switch turns something off: the run changes, and in the expected way."""

import numpy as np
import pandas as pd
import pytest

from tests.helpers import small
from trustsim.params import Mechanisms
from trustsim.runtime.run import simulate

# A small market where every mechanism is active: turnover by chance, tight capacity.
ACTIVE = (
    "run.steps=60",
    "turnover.rate=0.02",
    "salespeople.capacity=6",
    "population.n_firms=3",
    "population.kin_share=0.1",
    "competition.offer_rate=0.05",
    "firms.failure_rate=0.1",
    "breach.opportunism=0.5",
)


def run(*extra, seed=4):
    return simulate(small("baseline", *ACTIVE, *extra), "core", seed=seed).timeseries


@pytest.fixture(scope="module")
def on():
    return run()


@pytest.mark.parametrize("switch", list(Mechanisms.model_fields))
def test_switching_a_mechanism_changes_the_run(on, switch):
    """A switch on by default is switched off; one off by default (the customers' and
    firms' mechanisms of ODD 7.17, 7.18) is switched on."""
    default = Mechanisms.model_fields[switch].default
    other = run(f"mechanisms.{switch}={str(not default).lower()}")
    assert not on.equals(other), f"mechanisms.{switch} has no effect"


# What "off" must mean, metric by metric.
ZERO_WHEN_OFF = {
    "breaches": ("breaches",),
    "service_failures": ("failures",),
    "forgiveness": ("forgiven",),
    "competitor_offers": ("offers", "switches"),
    "referral": ("referrals",),
    "word_of_mouth": ("wom_positive", "wom_negative"),
    "turnover": ("moves", "followed", "stayed"),
    "capacity": ("unserved",),
    "look_elsewhere": (
        "looked_elsewhere",
        "trades_elsewhere",
        "lost_to_rival",
        "lost_to_other_firm",
    ),
    "breach_exit": ("breach_exits",),
}


@pytest.mark.parametrize("switch, columns", ZERO_WHEN_OFF.items())
def test_events_of_a_switched_off_mechanism_vanish(on, switch, columns):
    off = run(f"mechanisms.{switch}=false")
    assert all(on[c].sum() > 0 for c in columns), "the mechanism must be active when on"
    assert all(off[c].sum() == 0 for c in columns)


def test_switched_off_needs_means_stated_needs_only(on):
    assert on.mean_needs_depth.max() > 1
    assert (run("mechanisms.needs=false").mean_needs_depth.dropna() == 1).all()


def test_switched_off_transparency_leaves_asymmetry_at_its_start(on):
    assert on.mean_info_asymmetry.iloc[-1] < 1
    assert (run("mechanisms.transparency=false").mean_info_asymmetry.dropna() == 1).all()


def test_switched_off_org_trust_keeps_org_trust_at_propensity(on):
    off = run("mechanisms.org_trust=false")
    assert on.mean_org_trust.nunique() > 1
    assert np.allclose(off.mean_org_trust, off.mean_org_trust.iloc[0])


def test_switched_off_measurement_noise_makes_interviews_exact():
    # with no noise and everyone interviewed, the interview estimate is latent trust
    off = run("mechanisms.measurement_noise=false", "measurement.interview_rate=1.0")
    assert np.allclose(off.interview_trust, off.mean_trust, equal_nan=True)


def test_unobserved_runs_skip_the_simulated_measurements_and_change_nothing_else(on):
    """measurement.observe off: the four simulated measurements are NaN in every step, every
    other metric has the same bits (their draws are keyed, so skipping them moves no other
    draw), and with it on they have values (the check that the switch is what changed)."""
    from trustsim.metrics import OBSERVED

    off = run("measurement.observe=false")
    assert on[list(OBSERVED)].notna().any().all()
    assert off[list(OBSERVED)].isna().all().all()
    rest = [c for c in on.columns if c not in OBSERVED]
    pd.testing.assert_frame_equal(on[rest], off[rest], check_exact=True)


def test_no_named_statistic_reads_the_simulated_measurements():
    """Sweeps and calibrations turn the measurements off unless a kept metric or target
    names one; that is safe only if no registered statistic reads them."""
    from trustsim.analysis.measures.statistics import STATISTICS, RunView, compute

    names = sorted(STATISTICS)
    got = {}
    for observe in ("true", "false"):
        sc = small("baseline", *ACTIVE, "run.history=true", f"measurement.observe={observe}")
        r = simulate(sc, "core", seed=4)
        got[observe] = compute(names, RunView(r.timeseries, r.events, r.model.world, 20, sc))
    assert got["true"].keys() == got["false"].keys() and len(names) > 10
    for name in names:
        assert np.array_equal(got["true"][name], got["false"][name], equal_nan=True), name
