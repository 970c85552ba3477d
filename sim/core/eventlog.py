"""The core's event log: one row per (phase, customer) slot, in the columns of
:data:`trustsim.metrics.LOG_SCHEMA`, whose defaults fill what an event does not set."""

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
    LOG_SCHEMA,
)

# A row of the table's defaults (NaN where a column is always written); numba freezes it.
DEFAULT_ROW = np.array([np.nan if d is None else d for _, _, d in LOG_SCHEMA], dtype=np.float64)


@njit(cache=True)
def log_event(buf, logged, slot, step, kind, c, s, firm, before, after, stage=None,
              trust_before=None, trust_after=None, org_trust=None, perf=None, depth=None,
              cost=None, breach=None, failed=None, forgiven=None, complained=None, exited=None,
              wom=None, discount=None, switched=None, followed=None, elsewhere=None,
              lost_salesperson=None, breach_exit=None):  # fmt: skip
    """Write event-log row ``slot`` (one per phase and customer): relationship (c, s) as it
    was ``before`` the event and is ``after`` it (the same record when the event left it
    alone), plus what happened; a column the event does not pass (None; numba prunes the
    branch) keeps LOG_SCHEMA's default, as in the Mesa engine's ``TrustModel.log``."""
    logged[slot] = True
    row = buf[slot]
    row[:] = DEFAULT_ROW
    row[L_STEP], row[L_KIND], row[L_CUSTOMER], row[L_SALESPERSON] = step, kind, c, s
    row[L_FIRM], row[L_ORIGIN], row[L_N_TRADES] = firm, after.origin, after.n_trades
    row[L_RING_BEFORE], row[L_RING_AFTER] = before.ring, after.ring
    row[L_TI_BEFORE], row[L_TE_BEFORE] = before.ti, before.te
    row[L_TI_AFTER], row[L_TE_AFTER] = after.ti, after.te
    row[L_GIFT], row[L_ASYM], row[L_MISSES] = after.gift, before.asym, after.misses
    if stage is not None:
        row[L_STAGE] = stage
    if trust_before is not None:
        row[L_TRUST_BEFORE] = trust_before
    if trust_after is not None:
        row[L_TRUST_AFTER] = trust_after
    if org_trust is not None:
        row[L_ORG_TRUST] = org_trust
    if perf is not None:
        row[L_PERF] = perf
    if depth is not None:
        row[L_DEPTH] = depth
    if cost is not None:
        row[L_COST] = cost
    if breach is not None:
        row[L_BREACH] = breach
    if failed is not None:
        row[L_FAILED] = failed
    if forgiven is not None:
        row[L_FORGIVEN] = forgiven
    if complained is not None:
        row[L_COMPLAINED] = complained
    if exited is not None:
        row[L_EXITED] = exited
    if wom is not None:
        row[L_WOM] = wom
    if discount is not None:
        row[L_DISCOUNT] = discount
    if switched is not None:
        row[L_SWITCHED] = switched
    if followed is not None:
        row[L_FOLLOWED] = followed
    if elsewhere is not None:
        row[L_ELSEWHERE] = elsewhere
    if lost_salesperson is not None:
        row[L_LOST_SALESPERSON] = lost_salesperson
    if breach_exit is not None:
        row[L_BREACH_EXIT] = breach_exit
