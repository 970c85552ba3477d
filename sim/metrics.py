"""Names of everything a run reports: per-step metrics and event-log columns.

``COUNTERS`` are integer event counts of one step; ``MEANS`` are averages and simulated
measurements (computed by :func:`trustsim.measure.summarize`). Plain Python, so that tools
that only need the names (experiment files, the CLI) do not load numba.
"""

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
    "referrals": "first meetings through a tie's referral (weighted by the tie's ring)",
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
    "retention_rate": "share of customers with a salesperson at the start of the step who "
    "still have the same one at its end (a followed move keeps; a switch, exit or handover "
    "loses)",
    "brand_awareness": "share of customers who met a salesperson or heard word of mouth",
    "survey_trust": "survey estimate of organizational trust (noisy, biased, Likert)",
    "survey_response_rate": "share of sampled customers who answered",
    "interview_trust": "interview estimate of personal trust (small sample)",
    "wom_sentiment": "(praise - warnings) / all, as seen on social media",
}


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
