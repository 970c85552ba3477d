"""The update rules (ODD section 7, "Submodels"), compiled once and called by both engines.

Each function is one submodel of docs/ODD.md and takes the parameter record ``P`` (see
:func:`trustsim.params.param_record`) as its last argument. Switches in ``P`` turn a
mechanism off; no rule knows which engine calls it. Random draws come from
:mod:`trustsim.rng`, keyed by (seed, step, customer, salesperson, purpose).
"""

import numpy as np
from numba import njit

from .codes import (
    CLOSED,
    CONTACT,
    D_BARRIER,
    D_BREACH,
    D_CAPACITY,
    D_COMPLAIN,
    D_DISCOUNT,
    D_EXIT,
    D_FAILURE,
    D_FOLLOW,
    D_FORGIVE,
    D_NEED,
    D_NEEDS_DEPTH,
    D_OFFER,
    D_OUTCOME,
    D_REFERRAL,
    D_RIVAL,
    D_STAGE,
    D_TURNOVER,
    D_WOM,
    FAMILY,
    HANDOVER,
    INSIDER,
    KIN,
    OUTSIDER,
    REFERRAL,
)
from .rng import index, normal, uniform


@njit(cache=True)
def clip01(x):
    return min(1.0, max(0.0, x))


@njit(cache=True)
def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# --------------------------------------------------------------------- rings and culture


@njit(cache=True)
def gradient(P):
    """Steepness g of the 差序格局 gradient; 0 when the mechanism is off (universalistic)."""
    p = P[0]
    return p.culture_ring_gradient if p.mechanisms_ring_gradient > 0.5 else 0.0


@njit(cache=True)
def ring_weight(ring, P):
    """Weight of a tie or relationship by ring: w = (1 - g) + g * base[ring]."""
    g = gradient(P)
    if ring == FAMILY:
        base = 1.0
    elif ring == INSIDER:
        base = 0.5
    else:
        base = 0.05
    return (1.0 - g) + g * base


@njit(cache=True)
def loyalty_bonus(ring, P):
    """Trust an insider or kin is credited with, on top of T, when a failure is judged and
    when a competitor's offer is weighed (steep cultures only)."""
    if ring == OUTSIDER:
        return 0.0
    return P[0].culture_insider_loyalty * gradient(P)


@njit(cache=True)
def initial_trust(origin, propensity, referrer_trust, referrer_ring, org, P):
    """Trust in a salesperson at first meeting, by how they were met (ODD 7.1)."""
    p = P[0]
    stranger = propensity * (1.0 - gradient(P) * p.culture_stranger_wariness)
    if origin == KIN:
        return p.trust_kin_trust
    if origin == REFERRAL:
        lift = max(referrer_trust - stranger, 0.0)
        return stranger + p.trust_referral_warmth * ring_weight(referrer_ring, P) * lift
    if origin == HANDOVER and p.mechanisms_org_trust > 0.5:
        return stranger + p.turnover_handover_weight * (org - stranger)
    return stranger


@njit(cache=True)
def initial_ring(origin):
    return FAMILY if origin == KIN else OUTSIDER


@njit(cache=True)
def ring_after(ring, trust, n_trades, breach, P):
    """Ring migration with hysteresis; a breach throws a non-kin salesperson out (ODD 7.9)."""
    p = P[0]
    if ring == FAMILY:
        return FAMILY
    if breach:
        return OUTSIDER
    if p.mechanisms_ring_migration < 0.5:
        return ring
    if (
        ring == OUTSIDER
        and trust >= p.rings_insider_threshold
        and n_trades >= p.rings_insider_min_trades
    ):
        return INSIDER
    if ring == INSIDER and trust < p.rings_outsider_threshold:
        return OUTSIDER
    return ring


# --------------------------------------------------------------------------- trust


@njit(cache=True)
def ability_weight(n_trades, P):
    """Weight of ability trust: early -> late with the age of the relationship (ODD 7.2)."""
    p = P[0]
    early, late = p.trust_weight_ability_early, p.trust_weight_ability_late
    if p.mechanisms_age_shift < 0.5:
        return 0.5 * (early + late)
    return late + (early - late) * np.exp(-n_trades / p.trust_age_scale)


