"""The update rules (ODD section 7, "Submodels"), compiled once and called by both engines.

Each function is one submodel of docs/ODD.md and takes the parameter record ``P`` (see
:func:`trustsim.params.param_record`) as its last argument. Switches in ``P`` turn a
mechanism off; no rule knows which engine calls it. Random draws come from
:mod:`trustsim.rng`, keyed by (seed, step, customer, salesperson, purpose).
"""

import numpy as np
from numba import njit

from trustsim.codes import (
    CLOSED,
    CONTACT,
    D_BARRIER,
    D_BREACH,
    D_BREACH_EXIT,
    D_CAPACITY,
    D_COMPLAIN,
    D_DISCOUNT,
    D_ELSEWHERE_PICK,
    D_ELSEWHERE_REFERRAL,
    D_EXIT,
    D_FAILURE,
    D_FOLLOW,
    D_FORGIVE,
    D_INTRODUCE,
    D_LEAVE_MARKET,
    D_LOOK,
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
    REASSIGN_HANDOVER,
    REASSIGN_RANDOM,
    REFERRAL,
)
from trustsim.rng import index, normal, uniform


@njit(cache=True, inline="always")
def clip01(x):
    return min(1.0, max(0.0, x))


@njit(cache=True, inline="always")
def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# --------------------------------------------------------------------- rings and culture


@njit(cache=True, inline="always")
def gradient(P):
    """Steepness g of the 差序格局 gradient; 0 when the mechanism is off (universalistic)."""
    p = P[0]
    return p.culture.ring_gradient if p.mechanisms.ring_gradient else 0.0


@njit(cache=True, inline="always")
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


@njit(cache=True, inline="always")
def loyalty_bonus(ring, P):
    """Trust an insider or kin is credited with, on top of T, when a failure is judged and
    when a competitor's offer is weighed (steep cultures only)."""
    if ring == OUTSIDER:
        return 0.0
    return P[0].culture.insider_loyalty * gradient(P)


@njit(cache=True)
def initial_trust(origin, propensity, referrer_trust, referrer_ring, org, P):
    """Trust in a salesperson at first meeting, by how they were met (ODD 7.1)."""
    p = P[0]
    stranger = propensity * (1.0 - gradient(P) * p.culture.stranger_wariness)
    if origin == KIN:
        return p.trust.kin_trust
    if origin == REFERRAL:
        lift = max(referrer_trust - stranger, 0.0)
        return stranger + p.trust.referral_warmth * ring_weight(referrer_ring, P) * lift
    if origin == HANDOVER and p.mechanisms.org_trust:
        return stranger + p.turnover.handover_weight * (org - stranger)
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
    if not p.mechanisms.ring_migration:
        return ring
    if (
        ring == OUTSIDER
        and trust >= p.rings.insider_threshold
        and n_trades >= p.rings.insider_min_trades
    ):
        return INSIDER
    if ring == INSIDER and trust < p.rings.outsider_threshold:
        return OUTSIDER
    return ring


# --------------------------------------------------------------------------- trust


@njit(cache=True)
def ability_weight(n_trades, P):
    """Weight of ability trust: early -> late with the age of the relationship (ODD 7.2)."""
    p = P[0]
    early, late = p.trust.weight_ability_early, p.trust.weight_ability_late
    if not p.mechanisms.age_shift:
        return 0.5 * (early + late)
    return late + (early - late) * np.exp(-n_trades / p.trust.age_scale)


@njit(cache=True, inline="always")
def gift_now(gift, last_step, step, P):
    """Gift effect left at ``step`` after geometric decay since ``last_step``."""
    if gift <= 0.0:
        return 0.0
    return gift * P[0].gifts.decay ** max(step - last_step, 0)


@njit(cache=True, inline="always")
def instrumental_now(ti, gift, P):
    """Ability trust as felt now: learned trust plus what gifts still buy."""
    g = gift if P[0].mechanisms.gifts else 0.0
    return min(1.0, ti + g)


@njit(cache=True, inline="always")
def weighted_trust(ti, te, gift, w, P):
    """Overall trust T = w * min(1, ti + gift) + (1 - w) * te, for ability weight w."""
    return w * instrumental_now(ti, gift, P) + (1.0 - w) * te


@njit(cache=True)
def combined_trust(ti, te, gift, n_trades, P):
    """Overall trust T = w(n) * min(1, ti + gift) + (1 - w(n)) * te."""
    return weighted_trust(ti, te, gift, ability_weight(n_trades, P), P)


