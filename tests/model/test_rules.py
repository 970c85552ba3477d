"""Unit tests of the shared rule functions (ODD section 7)."""

import numpy as np
import pytest

from trustsim import rules
from trustsim.codes import CLOSED, COLD, FAMILY, HANDOVER, INSIDER, KIN, OUTSIDER, REFERRAL
from trustsim.params import Scenario, param_record
from trustsim.rng import index, normal, uniform


def rec(**changes):
    """Parameter record of the default scenario with ``section__key=value`` changes."""
    sc = Scenario()
    for name, value in changes.items():
        section, key = name.split("__")
        setattr(getattr(sc, section), key, value)
    return param_record(sc)


P = rec()


# ----------------------------------------------------------------------- random numbers


def test_uniform_is_a_pure_function_of_its_key():
    assert uniform(7, 3, 11, 2, 5) == uniform(7, 3, 11, 2, 5)
    base = uniform(7, 3, 11, 2, 5)
    for key in [
        (8, 3, 11, 2, 5),
        (7, 4, 11, 2, 5),
        (7, 3, 12, 2, 5),
        (7, 3, 11, 3, 5),
        (7, 3, 11, 2, 6),
    ]:
        assert uniform(*key) != base


def test_uniform_and_normal_have_the_right_moments():
    u = np.array([uniform(1, t, c, 0, 9) for t in range(50) for c in range(200)])
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.005
    z = np.array([normal(1, t, c, 0, 9) for t in range(50) for c in range(200)])
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05


def test_index_covers_its_range_uniformly():
    k = np.array([index(3, 1, c, 0, 2, 5) for c in range(5000)])
    counts = np.bincount(k, minlength=5)
    assert counts.size == 5 and counts.min() > 900


# ------------------------------------------------------------------------ rings, culture


def test_ring_weights_fall_outward_in_a_steep_culture_and_are_flat_when_switched_off():
    w = [rules.ring_weight(r, P) for r in (FAMILY, INSIDER, OUTSIDER)]
    assert w[0] > w[1] > w[2] > 0
    off = rec(mechanisms__ring_gradient=False)
    assert [rules.ring_weight(r, off) for r in (FAMILY, INSIDER, OUTSIDER)] == [1.0, 1.0, 1.0]


def test_first_meeting_trust_by_origin():
    cold = rules.initial_trust(COLD, 0.6, 0.0, OUTSIDER, 0.0, P)
    assert cold == pytest.approx(0.6 * (1 - 0.7 * 0.6))
    assert rules.initial_trust(KIN, 0.6, 0.0, OUTSIDER, 0.0, P) == 0.8
    via_family = rules.initial_trust(REFERRAL, 0.6, 0.9, FAMILY, 0.0, P)
    via_outsider = rules.initial_trust(REFERRAL, 0.6, 0.9, OUTSIDER, 0.0, P)
    assert via_family > via_outsider > cold
    assert rules.initial_trust(HANDOVER, 0.6, 0.0, OUTSIDER, 0.9, P) > cold
    steep, flat = rec(culture__ring_gradient=1.0), rec(culture__ring_gradient=0.0)
    assert rules.initial_trust(COLD, 0.6, 0, OUTSIDER, 0, steep) < rules.initial_trust(
        COLD, 0.6, 0, OUTSIDER, 0, flat
    )
    assert rules.initial_ring(KIN) == FAMILY and rules.initial_ring(COLD) == OUTSIDER


def test_ring_migration_has_hysteresis_and_breach_throws_out():
    # thresholds: in at 0.6 after 3 trades, out below 0.45
    assert rules.ring_after(OUTSIDER, 0.65, 3, False, P) == INSIDER
    assert rules.ring_after(OUTSIDER, 0.65, 2, False, P) == OUTSIDER
    assert rules.ring_after(OUTSIDER, 0.55, 9, False, P) == OUTSIDER
    assert rules.ring_after(INSIDER, 0.55, 9, False, P) == INSIDER  # between thresholds: stays
    assert rules.ring_after(INSIDER, 0.40, 9, False, P) == OUTSIDER
    assert rules.ring_after(INSIDER, 0.90, 9, True, P) == OUTSIDER
    assert rules.ring_after(FAMILY, 0.10, 9, True, P) == FAMILY
    frozen = rec(mechanisms__ring_migration=False)
    assert rules.ring_after(OUTSIDER, 0.9, 9, False, frozen) == OUTSIDER


