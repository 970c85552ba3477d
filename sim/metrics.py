"""Names of everything a run reports: per-step metrics and event-log columns.

``COUNTERS`` are integer event counts of one step; ``MEANS`` are averages and simulated
measurements (computed by :func:`trustsim.measure.summarize`). Plain Python, so that tools
that only need the names (experiment files, the CLI) do not load numba.
"""

COUNTERS = (
    "trades",
    "failures",
    "breaches",
    "complaints",
    "forgiven",
    "switches",
    "churned",
    "referrals",
    "cold_contacts",
    "wom_positive",
    "wom_negative",
    "offers",
    "encounters",
    "unserved",
    "stop_contact",
    "stop_consult",
    "stop_objection",
    "stop_closing",
    "moves",
    "followed",
    "stayed",
    "with_salesperson_start",
    "needs",
    "looked_elsewhere",
    "trades_elsewhere",
    "lost_to_rival",
    "lost_to_other_firm",
    "breach_exits",
    "left_market",
    "introduced",
    "gave_up",
)
(
    I_TRADES,
    I_FAILURES,
    I_BREACHES,
    I_COMPLAINTS,
    I_FORGIVEN,
    I_SWITCHES,
    I_CHURNED,
    I_REFERRALS,
    I_COLD,
    I_WOM_POS,
    I_WOM_NEG,
    I_OFFERS,
    I_ENCOUNTERS,
    I_UNSERVED,
    I_STOP_CONTACT,
    I_STOP_CONSULT,
    I_STOP_OBJECTION,
    I_STOP_CLOSING,
    I_MOVES,
    I_FOLLOWED,
    I_STAYED,
    I_WITH_START,
    I_NEEDS,
    I_LOOKED_ELSEWHERE,
    I_TRADES_ELSEWHERE,
    I_LOST_TO_RIVAL,
    I_LOST_TO_OTHER_FIRM,
    I_BREACH_EXITS,
    I_LEFT_MARKET,
    I_INTRODUCED,
    I_GAVE_UP,
) = range(len(COUNTERS))

MEANS = (
    "mean_trust",
    "mean_instrumental_trust",
    "mean_emotional_trust",
    "mean_org_trust",
    "primary_org_trust",
    "insider_share",
    "with_salesperson",
    "mean_transaction_cost",
    "mean_needs_depth",
    "mean_info_asymmetry",
    "perceived_quality",
    "repurchase_rate",
    "retention_rate",
    "brand_awareness",
    "survey_trust",
    "survey_response_rate",
    "interview_trust",
    "wom_sentiment",
    "needs_met_share",
    "revenue",
)
# Columns of the MEANS row by name (measure.summarize writes them; tests check the names).
(
    M_MEAN_TRUST,
    M_MEAN_INSTRUMENTAL_TRUST,
    M_MEAN_EMOTIONAL_TRUST,
    M_MEAN_ORG_TRUST,
    M_PRIMARY_ORG_TRUST,
    M_INSIDER_SHARE,
    M_WITH_SALESPERSON,
    M_MEAN_TRANSACTION_COST,
    M_MEAN_NEEDS_DEPTH,
    M_MEAN_INFO_ASYMMETRY,
    M_PERCEIVED_QUALITY,
    M_REPURCHASE_RATE,
    M_RETENTION_RATE,
    M_BRAND_AWARENESS,
    M_SURVEY_TRUST,
    M_SURVEY_RESPONSE_RATE,
    M_INTERVIEW_TRUST,
    M_WOM_SENTIMENT,
    M_NEEDS_MET_SHARE,
    M_REVENUE,
) = range(len(MEANS))

METRICS = ("step",) + COUNTERS + MEANS
# The simulated measurements (ODD 7.12): their draws are made only with
# measurement.observe on, and they are NaN with it off.
OBSERVED = ("survey_trust", "survey_response_rate", "interview_trust", "wom_sentiment")

# Human-readable meaning of each metric, shown by `trustsim metrics` and in docs/ODD.md.
METRIC_HELP = {
    "trades": "closed sales this step",
    "failures": "service failures this step",
    "breaches": "opportunistic breaches this step",
    "complaints": "complaints after unforgiven failures",
    "forgiven": "failures forgiven",
    "switches": "customers lured away by a competitor's discount",
    "churned": "customers who exited after an unforgiven failure",
    "referrals": "first meetings through a tie's referral (weighted by the tie's ring)",
    "cold_contacts": "first meetings by cold contact",
    "wom_positive": "customers who praised",
    "wom_negative": "customers who warned",
    "offers": "competitor offers received",
    "encounters": "sales encounters served",
    "unserved": "requests turned away (capacity)",
    "stop_contact": "encounters that stopped at contact",
    "stop_consult": "... at consultative communication",
    "stop_objection": "... at objection handling",
    "stop_closing": "... at closing",
    "moves": "salespeople who moved to a rival firm",
    "followed": "customers who followed a moving salesperson",
    "stayed": "customers who stayed with the firm",
    "with_salesperson_start": "customers with a salesperson at the start of the step",
    "needs": "customers who needed to buy this step (each need counted once)",
    "looked_elsewhere": "needs taken elsewhere the same step after an encounter that did not "
    "close (to a salesperson met before, kin, a tie's referral or a rival firm's salesperson)",
    "trades_elsewhere": "needs met elsewhere: trades closed on such a second try",
    "lost_to_rival": "customers whose own salesperson lost them to a trade elsewhere "
    "(the other salesperson becomes their own)",
    "lost_to_other_firm": "... of which to a salesperson of another firm",
    "breach_exits": "customers who left their salesperson at once after detecting a breach",
    "left_market": "customers who left the market for good after a purchase, for reasons no "
    "salesperson causes (mechanisms.leave_market; apart from 'churned')",
    "introduced": "customers introduced to a successor in a joint visit after their "
    "salesperson's departure was announced (turnover.reassignment = handover)",
    "gave_up": "customers who gave up on a salesperson for good after elsewhere.give_up "
    "unclosed encounters in a row with it: they never choose it again (mechanisms.give_up)",
    "revenue": "value of this step's trades: each customer's basket times the firm's price",
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
    "retention_rate": "share of customers with a salesperson at the start of the step who "
    "still have the same one at its end (a followed move keeps; a switch, an exit after a "
    "failure or a breach, a handover or a need met elsewhere loses)",
    "brand_awareness": "share of customers who met a salesperson or heard word of mouth",
    "survey_trust": "survey estimate of organizational trust (noisy, biased, Likert)",
    "survey_response_rate": "share of sampled customers who answered",
    "interview_trust": "interview estimate of personal trust (small sample)",
    "wom_sentiment": "(praise - warnings) / all, as seen on social media",
    "needs_met_share": "share of this step's needs that ended in a trade with anyone "
    "(trades / needs; NaN: no need)",
}


