"""Integer codes shared by both engines: rings, contact origins, sales stages, draw purposes.

Numba freezes module-level integers into compiled code, so these must never be
reassigned at run time.
"""

# Rings of 差序格局, innermost first (self is the customer).
FAMILY, INSIDER, OUTSIDER = 0, 1, 2
RING_NAMES = ("family", "insider", "outsider")
NO_SALESPERSON = -1

# How a customer first met a salesperson.
COLD, REFERRAL, KIN, HANDOVER = 0, 1, 2, 3
ORIGIN_NAMES = ("cold", "referral", "kin", "handover")

# Sales stages (seed 001 §四); an encounter "reaches" the first stage it fails, CLOSED if none.
CONTACT, CONSULT, OBJECTION, CLOSING, CLOSED = 0, 1, 2, 3, 4
STAGE_NAMES = ("contact", "consult", "objection", "closing", "closed")

# Rounds of encounters in a step: the chosen salesperson, then (7.14) elsewhere.
FIRST_TRY, ELSEWHERE = 0, 1

# Purposes of counter-based draws: one stream per (seed, step, a, b, purpose).
D_NEED, D_CHOOSE, D_REFERRAL, D_CAPACITY, D_STAGE = 1, 2, 3, 4, 5
D_NEEDS_DEPTH, D_OUTCOME, D_BREACH, D_FAILURE, D_FORGIVE = 10, 11, 12, 13, 14
D_COMPLAIN, D_EXIT, D_WOM, D_OFFER, D_DISCOUNT = 15, 16, 17, 18, 19
D_BARRIER, D_RIVAL, D_TURNOVER, D_FOLLOW, D_REPLACE = 20, 21, 22, 23, 24
D_SURVEY, D_RESPOND, D_SURVEY_NOISE, D_INTERVIEW, D_INTERVIEW_NOISE = 30, 31, 32, 33, 34
D_SOCIAL = 35
D_LOOK, D_ELSEWHERE_REFERRAL, D_ELSEWHERE_PICK, D_BREACH_EXIT = 40, 41, 42, 43
D_LEAVE_MARKET, D_INTRODUCE = 44, 45
D_INIT, D_BUYING = 50, 51

# Reassignment policies (turnover.reassignment; trustsim.params.REASSIGNMENTS in this order).
REASSIGN_RANDOM, REASSIGN_BEST, REASSIGN_KNOWN, REASSIGN_HANDOVER = 0, 1, 2, 3