# ---------------------------------------------------------------------------- trust


def test_ability_weight_shifts_from_ability_to_character_with_age():
    w = [rules.ability_weight(n, P) for n in (0, 5, 20, 100)]
    assert w[0] == pytest.approx(0.8) and w[-1] == pytest.approx(0.3, abs=1e-4)
    assert all(a > b for a, b in zip(w, w[1:]))
    off = rec(mechanisms__age_shift=False)
    assert rules.ability_weight(0, off) == rules.ability_weight(50, off) == pytest.approx(0.55)


def test_combined_trust_lies_between_its_components_and_gifts_count_only_when_on():
    t = rules.combined_trust(0.2, 0.8, 0.0, 4, P)
    assert 0.2 < t < 0.8
    assert rules.combined_trust(0.2, 0.8, 0.3, 4, P) > t
    assert rules.combined_trust(0.2, 0.8, 0.3, 4, rec(mechanisms__gifts=False)) == t
    assert rules.instrumental_now(0.9, 0.5, P) == 1.0


def test_gift_effect_decays_geometrically():
    assert rules.gift_now(0.2, 10, 10, P) == 0.2
    assert rules.gift_now(0.2, 10, 12, P) == pytest.approx(0.2 * 0.85**2)
    assert rules.gift_now(0.0, 0, 5, P) == 0.0


def test_learning_moves_trust_toward_what_was_shown():
    ti, te, gift, _scar, asym = rules.learn(0.3, 0.3, 0.0, 0.0, 1.0, 0.9, 1, 0.9, 0.0, 0.5, P)
    assert 0.3 < ti < 0.9 and te > 0.3 and asym < 1.0 and gift == 0.0
    low, *_ = rules.learn(0.8, 0.3, 0.0, 0.0, 1.0, 0.2, 1, 0.9, 0.0, 0.5, P)
    assert low < 0.8
    # a scar slows learning; transparency removes asymmetry faster
    scarred, *_ = rules.learn(0.3, 0.3, 0.0, 1.0, 1.0, 0.9, 1, 0.9, 0.0, 0.5, P)
    assert scarred < ti
    *_, asym_clear = rules.learn(0.3, 0.3, 0.0, 0.0, 1.0, 0.9, 1, 0.9, 0.0, 1.0, P)
    assert asym_clear < asym


def test_gifts_buy_instrumental_trust_and_fade_when_performance_disappoints():
    _, _, gift, _, _ = rules.learn(0.5, 0.5, 0.1, 0.0, 1.0, 0.9, 1, 0.9, 1.0, 0.5, P)
    assert gift == pytest.approx(0.1 + 0.08)
    _, _, gift_bad, _, _ = rules.learn(0.5, 0.5, 0.1, 0.0, 1.0, 0.1, 1, 0.9, 1.0, 0.5, P)
    assert gift_bad == pytest.approx(0.1 * 0.5 + 0.08)


def test_deeper_needs_give_a_larger_emotional_signal():
    values = [rules.needs_value(d, P) for d in range(1, 6)]
    assert values[0] == 0.0 and all(a < b for a, b in zip(values, values[1:]))
    te_shallow = rules.learn(0.5, 0.3, 0, 0, 0, 0.7, 1, 0.8, 0.5, 0.5, P)[1]
    te_deep = rules.learn(0.5, 0.3, 0, 0, 0, 0.7, 5, 0.8, 0.5, 0.5, P)[1]
    assert te_deep > te_shallow


def test_needs_depth_is_limited_by_the_ring():
    for ring, limit in ((OUTSIDER, 2), (INSIDER, 4), (FAMILY, 5)):
        depths = [rules.needs_depth(1, t, c, 0, ring, 1.0, P) for t in range(20) for c in range(20)]
        assert max(depths) == limit
    assert rules.needs_depth(1, 1, 1, 0, FAMILY, 1.0, rec(mechanisms__needs=False)) == 1


def test_a_breach_costs_more_than_a_good_trade_builds():
    ti, te = 0.7, 0.7
    gain = rules.learn(ti, te, 0, 0, 0, 1.0, 1, 1.0, 0.5, 1.0, P)[0] - ti
    bti, bte, bgift, bscar = rules.breach_loss(ti, te, P)
    assert ti - bti > 3 * gain and bte < te and bgift == 0.0
    assert bscar == 0.7 == Scenario().breach.scar  # the scar is the parameter


# ------------------------------------------------------------------- sales, failures, WOM