# Run metrics: one number per run, computed after it from the per-step series by
# trustsim.value.run_metrics (no engine computes them), reported in run.json and as
# statistics of studies and calibration.
RUN_METRICS = ("clv_mean",)
RUN_METRIC_HELP = {
    "clv_mean": "customer lifetime value so far: mean over all customers of the revenue "
    "they brought, week t discounted by (1 + measurement.discount_rate)^(-t/52) (ODD 7.19)",
}


# The relationship event log (run.history): one row per encounter, offer or move.
EV_ENCOUNTER, EV_OFFER, EV_TURNOVER, EV_INTRODUCED, EV_LEFT_MARKET = 0, 1, 2, 3, 4
EVENT_KINDS = ("encounter", "offer", "turnover", "introduced", "left_market")
NAN = float("nan")
# The one table of the log's columns: (name, dtype, default). A default of None: the column
# is always written (who, when, and the relationship before and after the event); any other
# default is what a row holds where its event did not set the column. Both engines write
# the defaults from here (trustsim.core.eventlog.DEFAULT_ROW, TrustModel.log).
LOG_SCHEMA = (
    ("step", "int64", None),
    ("kind", "int64", None),
    ("customer", "int64", None),
    ("salesperson", "int64", None),
    ("firm", "int64", None),
    ("origin", "int64", None),
    ("stage", "int64", -1),
    ("ring_before", "int64", None),
    ("ring_after", "int64", None),
    ("n_trades", "int64", None),
    ("trust_before", "float64", NAN),
    ("trust_after", "float64", NAN),
    ("ti_before", "float64", None),
    ("te_before", "float64", None),
    ("ti_after", "float64", None),
    ("te_after", "float64", None),
    ("gift", "float64", None),
    ("org_trust", "float64", NAN),
    ("asym", "float64", None),
    ("perf", "float64", NAN),
    ("depth", "int64", 0),
    ("cost", "float64", NAN),
    ("breach", "int64", 0),
    ("failed", "int64", 0),
    ("forgiven", "int64", 0),
    ("complained", "int64", 0),
    ("exited", "int64", 0),
    ("wom", "int64", 0),
    ("discount", "float64", NAN),
    ("switched", "int64", 0),
    ("followed", "int64", 0),
    ("misses", "int64", None),
    ("elsewhere", "int64", 0),
    ("lost_salesperson", "int64", -1),
    ("breach_exit", "int64", 0),
)
LOG_COLUMNS = tuple(name for name, _, _ in LOG_SCHEMA)
LOG_INT_COLUMNS = tuple(name for name, dtype, _ in LOG_SCHEMA if dtype == "int64")
LOG_DEFAULTS = {name: default for name, _, default in LOG_SCHEMA if default is not None}
# Columns of an event-log row by name, by position in LOG_SCHEMA: numba needs them as
# module-level integers (tests/model/test_metric_names.py checks each against its name).
(
    L_STEP,
    L_KIND,
    L_CUSTOMER,
    L_SALESPERSON,
    L_FIRM,
    L_ORIGIN,
    L_STAGE,
    L_RING_BEFORE,
    L_RING_AFTER,
    L_N_TRADES,
    L_TRUST_BEFORE,
    L_TRUST_AFTER,
    L_TI_BEFORE,
    L_TE_BEFORE,
    L_TI_AFTER,
    L_TE_AFTER,
    L_GIFT,
    L_ORG_TRUST,
    L_ASYM,
    L_PERF,
    L_DEPTH,
    L_COST,
    L_BREACH,
    L_FAILED,
    L_FORGIVEN,
    L_COMPLAINED,
    L_EXITED,
    L_WOM,
    L_DISCOUNT,
    L_SWITCHED,
    L_FOLLOWED,
    L_MISSES,
    L_ELSEWHERE,
    L_LOST_SALESPERSON,
    L_BREACH_EXIT,
) = range(len(LOG_COLUMNS))
