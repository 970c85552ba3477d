"""Metric names and the per-step summary both engines report (ODD 7.12, seed 003).

``COUNTERS`` are integer event counts of one step; ``MEANS`` are averages and simulated
measurements computed by :func:`summarize` from per-customer arrays that each engine
builds in customer-id order, so sums are taken in the same order by both.
"""

import numpy as np
from numba import njit

from .codes import D_INTERVIEW, D_INTERVIEW_NOISE, D_RESPOND, D_SOCIAL, D_SURVEY, D_SURVEY_NOISE, OUTSIDER
from .rng import normal, uniform
from .rules import clip01

COUNTERS = (
    "trades", "failures", "breaches", "complaints", "forgiven", "switches", "churned",
    "referrals", "cold_contacts", "wom_positive", "wom_negative", "offers", "encounters",
    "unserved", "stop_contact", "stop_consult", "stop_objection", "stop_closing",
    "moves", "followed", "stayed", "with_salesperson_start",
)
(I_TRADES, I_FAILURES, I_BREACHES, I_COMPLAINTS, I_FORGIVEN, I_SWITCHES, I_CHURNED,
 I_REFERRALS, I_COLD, I_WOM_POS, I_WOM_NEG, I_OFFERS, I_ENCOUNTERS, I_UNSERVED,
 I_STOP_CONTACT, I_STOP_CONSULT, I_STOP_OBJECTION, I_STOP_CLOSING, I_MOVES, I_FOLLOWED,
 I_STAYED, I_WITH_START) = range(len(COUNTERS))

MEANS = (
    "mean_trust", "mean_instrumental_trust", "mean_emotional_trust", "mean_org_trust",
    "primary_org_trust", "insider_share", "with_salesperson", "mean_transaction_cost",
    "mean_needs_depth", "mean_info_asymmetry", "perceived_quality", "repurchase_rate",
    "retention_rate", "brand_awareness", "survey_trust", "survey_response_rate",
    "interview_trust", "wom_sentiment",
)
METRICS = ("step",) + COUNTERS + MEANS

# Human-readable meaning of each metric, shown by `trustsim metrics` and in docs/ODD.md.
METRIC_HELP = {
    "trades": "closed sales this step", "failures": "service failures this step",
    "breaches": "opportunistic breaches this step",
    "complaints": "complaints after unforgiven failures", "forgiven": "failures forgiven",
    "switches": "customers lured away by a competitor's discount",
    "churned": "customers who exited after an unforgiven failure",
    "referrals": "first meetings through a family or insider referral",
    "cold_contacts": "first meetings by cold contact", "wom_positive": "customers who praised",
    "wom_negative": "customers who warned", "offers": "competitor offers received",
    "encounters": "sales encounters served", "unserved": "requests turned away (capacity)",
    "stop_contact": "encounters that stopped at contact",
    "stop_consult": "... at consultative communication",
    "stop_objection": "... at objection handling", "stop_closing": "... at closing",
    "moves": "salespeople who moved to a rival firm",
    "followed": "customers who followed a moving salesperson",
    "stayed": "customers who stayed with the firm", "with_salesperson_start":
    "customers with a salesperson at the start of the step",
    "mean_trust": "mean overall trust T in one's salesperson",
    "mean_instrumental_trust": "mean ability trust (gift effect included)",
    "mean_emotional_trust": "mean character trust",
    "mean_org_trust": "mean organizational trust over all customer-firm pairs",
    "primary_org_trust": "mean organizational trust in one's salesperson's firm",
    "insider_share": "share of customers whose salesperson is an insider or kin",
    "with_salesperson": "customers with a salesperson",
    "mean_transaction_cost": "mean cost per trade (NaN: no trade)",
    "mean_needs_depth": "mean need level uncovered per trade (1 stated .. 5 secret)",
    "mean_info_asymmetry": "mean information asymmetry with one's salesperson",
    "perceived_quality": "mean performance of this step's trades",
    "repurchase_rate": "share of trades by customers who had traded before",
    "retention_rate": "1 - (churned + switches) / with_salesperson_start",
    "brand_awareness": "share of customers who met a salesperson or heard word of mouth",
    "survey_trust": "survey estimate of organizational trust (noisy, biased, Likert)",
    "survey_response_rate": "share of sampled customers who answered",
    "interview_trust": "interview estimate of personal trust (small sample)",
    "wom_sentiment": "(praise - warnings) / all, as seen on social media",
}


@njit(cache=True)
def _mean(total, n):
    return total / n if n > 0 else np.nan