def test_sales_stages_pass_more_often_with_more_trust():
    def closed(d):
        return np.mean(
            [
                rules.sales_stages(1, t, c, 0, d, 1.0, P) == CLOSED
                for t in range(30)
                for c in range(30)
            ]
        )

    assert closed(0.1) < closed(0.4) < closed(0.8)


def test_forgiveness_rises_with_trust():
    def forgiven(trust):
        return np.mean(
            [
                rules.failure_response(1, t, c, 0, trust, 0.5, 0.5, OUTSIDER, 0.5, P)[0]
                for t in range(30)
                for c in range(30)
            ]
        )

    assert forgiven(0.2) < forgiven(0.5) < forgiven(0.8)
    none = rec(mechanisms__forgiveness=False)
    assert not any(
        rules.failure_response(1, t, 0, 0, 0.99, 0.5, 0.5, INSIDER, 1.0, none)[0] for t in range(50)
    )


def test_transaction_cost_falls_with_trust_only_when_the_mechanism_is_on():
    assert rules.transaction_cost(0.9, 0.5, P) < rules.transaction_cost(0.1, 0.5, P)
    off = rec(mechanisms__transaction_cost=False)
    assert rules.transaction_cost(0.9, 0.5, off) == rules.transaction_cost(0.1, 0.5, off)


def test_switching_needs_a_larger_discount_when_trust_is_higher():
    def switch_rate(trust):
        return np.mean(
            [
                rules.competitor_offer(1, t, c, trust, OUTSIDER, P)[1]
                for t in range(30)
                for c in range(30)
            ]
        )

    assert switch_rate(0.1) > switch_rate(0.5) > switch_rate(0.9)
    flat = rec(mechanisms__exit_barrier=False)
    assert np.mean(
        [rules.competitor_offer(1, t, 0, 0.9, INSIDER, flat)[1] for t in range(300)]
    ) == np.mean([rules.competitor_offer(1, t, 0, 0.1, INSIDER, flat)[1] for t in range(300)])


def test_no_praise_after_a_failed_trade_and_warnings_after_bad_ones():
    praised = [rules.wom_sign(1, t, 0, 0, 0.5, False, False, P) for t in range(200)]
    assert max(praised) == 1 and min(praised) == 0
    assert all(rules.wom_sign(1, t, 0, 0, 0.5, False, True, P) == 0 for t in range(200))
    assert min(rules.wom_sign(1, t, 0, 0, 0.5, True, True, P) for t in range(200)) == -1


def test_insider_loyalty_is_credited_as_trust_in_forgiveness_and_exit_barrier():
    def forgiven(ring, trust):
        return np.mean(
            [
                rules.failure_response(1, t, c, 0, trust, 0.5, 0.5, ring, 0.5, P)[0]
                for t in range(30)
                for c in range(30)
            ]
        )

    bonus = rules.loyalty_bonus(INSIDER, P)
    assert bonus == pytest.approx(0.7 * 0.3)
    assert forgiven(INSIDER, 0.4) == pytest.approx(forgiven(OUTSIDER, 0.4 + bonus), abs=1e-12)

    def switched(ring, trust):
        return [
            rules.competitor_offer(1, t, c, trust, ring, P)[1] for t in range(20) for c in range(20)
        ]

    assert switched(INSIDER, 0.4) == switched(OUTSIDER, 0.4 + bonus)


def test_word_of_mouth_moves_org_trust_by_ring_weight():
    fam = rules.wom_receive(0.5, 1, FAMILY, P)
    out = rules.wom_receive(0.5, 1, OUTSIDER, P)
    assert fam > out > 0.5
    assert rules.wom_receive(0.5, -1, FAMILY, P) < 0.5
    assert rules.wom_receive(0.5, 0, FAMILY, P) == 0.5


def test_customers_follow_a_departing_salesperson_when_personal_trust_dominates():
    def follow(personal, org):
        return np.mean(
            [
                rules.follows(1, t, c, 0, personal, org, np.nan, P)
                for t in range(20)
                for c in range(20)
            ]
        )

    assert follow(0.9, 0.3) > 0.9 and follow(0.3, 0.9) < 0.1


def test_capacity_rations_requests_without_order():
    accepted = np.mean([rules.capacity_accept(1, 1, c, 0, 80, 40, P) for c in range(4000)])
    assert accepted == pytest.approx(0.5, abs=0.03)
    assert all(
        rules.capacity_accept(1, 1, c, 0, 80, 40, rec(mechanisms__capacity=False))
        for c in range(50)
    )