@njit(cache=True)
def trust_tables(size, P):
    """``ability_weight(n)`` (row 0) and what a gift of 1 is worth ``k`` steps later
    (row 1) for n, k < ``size``: the core looks them up instead of calling exp and pow
    for every trust it evaluates. The same operations on the same numbers, so the same
    bits: ``gift * tab[1, k]`` equals ``gift_now(gift, t - k, t, P)``."""
    tab = np.empty((2, size))
    for k in range(size):
        tab[0, k] = ability_weight(k, P)
        tab[1, k] = gift_now(1.0, 0, k, P)
    return tab


@njit(cache=True, inline="always")
def decision_trust(trust, org, risk, asym, P):
    """Trust used at each sales stage: personal and organizational, less perceived risk."""
    p = P[0]
    w = p.trust.org_weight if p.mechanisms.org_trust else 0.0
    d = (1.0 - w) * trust + w * org
    if p.mechanisms.risk_perception:
        d -= p.sales.risk_weight * risk * asym
    return d


@njit(cache=True, inline="always")
def clarity(asym, P):
    """Share of a trade's signal that gets through information asymmetry."""
    return 1.0 - P[0].costs.asym_clarity * asym


# --------------------------------------------------------------------- sales process


@njit(cache=True)
def needs_to_buy_at(seed, step, c, rate):
    """Does customer ``c``, with weekly purchase propensity ``rate`` (ODD 7.17), need to
    buy this step? One keyed draw per customer and week, whatever its propensity, so
    everyone at population.purchase_rate gives the weeks of a homogeneous market."""
    return uniform(seed, step, c, 0, D_NEED) < rate


@njit(cache=True)
def trade_revenue(basket, price):
    """What a trade brings the firm: the customer's basket at the firm's relative price."""
    return basket * price


@njit(cache=True)
def leaves_market(seed, step, c, dropout, P):
    """Does customer ``c`` leave the market for good after this step's purchase (ODD 7.18,
    BG/NBD: a chance ``dropout`` drawn per customer, tried after each purchase)?"""
    if not P[0].mechanisms.leave_market:
        return False
    return uniform(seed, step, c, 0, D_LEAVE_MARKET) < dropout


@njit(cache=True)
def forced_breach(step, s, P):
    """Is this the scenario's scheduled breach (salesperson ``s`` at ``step``)?"""
    p = P[0]
    return step == p.breach.scheduled_step and s == p.breach.scheduled_salesperson


@njit(cache=True, inline="always")
def sales_stages(seed, step, c, s, dtrust, price, P):
    """Walk contact -> consult -> objection -> closing; return the stage reached (ODD 7.3)."""
    p = P[0]
    thresholds = (
        p.sales.contact_threshold,
        p.sales.consult_threshold,
        p.sales.objection_threshold,
        p.sales.closing_threshold + p.sales.price_sensitivity * (price - 1.0),
    )
    for stage in range(CONTACT, CLOSED):
        prob = sigmoid(p.sales.stage_slope * (dtrust - thresholds[stage]))
        if uniform(seed, step, c, s, D_STAGE * 16 + stage) >= prob:
            return stage
    return CLOSED


@njit(cache=True, inline="always")
def needs_depth(seed, step, c, s, ring, empathy, P):
    """Deepest need level uncovered (1 stated ... 5 secret); deeper levels only for insiders."""
    p = P[0]
    if not p.mechanisms.needs:
        return 1
    if ring == FAMILY:
        limit = p.needs.depth_family
    elif ring == INSIDER:
        limit = p.needs.depth_insider
    else:
        limit = p.needs.depth_outsider
    depth = 1
    for level in range(2, int(limit) + 1):
        chance = empathy * p.needs.uncover_decay ** (level - 2)
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
        total += p.needs.value_base * p.needs.value_growth ** (level - 2)
    return total


@njit(cache=True, inline="always")
def trade_outcome(
    seed, step, c, s, competence, integrity, quality, consistency, failure_rate, forced_breach, P
):
    """Performance in [0, 1], whether the salesperson breached, whether service failed."""
    p = P[0]
    noise = (1.0 - consistency) * p.trust.outcome_noise * normal(seed, step, c, s, D_OUTCOME)
    perf = clip01(0.5 * competence + 0.5 * quality + noise)
    breach = False
    if p.mechanisms.breaches:
        breach = forced_breach or uniform(seed, step, c, s, D_BREACH) < p.breach.opportunism * (
            1.0 - integrity
        )
    failed = False
    if p.mechanisms.service_failures:
        failed = uniform(seed, step, c, s, D_FAILURE) < failure_rate
    return perf, breach, failed


