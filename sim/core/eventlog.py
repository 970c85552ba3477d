"""The core's event log: one row per (phase, customer) slot, in the columns of
:data:`trustsim.metrics.LOG_COLUMNS`."""

from __future__ import annotations

import numpy as np
from numba import njit

from trustsim.metrics import (
    L_ASYM,
    L_BREACH,
    L_BREACH_EXIT,
    L_COMPLAINED,
    L_COST,
    L_CUSTOMER,
    L_DEPTH,
    L_DISCOUNT,
    L_ELSEWHERE,
    L_EXITED,
    L_FAILED,
    L_FIRM,
    L_FOLLOWED,
    L_FORGIVEN,
    L_GIFT,
    L_KIND,
    L_LOST_SALESPERSON,
    L_MISSES,
    L_N_TRADES,
    L_ORG_TRUST,
    L_ORIGIN,
    L_PERF,
    L_RING_AFTER,
    L_RING_BEFORE,
    L_SALESPERSON,
    L_STAGE,
    L_STEP,
    L_SWITCHED,
    L_TE_AFTER,
    L_TE_BEFORE,
    L_TI_AFTER,
    L_TI_BEFORE,
    L_TRUST_AFTER,
    L_TRUST_BEFORE,
    L_WOM,
)

NAN = np.nan


@njit(cache=True)
def log_event(
    buf,
    logged,
    slot,
    step,
    kind,
    c,
    s,
    firm,
    before,
    after,
    stage=-1,
    trust_before=NAN,
    trust_after=NAN,
    org_trust=NAN,
    perf=NAN,
    depth=0,
    cost=NAN,
    breach=False,
    failed=False,
    forgiven=False,
    complained=False,
    exited=False,
    wom=0,
    discount=NAN,
    switched=False,
    followed=False,
    elsewhere=False,
    lost_salesperson=-1,
    breach_exit=False,
):
    """Write event-log row ``slot`` (one per phase and customer): relationship (c, s) as it
    was ``before`` the event and is ``after`` it (the same record when the event left it
    alone), plus what happened; what did not happen keeps its default (NaN or 0), as in
    the Mesa engine's ``TrustModel.log``."""
    logged[slot] = True
    row = buf[slot]
    row[L_STEP] = step
    row[L_KIND] = kind
    row[L_CUSTOMER] = c
    row[L_SALESPERSON] = s
    row[L_FIRM] = firm
    row[L_ORIGIN] = after.origin
    row[L_STAGE] = stage
    row[L_RING_BEFORE] = before.ring
    row[L_RING_AFTER] = after.ring
    row[L_N_TRADES] = after.n_trades
    row[L_TRUST_BEFORE] = trust_before
    row[L_TRUST_AFTER] = trust_after
    row[L_TI_BEFORE] = before.ti
    row[L_TE_BEFORE] = before.te
    row[L_TI_AFTER] = after.ti
    row[L_TE_AFTER] = after.te
    row[L_GIFT] = after.gift
    row[L_ORG_TRUST] = org_trust
    row[L_ASYM] = before.asym
    row[L_PERF] = perf
    row[L_DEPTH] = depth
    row[L_COST] = cost
    row[L_BREACH] = breach
    row[L_FAILED] = failed
    row[L_FORGIVEN] = forgiven
    row[L_COMPLAINED] = complained
    row[L_EXITED] = exited
    row[L_WOM] = wom
    row[L_DISCOUNT] = discount
    row[L_SWITCHED] = switched
    row[L_FOLLOWED] = followed
    row[L_MISSES] = after.misses
    row[L_ELSEWHERE] = elsewhere
    row[L_LOST_SALESPERSON] = lost_salesperson
    row[L_BREACH_EXIT] = breach_exit
