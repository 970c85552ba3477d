"""The per-step summary both engines report (ODD 7.12, seed 003).

:func:`summarize` turns per-customer arrays, built by each engine in customer-id order,
into the ``MEANS`` of :mod:`trustsim.metrics`; sums are taken in the same order by both.
"""

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from trustsim.codes import (
    D_INTERVIEW,
    D_INTERVIEW_NOISE,
    D_RESPOND,
    D_SOCIAL,
    D_SURVEY,
    D_SURVEY_NOISE,
    OUTSIDER,
)
from trustsim.jit import variant
from trustsim.metrics import (
    I_NEEDS,
    I_TRADES,
    M_BRAND_AWARENESS,
    M_INSIDER_SHARE,
    M_INTERVIEW_TRUST,
    M_MEAN_EMOTIONAL_TRUST,
    M_MEAN_INFO_ASYMMETRY,
    M_MEAN_INSTRUMENTAL_TRUST,
    M_MEAN_NEEDS_DEPTH,
    M_MEAN_ORG_TRUST,
    M_MEAN_TRANSACTION_COST,
    M_MEAN_TRUST,
    M_NEEDS_MET_SHARE,
    M_PERCEIVED_QUALITY,
    M_PRIMARY_ORG_TRUST,
    M_REPURCHASE_RATE,
    M_RETENTION_RATE,
    M_REVENUE,
    M_SURVEY_RESPONSE_RATE,
    M_SURVEY_TRUST,
    M_WITH_SALESPERSON,
    M_WOM_SENTIMENT,
    MEANS,
)
from trustsim.rng import normal, uniform
from trustsim.rules import clip01


@njit(cache=True)
def _mean(total, n):
    return total / n if n > 0 else np.nan


class Census(NamedTuple):
    """Each customer at the end of a step, in customer-id order (NaN / -1 where it has no
    salesperson or made no trade); both engines fill one and hand it to :func:`summarize`."""

    start_sp: np.ndarray  # salesperson at the start of the step (-1: none)
    end_sp: np.ndarray  # salesperson at the end of the step (-1: none)
    trust: np.ndarray  # overall trust T in it
    ti: np.ndarray  # felt ability trust
    te: np.ndarray  # character trust
    ring: np.ndarray  # its ring
    asym: np.ndarray  # information asymmetry with it
    porg: np.ndarray  # organizational trust in its firm
    org: np.ndarray  # organizational trust, customer x firm
    cost: np.ndarray  # this step's trade: transaction cost
    perf: np.ndarray  # ... performance
    depth: np.ndarray  # ... need depth uncovered (0: no trade)
    repeat: np.ndarray  # ... with a salesperson it had traded with before
    wom: np.ndarray  # word of mouth spoken: +1 praise, -1 warning, 0 none
    aware: np.ndarray  # brand awareness
    revenue: np.ndarray  # this step's trade: its value (basket x price; NaN: no trade)


def answers(seed, step, census, P):
    """What each customer shows the researcher this step, drawn per customer (in parallel
    in the parallel core): whether its word of mouth was seen, whether it was sampled for
    the survey, its answer (NaN: no answer) and its interview answer (NaN: not asked)."""
    end_sp, trust, porg, wom = census.end_sp, census.trust, census.porg, census.wom
    p = P[0]  # parameters read before the loop: a parallel loop cannot take a record
    noisy = p.mechanisms.measurement_noise
    social = p.measurement.social_visibility
    negative = p.measurement.negative_visibility
    nonresponse = p.measurement.nonresponse_bias
    survey_rate = p.measurement.survey_rate
    survey_bias = p.measurement.survey_bias
    survey_noise = p.measurement.survey_noise
    interview_rate = p.measurement.interview_rate
    interview_noise = p.measurement.interview_noise
    n = end_sp.shape[0]
    seen = np.zeros(n, dtype=np.bool_)
    sampled = np.zeros(n, dtype=np.bool_)
    survey = np.full(n, np.nan)
    interview = np.full(n, np.nan)
    for c in prange(n):
        if wom[c] != 0:
            vis = social * negative if wom[c] < 0 else social
            seen[c] = not noisy or uniform(seed, step, c, 0, D_SOCIAL) < vis
        if end_sp[c] < 0:
            continue
        if uniform(seed, step, c, 0, D_SURVEY) < survey_rate:
            sampled[c] = True
            answer = 1.0
            if noisy:
                answer = clip01(1.0 - nonresponse * (1.0 - porg[c]))
            if uniform(seed, step, c, 0, D_RESPOND) < answer:
                v = porg[c]
                if noisy:
                    noise = survey_noise * normal(seed, step, c, 0, D_SURVEY_NOISE)
                    v = np.round(clip01(v + survey_bias + noise) * 4.0) / 4.0
                survey[c] = v
        if uniform(seed, step, c, 0, D_INTERVIEW) < interview_rate:
            v = trust[c]
            if noisy:
                v = clip01(v + interview_noise * normal(seed, step, c, 0, D_INTERVIEW_NOISE))
            interview[c] = v
    return seen, sampled, survey, interview