# ------------------------------------------------------- going elsewhere (7.14, 7.15)


def test_looking_elsewhere_rises_with_distrust_and_with_failed_attempts():
    p = [rules.look_probability(trust, OUTSIDER, 1, P) for trust in (0.9, 0.6, 0.3, 0.0)]
    assert p == sorted(p) and p[0] < p[-1]
    q = [rules.look_probability(0.6, OUTSIDER, misses, P) for misses in (1, 2, 4, 8, 30)]
    assert q == sorted(q) and q[0] < q[1] and q[-1] > 0.99


def test_after_one_failed_attempt_distrust_alone_decides():
    a = Scenario().elsewhere.distrust_weight
    assert rules.look_probability(0.25, OUTSIDER, 1, P) == pytest.approx(a * 0.75)
    assert rules.look_probability(1.0, OUTSIDER, 1, P) == 0.0  # full trust: patient once
    tau = Scenario().elsewhere.patience
    assert rules.look_probability(1.0, OUTSIDER, 1 + 2 * tau, P) == pytest.approx(1 - np.exp(-2))


def test_insiders_are_more_patient_in_a_steep_culture_only():
    assert rules.look_probability(0.4, INSIDER, 1, P) < rules.look_probability(0.4, OUTSIDER, 1, P)
    flat = rec(culture__ring_gradient=0.0)
    assert rules.look_probability(0.4, INSIDER, 1, flat) == rules.look_probability(
        0.4, OUTSIDER, 1, flat
    )


def test_looking_elsewhere_switched_off_never_happens():
    off = rec(mechanisms__look_elsewhere=False)
    assert rules.look_probability(0.0, OUTSIDER, 50, off) == 0.0
    assert not any(rules.looks_elsewhere(1, t, 3, 2, 0.0, OUTSIDER, 50, off) for t in range(200))


def test_looks_elsewhere_draws_at_the_stated_rate():
    hits = np.mean([rules.looks_elsewhere(5, t, 7, 2, 0.5, OUTSIDER, 1, P) for t in range(4000)])
    assert hits == pytest.approx(rules.look_probability(0.5, OUTSIDER, 1, P), abs=0.03)


def test_leaving_after_a_breach_rises_with_trust_lost_and_falls_with_loyalty():
    p = [rules.exit_probability(lost, OUTSIDER, P) for lost in (0.0, 0.1, 0.3, 0.6)]
    assert p[0] == 0.0 and p == sorted(p) and p[1] < p[3]
    k = Scenario().breach.exit_sensitivity
    assert rules.exit_probability(0.2, OUTSIDER, P) == pytest.approx(min(1.0, k * 0.2))
    assert rules.exit_probability(0.3, INSIDER, P) < rules.exit_probability(0.3, OUTSIDER, P)
    assert rules.exit_probability(0.3, FAMILY, P) < rules.exit_probability(0.3, OUTSIDER, P)
    assert 0.0 <= rules.exit_probability(5.0, OUTSIDER, P) <= 1.0


def test_leaving_after_a_breach_switched_off_never_happens():
    off = rec(mechanisms__breach_exit=False)
    assert rules.exit_probability(1.0, OUTSIDER, off) == 0.0
    assert not any(rules.leaves_after_breach(1, t, 3, 0, 1.0, OUTSIDER, off) for t in range(200))


def test_a_cold_contact_elsewhere_is_someone_else():
    for t in range(300):
        s = t % 7
        other = rules.other_salesperson(3, t, 11, s, 7)
        assert 0 <= other < 7 and other != s
        assert rules.elsewhere_firm(3, t, 11, s % 3, 3) != s % 3
        assert 0 <= rules.elsewhere_pick(3, t, 11, 1, 4) < 4
    assert rules.other_salesperson(3, 1, 11, 0, 1) == -1


def test_a_second_referral_is_a_fresh_draw():
    first = [rules.refers(2, t, 5, 9, INSIDER, P) for t in range(500)]
    again = [rules.refers_elsewhere(2, t, 5, 9, INSIDER, P) for t in range(500)]
    assert first != again
    assert np.mean(again) == pytest.approx(np.mean(first), abs=0.06)
    assert not any(
        rules.refers_elsewhere(2, t, 5, 9, INSIDER, rec(mechanisms__referral=False))
        for t in range(100)
    )