@njit(cache=True)
def summarize(seed, step, counts, has_sp, trust, ti, te, ring, asym, porg, org, cost,
              perf, depth, repeat, wom, aware, P):
    """MEANS for one step from per-customer arrays (NaN where nothing to average)."""
    p = P[0]
    noisy = p.mechanisms_measurement_noise > 0.5
    n = has_sp.shape[0]
    out = np.full(len(MEANS), np.nan)
    n_sp = 0
    s_t = s_ti = s_te = s_porg = s_asym = 0.0
    n_in = 0
    n_trade = 0
    s_cost = s_perf = s_depth = 0.0
    n_repeat = 0
    n_aware = 0
    n_sampled = n_resp = n_int = 0
    s_survey = s_int = 0.0
    vis_pos = vis_neg = 0
    for c in range(n):
        if aware[c]:
            n_aware += 1
        if not np.isnan(cost[c]):
            n_trade += 1
            s_cost += cost[c]
            s_perf += perf[c]
            s_depth += depth[c]
            if repeat[c]:
                n_repeat += 1
        if wom[c] != 0:
            vis = p.measurement_social_visibility
            if wom[c] < 0:
                vis *= p.measurement_negative_visibility
            if not noisy or uniform(seed, step, c, 0, D_SOCIAL) < vis:
                if wom[c] > 0:
                    vis_pos += 1
                else:
                    vis_neg += 1
        if not has_sp[c]:
            continue
        n_sp += 1
        s_t += trust[c]
        s_ti += ti[c]
        s_te += te[c]
        s_porg += porg[c]
        s_asym += asym[c]
        if ring[c] != OUTSIDER:
            n_in += 1
        if uniform(seed, step, c, 0, D_SURVEY) < p.measurement_survey_rate:
            n_sampled += 1
            answer = 1.0
            if noisy:
                answer = clip01(1.0 - p.measurement_nonresponse_bias * (1.0 - porg[c]))
            if uniform(seed, step, c, 0, D_RESPOND) < answer:
                n_resp += 1
                v = porg[c]
                if noisy:
                    v = clip01(v + p.measurement_survey_bias
                               + p.measurement_survey_noise * normal(seed, step, c, 0, D_SURVEY_NOISE))
                    v = np.round(v * 4.0) / 4.0
                s_survey += v
        if uniform(seed, step, c, 0, D_INTERVIEW) < p.measurement_interview_rate:
            n_int += 1
            v = trust[c]
            if noisy:
                v = clip01(v + p.measurement_interview_noise * normal(seed, step, c, 0, D_INTERVIEW_NOISE))
            s_int += v
    out[0] = _mean(s_t, n_sp)
    out[1] = _mean(s_ti, n_sp)
    out[2] = _mean(s_te, n_sp)
    out[3] = org.mean() if org.size > 0 else np.nan
    out[4] = _mean(s_porg, n_sp)
    out[5] = _mean(float(n_in), n_sp)
    out[6] = n_sp
    out[7] = _mean(s_cost, n_trade)
    out[8] = _mean(s_depth, n_trade)
    out[9] = _mean(s_asym, n_sp)
    out[10] = _mean(s_perf, n_trade)
    out[11] = _mean(float(n_repeat), n_trade)
    lost = counts[I_CHURNED] + counts[I_SWITCHES]
    out[12] = 1.0 - _mean(float(lost), counts[I_WITH_START])
    out[13] = n_aware / n
    out[14] = _mean(s_survey, n_resp)
    out[15] = _mean(float(n_resp), n_sampled)
    out[16] = _mean(s_int, n_int)
    out[17] = _mean(float(vis_pos - vis_neg), vis_pos + vis_neg)
    return out


# The relationship event log (run.history): one row per encounter, offer or move.
EV_ENCOUNTER, EV_OFFER, EV_TURNOVER = 0, 1, 2
EVENT_KINDS = ("encounter", "offer", "turnover")
LOG_COLUMNS = (
    "step", "kind", "customer", "salesperson", "firm", "origin", "stage", "ring_before",
    "ring_after", "n_trades", "trust_before", "trust_after", "ti_before", "te_before",
    "ti_after", "te_after", "gift", "org_trust", "asym", "perf", "depth", "cost", "breach",
    "failed", "forgiven", "complained", "exited", "wom", "discount", "switched", "followed",
)
LOG_INT_COLUMNS = ("step", "kind", "customer", "salesperson", "firm", "origin", "stage",
                   "ring_before", "ring_after", "n_trades", "depth", "breach", "failed",
                   "forgiven", "complained", "exited", "wom", "switched", "followed")
