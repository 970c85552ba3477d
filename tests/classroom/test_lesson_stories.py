"""Each lesson's named customer still shows the lesson's point (docs/CLASSROOM.md: "if the
model's rules change, pick again"). A failure names customers that would show it now.

The stories are read from the event log of the lesson's own run (its scenario and seed).
The sandbox lesson has no point of its own, so it has no story here.
"""

import pandas as pd
import pytest

from trustsim.classroom.lessons import find_lesson
from trustsim.codes import CLOSED, INSIDER, OUTSIDER, REFERRAL
from trustsim.metrics import EV_ENCOUNTER, EV_OFFER
from trustsim.runtime.run import simulate


def _encounters(ev: pd.DataFrame, c: int) -> pd.DataFrame:
    return ev[(ev.kind == EV_ENCOUNTER) & (ev.customer == c)]


def repeated_trades(ev, c, sc):
    """A salesperson crosses from the outer into the insider ring through a trade."""
    e = _encounters(ev, c)
    return ((e.ring_before == OUTSIDER) & (e.ring_after == INSIDER) & (e.stage == CLOSED)).any()


def ability_then_character(ev, c, sc):
    """A relationship that becomes an insider one and grows old (10 trades or more)."""
    return repeated_trades(ev, c, sc) and (_encounters(ev, c).n_trades >= 10).any()


def breach_way_back(ev, c, sc):
    """An insider of salesperson 0, deceived at the scheduled breach, who stays and trades
    with it at least three more times (the slow way back)."""
    e = _encounters(ev, c)
    t = sc.breach.scheduled_step
    hit = e[(e.step == t) & (e.salesperson == 0) & (e.breach == 1) & (e.ring_before == INSIDER)]
    if hit.empty or hit.breach_exit.iloc[0] or hit.exited.iloc[0]:
        return False
    return ((e.step > t) & (e.salesperson == 0) & (e.stage == CLOSED)).sum() >= 3


def forgiveness(ev, c, sc):
    """A failure by an inner-ring salesperson forgiven, and a failure by an outsider."""
    f = _encounters(ev, c)
    f = f[f.failed == 1]
    return ((f.ring_before != OUTSIDER) & (f.forgiven == 1)).any() and (
        f.ring_before == OUTSIDER
    ).any()


def exit_barrier(ev, c, sc):
    """An insider or kin customer turns down a sizeable discount."""
    o = ev[(ev.kind == EV_OFFER) & (ev.customer == c)]
    return ((o.ring_before != OUTSIDER) & (o.switched == 0) & (o.discount > 0.2)).any()


def referral(ev, c, sc):
    """A salesperson met by referral with whom the customer trades."""
    e = _encounters(ev, c)
    return ((e.origin == REFERRAL) & (e.stage == CLOSED)).any()


def gifts_vs_emotion(ev, c, sc):
    """After five trades, felt ability trust (gift included) well above character trust."""
    e = _encounters(ev, c)
    e = e[(e.stage == CLOSED) & (e.n_trades >= 5)]
    return ((e.ti_after + e.gift - e.te_after) > 0.2).any()


def culture(ev, c, sc):
    """A stranger accepted into the insider ring, but only after four trades or more."""
    e = _encounters(ev, c)
    cross = e[(e.ring_before == OUTSIDER) & (e.ring_after == INSIDER)]
    return not cross.empty and cross.n_trades.iloc[0] >= 4


STORIES = {
    f.__name__: f
    for f in (
        repeated_trades,
        ability_then_character,
        breach_way_back,
        forgiveness,
        exit_barrier,
        referral,
        gifts_vs_emotion,
        culture,
    )
}


@pytest.mark.parametrize("lesson_id", sorted(STORIES))
def test_the_lesson_customer_shows_the_lesson(lesson_id):
    lesson = find_lesson(lesson_id)
    sc = lesson.scenario.model_copy(deep=True)
    sc.run.history = True
    ev = simulate(sc, "core").events
    story = STORIES[lesson_id]
    c = lesson.info.customer
    if not story(ev, c, sc):
        others = [x for x in range(sc.population.n_customers) if story(ev, x, sc)]
        pytest.fail(f"{lesson_id}: customer {c} no longer shows it; these do: {others[:10]}")