@njit(cache=True)
def gift_now(gift, last_step, step, P):
    """Gift effect left at ``step`` after geometric decay since ``last_step``."""
    if gift <= 0.0:
        return 0.0
    return gift * P[0].gifts_decay ** max(step - last_step, 0)


@njit(cache=True)
def instrumental_now(ti, gift, P):
    """Ability trust as felt now: learned trust plus what gifts still buy."""
    g = gift if P[0].mechanisms_gifts > 0.5 else 0.0
    return min(1.0, ti + g)


@njit(cache=True)
def combined_trust(ti, te, gift, n_trades, P):
    """Overall trust T = w(n) * min(1, ti + gift) + (1 - w(n)) * te."""
    w = ability_weight(n_trades, P)
    return w * instrumental_now(ti, gift, P) + (1.0 - w) * te


@njit(cache=True)
def decision_trust(trust, org, risk, asym, P):
    """Trust used at each sales stage: personal and organizational, less perceived risk."""
    p = P[0]
    w = p.trust_org_weight if p.mechanisms_org_trust > 0.5 else 0.0
    d = (1.0 - w) * trust + w * org
    if p.mechanisms_risk_perception > 0.5:
        d -= p.sales_risk_weight * risk * asym
    return d


@njit(cache=True)
def clarity(asym, P):
    """Share of a trade's signal that gets through information asymmetry."""
    return 1.0 - P[0].costs_asym_clarity * asym


# --------------------------------------------------------------------- sales process


@njit(cache=True)
def needs_to_buy(seed, step, c, P):
    """Does customer ``c`` need to buy this step?"""
    return uniform(seed, step, c, 0, D_NEED) < P[0].population_purchase_rate


@njit(cache=True)
def forced_breach(step, s, P):
    """Is this the scenario's scheduled breach (salesperson ``s`` at ``step``)?"""
    p = P[0]
    return step == p.breach_scheduled_step and s == p.breach_scheduled_salesperson


@njit(cache=True)
def sales_stages(seed, step, c, s, dtrust, price, P):
    """Walk contact -> consult -> objection -> closing; return the stage reached (ODD 7.3)."""
    p = P[0]
    thresholds = (
        p.sales_contact_threshold,
        p.sales_consult_threshold,
        p.sales_objection_threshold,
        p.sales_closing_threshold + p.sales_price_sensitivity * (price - 1.0),
    )
    for stage in range(CONTACT, CLOSED):
        prob = sigmoid(p.sales_stage_slope * (dtrust - thresholds[stage]))
        if uniform(seed, step, c, s, D_STAGE * 16 + stage) >= prob:
            return stage
    return CLOSED


@njit(cache=True)
def needs_depth(seed, step, c, s, ring, empathy, P):
    """Deepest need level uncovered (1 stated ... 5 secret); deeper levels only for insiders."""
    p = P[0]
    if p.mechanisms_needs < 0.5:
        return 1
    if ring == FAMILY:
        limit = p.needs_depth_family
    elif ring == INSIDER:
        limit = p.needs_depth_insider
    else:
        limit = p.needs_depth_outsider
    depth = 1
    for level in range(2, int(limit) + 1):
        chance = empathy * p.needs_uncover_decay ** (level - 2)
        if uniform(seed, step, c, s, D_NEEDS_DEPTH * 16 + level) >= chance:
            break
        depth = level
    return depth


@njit(cache=True)
def needs_value(depth, P):
    """Emotional signal of having one's needs understood down to ``depth``."""
    p = P[0]
    total = 0.0
    for level in range(2, depth + 1):
        total += p.needs_value_base * p.needs_value_growth ** (level - 2)
    return total


@njit(cache=True)
def trade_outcome(
    seed, step, c, s, competence, integrity, quality, consistency, failure_rate, forced_breach, P
):
    """Performance in [0, 1], whether the salesperson breached, whether service failed."""
    p = P[0]
    noise = (1.0 - consistency) * p.trust_outcome_noise * normal(seed, step, c, s, D_OUTCOME)
    perf = clip01(0.5 * competence + 0.5 * quality + noise)
    breach = False
    if p.mechanisms_breaches > 0.5:
        breach = forced_breach or uniform(seed, step, c, s, D_BREACH) < p.breach_opportunism * (
            1.0 - integrity
        )
    failed = False
    if p.mechanisms_service_failures > 0.5:
        failed = uniform(seed, step, c, s, D_FAILURE) < failure_rate
    return perf, breach, failed