@njit(cache=True)
def strategy_signals(strategy, P):
    """(gift per trade, respect signal) of a salesperson with instrumental share ``strategy``."""
    p = P[0]
    gift = p.gifts.size * strategy if p.mechanisms.gifts else 0.0
    respect = p.trust.respect_effect * (1.0 - strategy) if p.mechanisms.emotional_strategy else 0.0
    return gift, respect


@njit(cache=True, inline="always")
def learn(ti, te, gift, scar, asym, perf, depth, integrity, strategy, transparency, P):
    """Trust learning from one honest trade (ODD 7.5); returns new (ti, te, gift, scar, asym)."""
    p = P[0]
    rate = clarity(asym, P)
    if p.mechanisms.breach_scar:
        rate *= 1.0 - scar
    gift_step, respect = strategy_signals(strategy, P)
    character = clip01(p.trust.character_weight * integrity + respect + needs_value(depth, P))
    new_ti = ti + p.trust.learn_instrumental * rate * (perf - ti)
    new_te = te + p.trust.learn_emotional * rate * (character - te)
    if perf < ti:
        gift *= 1.0 - p.gifts.unbacked_loss
    new_gift = min(1.0, gift + gift_step)
    new_scar = scar * p.breach.scar_recovery
    new_asym = asym
    if p.mechanisms.transparency:
        new_asym = asym * (1.0 - p.costs.asym_learning * transparency)
    return clip01(new_ti), clip01(new_te), new_gift, new_scar, new_asym