def summarize(seed, step, counts, census, P):
    """MEANS for one step from a :class:`Census` (NaN where nothing to average).

    The draws come first, per customer (:func:`answers`, skipped with
    ``measurement.observe`` off); the sums then run serially in customer-id order, so the
    means have the same bits with any number of threads.
    """
    (
        start_sp,
        end_sp,
        trust,
        ti,
        te,
        ring,
        asym,
        porg,
        org,
        cost,
        perf,
        depth,
        repeat,
        wom,
        aware,
        revenue,
    ) = census
    n = end_sp.shape[0]
    if P[0].measurement.observe:
        seen, sampled, survey, interview = _answers(seed, step, census, P)  # noqa: F821 (bound below)
    else:  # nobody seen, sampled or interviewed: those means are NaN
        seen, sampled = np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.bool_)
        survey, interview = np.full(n, np.nan), np.full(n, np.nan)
    out = np.full(len(MEANS), np.nan)
    n_sp = 0
    s_t = s_ti = s_te = s_porg = s_asym = 0.0
    n_in = 0
    n_trade = 0
    s_cost = s_perf = s_depth = s_revenue = 0.0
    n_repeat = 0
    n_aware = 0
    n_sampled = n_resp = n_int = 0
    n_start = n_kept = 0
    s_survey = s_int = 0.0
    vis_pos = vis_neg = 0
    for c in range(n):
        if start_sp[c] >= 0:
            n_start += 1
            if end_sp[c] == start_sp[c]:
                n_kept += 1
        if aware[c]:
            n_aware += 1
        if not np.isnan(cost[c]):
            n_trade += 1
            s_cost += cost[c]
            s_perf += perf[c]
            s_depth += depth[c]
            s_revenue += revenue[c]
            if repeat[c]:
                n_repeat += 1
        if seen[c]:
            if wom[c] > 0:
                vis_pos += 1
            else:
                vis_neg += 1
        if end_sp[c] < 0:
            continue
        n_sp += 1
        s_t += trust[c]
        s_ti += ti[c]
        s_te += te[c]
        s_porg += porg[c]
        s_asym += asym[c]
        if ring[c] != OUTSIDER:
            n_in += 1
        if sampled[c]:
            n_sampled += 1
            if not np.isnan(survey[c]):
                n_resp += 1
                s_survey += survey[c]
        if not np.isnan(interview[c]):
            n_int += 1
            s_int += interview[c]
    out[M_MEAN_TRUST] = _mean(s_t, n_sp)
    out[M_MEAN_INSTRUMENTAL_TRUST] = _mean(s_ti, n_sp)
    out[M_MEAN_EMOTIONAL_TRUST] = _mean(s_te, n_sp)
    out[M_MEAN_ORG_TRUST] = org.mean() if org.size > 0 else np.nan
    out[M_PRIMARY_ORG_TRUST] = _mean(s_porg, n_sp)
    out[M_INSIDER_SHARE] = _mean(float(n_in), n_sp)
    out[M_WITH_SALESPERSON] = n_sp
    out[M_MEAN_TRANSACTION_COST] = _mean(s_cost, n_trade)
    out[M_MEAN_NEEDS_DEPTH] = _mean(s_depth, n_trade)
    out[M_MEAN_INFO_ASYMMETRY] = _mean(s_asym, n_sp)
    out[M_PERCEIVED_QUALITY] = _mean(s_perf, n_trade)
    out[M_REPURCHASE_RATE] = _mean(float(n_repeat), n_trade)
    out[M_RETENTION_RATE] = _mean(float(n_kept), n_start)
    out[M_BRAND_AWARENESS] = n_aware / n
    out[M_SURVEY_TRUST] = _mean(s_survey, n_resp)
    out[M_SURVEY_RESPONSE_RATE] = _mean(float(n_resp), n_sampled)
    out[M_INTERVIEW_TRUST] = _mean(s_int, n_int)
    out[M_WOM_SENTIMENT] = _mean(float(vis_pos - vis_neg), vis_pos + vis_neg)
    out[M_REVENUE] = s_revenue
    out[M_NEEDS_MET_SHARE] = _mean(float(counts[I_TRADES]), counts[I_NEEDS])
    return out


# Mesa and the serial core call ``summarize``; the parallel core ``summarize_parallel``.
summarize_parallel = variant(
    summarize, "summarize_parallel", _answers=variant(answers, "answers_parallel", True)
)
summarize = variant(summarize, "summarize", _answers=variant(answers, "answers_serial"))