@njit(cache=True)
def strategy_signals(strategy, P):
    """(gift per trade, respect signal) of a salesperson with instrumental share ``strategy``."""
    p = P[0]
    gift = p.gifts_size * strategy if p.mechanisms_gifts > 0.5 else 0.0
    respect = (
        p.trust_respect_effect * (1.0 - strategy) if p.mechanisms_emotional_strategy > 0.5 else 0.0
    )
    return gift, respect


@njit(cache=True)
def learn(ti, te, gift, scar, asym, perf, depth, integrity, strategy, transparency, P):
    """Trust learning from one honest trade (ODD 7.5); returns new (ti, te, gift, scar, asym)."""
    p = P[0]
    rate = clarity(asym, P)
    if p.mechanisms_breach_scar > 0.5:
        rate *= 1.0 - scar
    gift_step, respect = strategy_signals(strategy, P)
    character = clip01(p.trust_character_weight * integrity + respect + needs_value(depth, P))
    new_ti = ti + p.trust_learn_instrumental * rate * (perf - ti)
    new_te = te + p.trust_learn_emotional * rate * (character - te)
    if perf < ti:
        gift *= 1.0 - p.gifts_unbacked_loss
    new_gift = min(1.0, gift + gift_step)
    new_scar = scar * p.breach_scar_recovery
    new_asym = asym
    if p.mechanisms_transparency > 0.5:
        new_asym = asym * (1.0 - p.costs_asym_learning * transparency)
    return clip01(new_ti), clip01(new_te), new_gift, new_scar, new_asym


@njit(cache=True)
def breach_loss(ti, te, P):
    """A breach: large, asymmetric loss (Slovic 1993); gifts are void; a scar opens."""
    p = P[0]
    return (
        ti * (1.0 - p.breach_loss_instrumental),
        te * (1.0 - p.breach_loss_emotional),
        0.0,
        p.breach_scar,
    )


@njit(cache=True)
def failure_response(seed, step, c, s, trust, ti, te, ring, recovery, P):
    """Service failure met with trust ``trust`` (ODD 7.6).

    Forgiven: a small loss. Not forgiven: a larger loss, maybe a complaint, maybe exit.
    Ability trust takes the full loss, character trust half of it.
    Returns (forgiven, complained, exited, ti, te).
    """
    p = P[0]
    forgive = 0.0
    if p.mechanisms_forgiveness > 0.5:
        x = p.failures_forgive_slope * (
            trust + loyalty_bonus(ring, P) - p.failures_forgive_threshold
        ) + p.failures_recovery_weight * (recovery - 0.5)
        forgive = sigmoid(x)
    if uniform(seed, step, c, s, D_FORGIVE) < forgive:
        loss = p.failures_loss_forgiven
        return True, False, False, ti * (1.0 - loss), te * (1.0 - 0.5 * loss)
    complained = uniform(seed, step, c, s, D_COMPLAIN) < p.failures_complaint_prob
    exited = uniform(seed, step, c, s, D_EXIT) < p.failures_exit_prob * (1.0 - trust)
    loss = p.failures_loss_unforgiven
    return False, complained, exited, ti * (1.0 - loss), te * (1.0 - 0.5 * loss)


@njit(cache=True)
def org_learn(org, perf, failed, forgiven, breach, recovery, social, asym, P):
    """Organizational trust moves toward what the firm delivered (ODD 7.7)."""
    p = P[0]
    if p.mechanisms_org_trust < 0.5:
        return org
    if breach:
        target = 0.0
    elif failed:
        target = recovery if forgiven else 0.0
    else:
        target = perf
    target = (1.0 - p.trust_social_weight) * target + p.trust_social_weight * social
    return clip01(org + p.trust_org_learn * clarity(asym, P) * (target - org))


@njit(cache=True)
def transaction_cost(trust, asym, P):
    """Negotiation plus checking cost of one trade (ODD 7.8)."""
    p = P[0]
    saving = p.costs_trust_saving * trust if p.mechanisms_transaction_cost > 0.5 else 0.0
    return p.costs_base * (1.0 - saving) + p.costs_checking * asym


