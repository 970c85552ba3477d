"""The ring view: dots sit in their ring's band, move inward with trust, outward after a breach."""

import math

from matplotlib import rcParams
from matplotlib.figure import Figure

from trustsim import rules
from trustsim.classroom.lessons import find_lesson
from trustsim.classroom.ringview import (
    EDGES,
    band_radius,
    draw_network,
    draw_rings,
    salesperson_dots,
)
from trustsim.codes import COLD, FAMILY, INSIDER, OUTSIDER
from trustsim.loader import load_scenario
from trustsim.mesa_model.agents import Relationship
from trustsim.mesa_model.model import TrustModel


def model():
    return TrustModel(load_scenario("classroom", ["population.n_customers=60"]))


def dot_of(m, c, s):
    return next(d for d in salesperson_dots(m, c) if d.salesperson == s)


def test_band_radius_falls_with_trust_and_stays_in_its_band():
    for ring in (FAMILY, INSIDER, OUTSIDER):
        radii = [band_radius(ring, t / 10) for t in range(11)]
        assert all(a > b for a, b in zip(radii, radii[1:]))
        assert EDGES[ring] < min(radii) and max(radii) < EDGES[ring + 1]


def test_a_dot_moves_inward_as_trust_grows_and_out_after_a_breach():
    m = model()
    rel = Relationship(0.2, 0.2, OUTSIDER, COLD, 0, n_trades=1)
    m.customers[5].relationships[2] = rel
    cold = dot_of(m, 5, 2)
    rel.ti, rel.te = 0.55, 0.5
    warmer = dot_of(m, 5, 2)
    assert warmer.radius < cold.radius and warmer.ring == OUTSIDER
    rel.ti, rel.te, rel.ring, rel.n_trades = 0.8, 0.75, INSIDER, 6
    insider = dot_of(m, 5, 2)
    assert EDGES[INSIDER] < insider.radius < EDGES[INSIDER + 1]
    rel.ti, rel.te, rel.gift, rel.scar = rules.breach_loss(rel.ti, rel.te, m.P)
    rel.ring = OUTSIDER
    assert dot_of(m, 5, 2).radius > insider.radius + 0.5
    # the direction of a salesperson never changes: only the distance does
    assert math.isclose(math.atan2(cold.y, cold.x), math.atan2(insider.y, insider.x))


def test_colour_share_shifts_from_ability_to_character_as_a_relationship_ages():
    m = model()
    rel = Relationship(0.6, 0.6, OUTSIDER, COLD, 0, n_trades=0)
    m.customers[1].relationships[0] = rel
    young = dot_of(m, 1, 0).emotional_share
    rel.n_trades = 40
    assert dot_of(m, 1, 0).emotional_share > young + 0.3


def test_breach_lesson_throws_insiders_of_the_breaching_salesperson_outward():
    lesson = find_lesson("breach_way_back")
    m = TrustModel(lesson.scenario)
    s, when = lesson.scenario.breach.scheduled_salesperson, lesson.scenario.breach.scheduled_step
    for _ in range(when - 1):
        m.step()
    before = {
        c.idx: dot_of(m, c.idx, s)
        for c in m.customers
        if s in c.relationships and c.relationships[s].ring == INSIDER
    }
    m.step()
    thrown = [c for c, d in before.items() if m.customers[c].relationships[s].n_trades > d.n_trades]
    assert thrown, "some insiders of the breaching salesperson trade at the breach step"
    for c in thrown:
        after = dot_of(m, c, s)
        assert after.ring == OUTSIDER and after.radius > before[c].radius


def test_drawing_in_both_languages_labels_rings_and_marks_the_current_salesperson():
    m = model()
    for _ in range(30):
        m.step()
    c = next(c.idx for c in m.customers if c.salesperson is not None)
    for lang, word in (("zh", "自己人"), ("en", "insiders")):
        fig = Figure()
        ax = fig.add_subplot()
        dots = draw_rings(ax, m, c, lang)
        assert word in [t.get_text() for t in ax.texts]
        assert sum(d.current for d in dots) == 1
        fig2 = Figure()
        ax2 = fig2.add_subplot()
        draw_network(ax2, m, c, lang)
        assert len(ax2.collections) >= 3  # edges by ring, customers, the chosen one


def test_a_cjk_font_is_used_for_chinese_labels():
    assert any("CJK" in name for name in rcParams["font.family"])