@njit(cache=True)
def breach_loss(ti, te, P):
    """A breach: large, asymmetric loss (Slovic 1993); gifts are void; a scar opens."""
    p = P[0]
    return (
        ti * (1.0 - p.breach.loss_instrumental),
        te * (1.0 - p.breach.loss_emotional),
        0.0,
        p.breach.scar,
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
    if p.mechanisms.forgiveness:
        x = p.failures.forgive_slope * (
            trust + loyalty_bonus(ring, P) - p.failures.forgive_threshold
        ) + p.failures.recovery_weight * (recovery - 0.5)
        forgive = sigmoid(x)
    if uniform(seed, step, c, s, D_FORGIVE) < forgive:
        loss = p.failures.loss_forgiven
        return True, False, False, ti * (1.0 - loss), te * (1.0 - 0.5 * loss)
    complained = uniform(seed, step, c, s, D_COMPLAIN) < p.failures.complaint_prob
    exited = uniform(seed, step, c, s, D_EXIT) < p.failures.exit_prob * (1.0 - trust)
    loss = p.failures.loss_unforgiven
    return False, complained, exited, ti * (1.0 - loss), te * (1.0 - 0.5 * loss)


@njit(cache=True)
def org_learn(org, perf, failed, forgiven, breach, recovery, social, asym, P):
    """Organizational trust moves toward what the firm delivered (ODD 7.7)."""
    p = P[0]
    if not p.mechanisms.org_trust:
        return org
    if breach:
        target = 0.0
    elif failed:
        target = recovery if forgiven else 0.0
    else:
        target = perf
    target = (1.0 - p.trust.social_weight) * target + p.trust.social_weight * social
    return clip01(org + p.trust.org_learn * clarity(asym, P) * (target - org))


@njit(cache=True)
def transaction_cost(trust, asym, P):
    """Negotiation plus checking cost of one trade (ODD 7.8)."""
    p = P[0]
    saving = p.costs.trust_saving * trust if p.mechanisms.transaction_cost else 0.0
    return p.costs.base * (1.0 - saving) + p.costs.checking * asym


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
    if not p.mechanisms.word_of_mouth:
        return 0
    u = uniform(seed, step, c, s, D_WOM)
    if bad_experience:
        return -1 if u < p.wom.negative_prob else 0
    if not failed and satisfaction > p.wom.positive_threshold and u < p.wom.positive_prob:
        return 1
    return 0


@njit(cache=True)
def wom_receive(org, sign, ring, P):
    """Organizational trust pulled toward 1 (praise) or 0 (warning), weighted by ring."""
    p = P[0]
    if sign == 0 or not p.mechanisms.org_trust:
        return org
    target = 1.0 if sign > 0 else 0.0
    return clip01(org + p.wom.influence * ring_weight(ring, P) * (target - org))


@njit(cache=True, inline="always")
def _refers(u, tie_ring, P):
    p = P[0]
    return p.mechanisms.referral and u < p.wom.referral_prob * ring_weight(tie_ring, P)


@njit(cache=True, inline="always")
def refers(seed, step, c, tie, tie_ring, P):
    """Would neighbour ``tie`` pass its salesperson to customer ``c`` (if it trusts them)?"""
    return _refers(uniform(seed, step, c, tie, D_REFERRAL), tie_ring, P)


@njit(cache=True, inline="always")
def refers_elsewhere(seed, step, c, tie, tie_ring, P):
    """The same question asked again, with a fresh draw, by a customer whose need did not
    close this step (7.14)."""
    return _refers(uniform(seed, step, c, tie, D_ELSEWHERE_REFERRAL), tie_ring, P)


@njit(cache=True)
def trusted_enough_to_refer(tie_trust, P):
    return tie_trust >= P[0].wom.referral_min_trust


# ------------------------------------------------------------- competition and turnover


@njit(cache=True)
def offer_arrives(seed, step, c, P):
    """Does a competitor make customer ``c`` an offer this step?"""
    p = P[0]
    return (
        p.mechanisms.competitor_offers
        and uniform(seed, step, c, 0, D_OFFER) < p.competition.offer_rate
    )


@njit(cache=True)
def competitor_offer(seed, step, c, trust, ring, P):
    """An arrived offer: returns (discount, switched), the discount against the exit barrier."""
    p = P[0]
    discount = p.competition.max_discount * uniform(seed, step, c, 0, D_DISCOUNT)
    barrier = p.competition.barrier_base + p.competition.barrier_noise * normal(
        seed, step, c, 0, D_BARRIER
    )
    if p.mechanisms.exit_barrier:
        barrier += p.competition.barrier_trust * (trust + loyalty_bonus(ring, P))
    return discount, discount > barrier


@njit(cache=True)
def moves(seed, step, s, P):
    """Does salesperson ``s`` leave for a rival firm this step (by chance or on schedule)?"""
    p = P[0]
    if not p.mechanisms.turnover:
        return False
    if step == p.turnover.scheduled_step and s == p.turnover.scheduled_salesperson:
        return True
    return uniform(seed, step, s, 1, D_TURNOVER) < p.turnover.rate


@njit(cache=True)
def rival_firm(seed, step, a, b, firm, n_firms):
    """A firm other than ``firm``, uniformly (``firm`` itself when it is the only one)."""
    if n_firms < 2:
        return firm
    return (firm + 1 + index(seed, step, a, b, D_RIVAL, n_firms - 1)) % n_firms


@njit(cache=True)
def follows(seed, step, c, s, personal, org, successor, P):
    """Does a customer follow a departing salesperson rather than stay with the firm, whose
    worth to it is its trust in the firm or, when it knows whom it would get, in that
    successor (``successor``; NaN when it does not know), whichever is higher (7.11)?"""
    p = P[0]
    o = org if p.mechanisms.org_trust else 0.5
    if not np.isnan(successor):
        o = max(o, successor)
    prob = sigmoid(p.turnover.follow_slope * (personal - o - p.turnover.follow_margin))
    return uniform(seed, step, c, s, D_FOLLOW) < prob


@njit(cache=True)
def policy(P):
    """The firm's reassignment policy (trustsim.codes REASSIGN_*)."""
    return int(P[0].turnover.reassignment)


@njit(cache=True)
def successor_known(P):
    """Does a customer of a departing salesperson know whom it would get if it stayed?
    Under every policy but a random colleague (7.11)."""
    return policy(P) != REASSIGN_RANDOM


@njit(cache=True)
def announced(seed, step, s, P):
    """Is salesperson ``s``'s move at ``step + turnover.notice`` announced now, so that its
    customers meet their successor in a joint visit (managed handover, 7.11)?"""
    p = P[0]
    return policy(P) == REASSIGN_HANDOVER and moves(seed, step + int(p.turnover.notice), s, P)


@njit(cache=True)
def introduced_pick(seed, step, c, s, n_others):
    """Which of its ``n_others`` colleagues (by id, itself left out) a departing
    salesperson ``s`` introduces customer ``c`` to."""
    return index(seed, step, c, s, D_INTRODUCE, n_others)


@njit(cache=True)
def introduced_trust(x, personal, P):
    """Trust component ``x`` in the successor after the joint visit: the visit closes
    ``turnover.carryover`` of the gap to the trust ``personal`` in the one leaving."""
    return clip01(x + P[0].turnover.carryover * max(personal - x, 0.0))


@njit(cache=True)
def preferred(trust_a, id_a, trust_b, id_b):
    """Is salesperson a preferred to b: trusted more, or as much and the lower id?"""
    return trust_a > trust_b or (trust_a == trust_b and id_a < id_b)


@njit(cache=True)
def best_record(staff, competence):
    """Position in ``staff`` of the colleague with the best record (highest competence,
    the lowest id among equals); -1 when there is nobody."""
    best = -1
    for k in range(staff.shape[0]):
        if best < 0 or competence[staff[k]] > competence[staff[best]]:
            best = k
    return best


@njit(cache=True)
def capacity_accept(seed, step, c, s, demand, capacity, P):
    """Serve a request with probability min(1, capacity / demand): order-free rationing."""
    if not P[0].mechanisms.capacity or demand <= capacity:
        return True
    return uniform(seed, step, c, s, D_CAPACITY) < capacity / demand


# ------------------------------------------------------------ going elsewhere (7.14, 7.15)


@njit(cache=True)
def look_probability(trust, ring, misses, P):
    """Chance that a customer takes an unclosed need elsewhere (ODD 7.14).

    p = 1 - (1 - a * (1 - T')) * exp(-(misses - 1) / patience), T' = min(1, T + loyalty):
    after one unclosed encounter p = a * (1 - T') (distrust), and every further one in a
    row with the same salesperson wears patience down toward 1.
    """
    p = P[0]
    if not p.mechanisms.look_elsewhere:
        return 0.0
    barrier = min(1.0, trust + loyalty_bonus(ring, P))
    stay = (1.0 - p.elsewhere.distrust_weight * (1.0 - barrier)) * np.exp(
        -max(misses - 1, 0) / p.elsewhere.patience
    )
    return clip01(1.0 - stay)


@njit(cache=True, inline="always")
def looks_elsewhere(seed, step, c, s, trust, ring, misses, P):
    """Does customer ``c``, whose encounter with ``s`` did not close, look elsewhere now?"""
    return uniform(seed, step, c, s, D_LOOK) < look_probability(trust, ring, misses, P)


@njit(cache=True)
def gives_up(misses, P):
    """Does a customer give up for good on a salesperson with whom ``misses`` encounters
    in a row did not close (ODD 7.14)? It then never chooses that one again."""
    p = P[0]
    return p.mechanisms.give_up and misses >= p.elsewhere.give_up


@njit(cache=True)
def elsewhere_pick(seed, step, c, firm, n_staff):
    """Which of the ``n_staff`` salespeople now at rival ``firm`` (by id) a customer tries."""
    return index(seed, step, c, firm, D_ELSEWHERE_PICK, n_staff)


@njit(cache=True)
def other_pick(seed, step, c, n_others):
    """Which of ``n_others`` other salespeople (by id) a customer tries, when no rival firm
    has staff it may meet; -1 if there is none."""
    if n_others < 1:
        return -1
    return index(seed, step, c, -1, D_ELSEWHERE_PICK, n_others)


@njit(cache=True)
def other_salesperson(seed, step, c, s, n_salespeople):
    """Any salesperson but ``s`` (uniformly), when no rival firm has staff; -1 if none:
    :func:`other_pick` among all the others."""
    other = other_pick(seed, step, c, n_salespeople - 1)
    return other + 1 if other >= s else other


@njit(cache=True)
def elsewhere_firm(seed, step, c, firm, n_firms):
    """The rival firm a customer tries when its need did not close with ``firm``."""
    return rival_firm(seed, step, c, 2, firm, n_firms)


@njit(cache=True)
def exit_probability(lost, ring, P):
    """Chance of leaving at once after a detected breach (ODD 7.15): k * (trust lost - the
    loyalty credited to kin and insiders in a steep culture), clipped to [0, 1]."""
    p = P[0]
    if not p.mechanisms.breach_exit:
        return 0.0
    return clip01(p.breach.exit_sensitivity * (lost - loyalty_bonus(ring, P)))


@njit(cache=True)
def leaves_after_breach(seed, step, c, s, lost, ring, P):
    """Does customer ``c`` leave salesperson ``s`` at once after a breach that cost it
    ``lost`` trust (``ring``: where ``s`` stood before the breach)?"""
    return uniform(seed, step, c, s, D_BREACH_EXIT) < exit_probability(lost, ring, P)


# ------------------------------------------------------------------------ memory


@njit(cache=True)
def forgotten_first(last_a, salesperson_a, last_b, salesperson_b):
    """Whether a customer at ``population.max_relationships`` forgets relationship a before
    b (ODD 7.16): the one whose last trade (or first meeting, if it never traded) lies
    further back; of two as old, the one with the lower salesperson id."""
    return last_a < last_b or (last_a == last_b and salesperson_a < salesperson_b)