@njit(cache=True)
def satisfaction(perf, depth, expected, P):
    """What a trade gave (performance plus needs understood) against what was expected."""
    return perf + needs_value(depth, P) - expected


# --------------------------------------------------------------------- word of mouth


@njit(cache=True)
def wom_sign(seed, step, c, s, satisfaction, bad_experience, failed, P):
    """+1 praise, -1 warning, 0 silence after an encounter that closed (ODD 7.10).

    A warning after a breach or an unforgiven failure; praise only after a trade without
    failure that beat expectations.
    """
    p = P[0]
    if p.mechanisms_word_of_mouth < 0.5:
        return 0
    u = uniform(seed, step, c, s, D_WOM)
    if bad_experience:
        return -1 if u < p.wom_negative_prob else 0
    if not failed and satisfaction > p.wom_positive_threshold and u < p.wom_positive_prob:
        return 1
    return 0


@njit(cache=True)
def wom_receive(org, sign, ring, P):
    """Organizational trust pulled toward 1 (praise) or 0 (warning), weighted by ring."""
    p = P[0]
    if sign == 0 or p.mechanisms_org_trust < 0.5:
        return org
    target = 1.0 if sign > 0 else 0.0
    return clip01(org + p.wom_influence * ring_weight(ring, P) * (target - org))


@njit(cache=True)
def refers(seed, step, c, tie, tie_ring, P):
    """Would neighbour ``tie`` pass its salesperson to customer ``c`` (if it trusts them)?"""
    p = P[0]
    if p.mechanisms_referral < 0.5:
        return False
    return uniform(seed, step, c, tie, D_REFERRAL) < p.wom_referral_prob * ring_weight(tie_ring, P)


@njit(cache=True)
def trusted_enough_to_refer(tie_trust, P):
    return tie_trust >= P[0].wom_referral_min_trust


# ------------------------------------------------------------- competition and turnover


@njit(cache=True)
def offer_arrives(seed, step, c, P):
    """Does a competitor make customer ``c`` an offer this step?"""
    p = P[0]
    return (
        p.mechanisms_competitor_offers > 0.5
        and uniform(seed, step, c, 0, D_OFFER) < p.competition_offer_rate
    )


@njit(cache=True)
def competitor_offer(seed, step, c, trust, ring, P):
    """An arrived offer: returns (discount, switched), the discount against the exit barrier."""
    p = P[0]
    discount = p.competition_max_discount * uniform(seed, step, c, 0, D_DISCOUNT)
    barrier = p.competition_barrier_base + p.competition_barrier_noise * normal(
        seed, step, c, 0, D_BARRIER
    )
    if p.mechanisms_exit_barrier > 0.5:
        barrier += p.competition_barrier_trust * (trust + loyalty_bonus(ring, P))
    return discount, discount > barrier


@njit(cache=True)
def moves(seed, step, s, P):
    """Does salesperson ``s`` leave for a rival firm this step (by chance or on schedule)?"""
    p = P[0]
    if p.mechanisms_turnover < 0.5:
        return False
    if step == p.turnover_scheduled_step and s == p.turnover_scheduled_salesperson:
        return True
    return uniform(seed, step, s, 1, D_TURNOVER) < p.turnover_rate


@njit(cache=True)
def rival_firm(seed, step, a, b, firm, n_firms):
    """A firm other than ``firm``, uniformly (``firm`` itself when it is the only one)."""
    if n_firms < 2:
        return firm
    return (firm + 1 + index(seed, step, a, b, D_RIVAL, n_firms - 1)) % n_firms


@njit(cache=True)
def follows(seed, step, c, s, personal, org, P):
    """Does a customer follow a departing salesperson rather than stay with the firm?"""
    p = P[0]
    o = org if p.mechanisms_org_trust > 0.5 else 0.5
    prob = sigmoid(p.turnover_follow_slope * (personal - o - p.turnover_follow_margin))
    return uniform(seed, step, c, s, D_FOLLOW) < prob


@njit(cache=True)
def capacity_accept(seed, step, c, s, demand, capacity, P):
    """Serve a request with probability min(1, capacity / demand): order-free rationing."""
    if P[0].mechanisms_capacity < 0.5 or demand <= capacity:
        return True
    return uniform(seed, step, c, s, D_CAPACITY) < capacity / demand
