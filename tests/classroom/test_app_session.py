"""The classroom session behind the page: opening lessons, controls from the schema, reset."""

import pytest

from trustsim.classroom.lessons import all_lessons
from trustsim.classroom.session import CONTROLS, Session, catalogue, control, control_keys
from trustsim.loader import ScenarioError
from trustsim.params import choices_of, field_range, iter_fields

FIELDS = {f"{s}.{k}": f for s, k, f in iter_fields()}


@pytest.fixture(scope="module")
def session():
    return Session()


def test_opens_on_the_first_lesson(session):
    assert session.item.key == all_lessons()[0].id
    assert session.customer == all_lessons()[0].info.customer


@pytest.mark.parametrize("lesson", all_lessons(), ids=lambda lesson: lesson.id)
def test_every_lesson_opens_and_runs(session, lesson):
    session.open(lesson.id)
    assert session.model.params == lesson.scenario
    assert session.step(3) == 3
    assert len(session.frame()) == 3
    assert session.customer == lesson.info.customer


def test_every_shipped_scenario_is_in_the_picker():
    kinds = {item.kind for item in catalogue()}
    assert kinds == {"lesson", "scenario"}
    assert "baseline" in [item.key for item in catalogue()]


def test_controls_come_from_the_schema():
    for item in catalogue():
        for key in control_keys(item):
            finfo = FIELDS[key]
            c = control(key, finfo.default, "en")
            assert c["label"].startswith(finfo.description.rstrip("."))
            if finfo.annotation is bool:
                assert c["type"] == "Checkbox"
                continue
            if choices_of(finfo):  # a word-valued parameter: its words to choose from
                assert c["type"] == "Select"
                continue
            lo, hi = field_range(finfo)
            assert c["type"] == ("SliderInt" if finfo.annotation is int else "SliderFloat")
            assert lo <= c["min"] < c["max"] <= hi
            assert c["min"] <= c["value"] <= c["max"]
    assert set(CONTROLS) <= set(FIELDS)


def test_lesson_controls_include_what_the_lesson_and_its_try_change():
    item = next(i for i in catalogue() if i.key == "breach_way_back")
    keys = control_keys(item)
    assert {"breach.scheduled_step", "mechanisms.breach_scar"} <= set(keys)


def test_a_changed_control_applies_at_reset():
    s = Session("culture")
    s.step(2)
    s.set_value("culture.ring_gradient", 0.3000000001)
    assert s.pending() and s.model.params.culture.ring_gradient == 0.95
    s.reset()
    assert s.model.steps == 0 and s.model.params.culture.ring_gradient == 0.3
    assert not s.pending()


def test_try_this_and_back(session):
    session.open("exit_barrier")
    session.try_this()
    assert session.model.params.mechanisms.exit_barrier is False
    assert session.values["mechanisms.exit_barrier"] is False
    session.try_this(False)
    assert session.model.params.mechanisms.exit_barrier is True


def test_previous_and_next_walk_the_lessons_in_order(session):
    ids = [lesson.id for lesson in all_lessons()]
    session.open(ids[0])
    session.move(-1)
    assert session.item.key == ids[0]
    for expected in ids[1:]:
        session.move(1)
        assert session.item.key == expected
    session.move(1)
    assert session.item.key == ids[-1]
    session.open("baseline")
    session.move(1)
    assert session.item.key == ids[0]


def test_bad_values_are_explained_not_run():
    s = Session("repeated_trades")
    s.set_value("rings.insider_threshold", 0.1)  # below outsider_threshold: no hysteresis
    with pytest.raises(ScenarioError, match="outsider_threshold"):
        s.reset()
    with pytest.raises(ScenarioError, match="no lesson or shipped scenario called 'nope'"):
        s.open("nope")
