"""The quantities each hypothesis H1-H12 of the model brief needs, from a run's event log.

Each ``h*`` function takes the relationship event log (``RunResult.events``, a run with
``run.history = true``) and returns a DataFrame of the measured quantity. None of them
judges the hypothesis: experiments built on them report effect sizes with confidence
intervals, whatever the direction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from trustsim.codes import CLOSED, COLD, INSIDER, OUTSIDER, REFERRAL
from trustsim.metrics import EV_ENCOUNTER, EV_OFFER, EV_TURNOVER

if TYPE_CHECKING:  # annotations only: importing the world would load numba
    from trustsim.population import World

PAIR = ["customer", "salesperson"]


def encounters(events: pd.DataFrame) -> pd.DataFrame:
    return events[events.kind == EV_ENCOUNTER]


def trades(events: pd.DataFrame) -> pd.DataFrame:
    enc = encounters(events)
    return enc[enc.stage == CLOSED]


def _bins(x: pd.Series, edges=(0, 0.2, 0.4, 0.6, 0.8, 1.0001)) -> pd.Series:
    return pd.cut(x, list(edges), right=False)


def h1_insider_by_trades(events: pd.DataFrame) -> pd.DataFrame:
    """H1: share of relationships that are insiders after n trades, and the trade count at
    which each relationship first crossed from outsider to insider (NaN: never)."""
    tr = trades(events)
    share = (
        tr.assign(insider=tr.ring_after == INSIDER)
        .groupby("n_trades")
        .insider.agg(["mean", "size"])
        .rename(columns={"mean": "insider_share", "size": "n"})
    )
    cross = tr[(tr.ring_before == OUTSIDER) & (tr.ring_after == INSIDER)]
    first = cross.groupby(PAIR).n_trades.min()
    share.attrs["trades_to_insider"] = first
    return share.reset_index()


def h2_decision_by_age(events: pd.DataFrame, young: int = 3) -> pd.DataFrame:
    """H2: standardized logistic coefficients of closing on ability (ti) and character (te)
    trust, separately for young (< ``young`` trades) and old relationships."""
    import statsmodels.api as sm

    enc = encounters(events).copy()
    enc["closed"] = (enc.stage == CLOSED).astype(float)
    rows = []
    for label, part in (
        ("young", enc[enc.n_trades - (enc.stage == CLOSED) < young]),
        ("old", enc[enc.n_trades - (enc.stage == CLOSED) >= young]),
    ):
        x = part[["ti_before", "te_before"]]
        if len(part) < 30 or part.closed.nunique() < 2 or (x.std() == 0).any():
            rows.append(
                {"age": label, "n": len(part), "beta_ability": np.nan, "beta_character": np.nan}
            )
            continue
        z = (x - x.mean()) / x.std()
        fit = sm.Logit(part.closed, sm.add_constant(z)).fit(disp=0)
        rows.append(
            {
                "age": label,
                "n": len(part),
                "beta_ability": fit.params["ti_before"],
                "beta_character": fit.params["te_before"],
            }
        )
    return pd.DataFrame(rows)


def h3_cost_by_trust(events: pd.DataFrame) -> pd.DataFrame:
    """H3: transaction cost per trade against trust at the trade."""
    tr = trades(events)
    return (
        tr.groupby(_bins(tr.trust_before), observed=True).cost.agg(["mean", "size"]).reset_index()
    )


def h4_failure_response(events: pd.DataFrame) -> pd.DataFrame:
    """H4: after a service failure, rates of forgiveness, complaint, exit and warning by trust."""
    f = trades(events)
    f = f[f.failed == 1].assign(warned=lambda d: d.wom < 0)
    return (
        f.groupby(_bins(f.trust_before), observed=True)[
            ["forgiven", "complained", "exited", "warned"]
        ]
        .mean()
        .join(f.groupby(_bins(f.trust_before), observed=True).size().rename("n"))
        .reset_index()
    )


def h5_offers(events: pd.DataFrame) -> pd.DataFrame:
    """H5: competitor offers with the customer's trust, the discount and whether it switched."""
    return events[events.kind == EV_OFFER][
        ["step", "customer", "trust_before", "discount", "switched"]
    ]


def h6_rebuild(events: pd.DataFrame) -> pd.DataFrame:
    """H6: per breached relationship, trades it took to first reach the pre-breach trust level
    from the start, and trades after the breach to reach it again (NaN: not yet)."""
    tr = trades(events).sort_values(["customer", "salesperson", "step"])
    rows = []
    for (c, s), rel in tr.groupby(PAIR):
        hits = np.flatnonzero(rel.breach.to_numpy() == 1)
        if hits.size == 0:
            continue
        k = hits[0]
        level = rel.trust_before.iloc[k]
        before = rel.trust_after.iloc[:k].to_numpy()
        after = rel.trust_after.iloc[k + 1 :].to_numpy()
        up = np.flatnonzero(before >= level)
        back = np.flatnonzero(after >= level)
        rows.append(
            {
                "customer": c,
                "salesperson": s,
                "level": level,
                "trades_to_build": up[0] + 1 if up.size else np.nan,
                "trades_to_rebuild": back[0] + 1 if back.size else np.nan,
            }
        )
    return pd.DataFrame(
        rows, columns=["customer", "salesperson", "level", "trades_to_build", "trades_to_rebuild"]
    )


def h7_origin(events: pd.DataFrame) -> pd.DataFrame:
    """H7: conversion of first encounters and trades to insider, by how the pair first met."""
    enc = encounters(events).sort_values("step")
    first = enc.groupby(PAIR).first()
    first = first[first.origin.isin([COLD, REFERRAL])]
    conv = first.assign(closed=first.stage == CLOSED).groupby("origin").closed.agg(["mean", "size"])
    t1 = h1_insider_by_trades(events).attrs["trades_to_insider"]
    to_in = first.join(t1.rename("to_insider")).groupby("origin").to_insider.mean()
    out = conv.join(to_in).reset_index()
    out["origin"] = out.origin.map({COLD: "cold", REFERRAL: "referral"})
    return out.rename(columns={"mean": "first_close_rate", "size": "n"})


def h8_transparency(events: pd.DataFrame, world: World) -> pd.DataFrame:
    """H8: per firm, its transparency, mean trades to insider and mean asymmetry at trade 5."""
    tr = trades(events)
    t1 = h1_insider_by_trades(events).attrs["trades_to_insider"].rename("to_insider").reset_index()
    firm_of = tr.groupby(PAIR).firm.first().rename("firm").reset_index()
    to_in = t1.merge(firm_of, on=PAIR).groupby("firm").to_insider.mean()
    asym5 = tr[tr.n_trades == 5].groupby("firm").asym.mean()
    df = pd.DataFrame({"transparency": world.transparency})
    return df.join(to_in).join(asym5.rename("asym_at_5")).rename_axis("firm").reset_index()


def h9_turnover(events: pd.DataFrame) -> pd.DataFrame:
    """H9: customers of a departing salesperson: personal minus organizational trust, followed?"""
    t = events[events.kind == EV_TURNOVER]
    return t.assign(personal_minus_org=t.trust_before - t.org_trust)[
        [
            "step",
            "customer",
            "salesperson",
            "firm",
            "trust_before",
            "org_trust",
            "personal_minus_org",
            "followed",
        ]
    ]


def h10_strategy(events: pd.DataFrame, world: World) -> pd.DataFrame:
    """H10: by salesperson strategy, mean trust after 3 and 15 trades and mean loss at a
    failure or breach."""
    tr = trades(events).assign(strategy=lambda d: world.strategy[d.salesperson.to_numpy()])
    tr = tr.assign(kind_=np.where(tr.strategy >= 0.5, "instrumental", "emotional"))
    shock = tr[(tr.failed == 1) | (tr.breach == 1)]
    out = pd.DataFrame(
        {
            "trust_at_3": tr[tr.n_trades == 3].groupby("kind_").trust_after.mean(),
            "trust_at_15": tr[tr.n_trades == 15].groupby("kind_").trust_after.mean(),
            "loss_at_shock": (shock.trust_before - shock.trust_after).groupby(shock.kind_).mean(),
        }
    )
    return out.rename_axis("strategy").reset_index()


def h11_culture(events: pd.DataFrame) -> pd.DataFrame:
    """H11 (compare runs): cold-start close rate, trades to insider, and the share of insider
    relationships lost again (fell back out of the ring, or the customer exited)."""
    h7 = h7_origin(events)
    tr = trades(events)
    insiders = tr[tr.ring_after == INSIDER].groupby(PAIR).size().index
    fell = tr[(tr.ring_before == INSIDER) & ((tr.ring_after == OUTSIDER) | (tr.exited == 1))]
    lost = fell.groupby(PAIR).size().index
    cold = h7[h7.origin == "cold"]
    return pd.DataFrame(
        [
            {
                "cold_first_close_rate": cold.first_close_rate.iloc[0] if len(cold) else np.nan,
                "cold_trades_to_insider": cold.to_insider.iloc[0] if len(cold) else np.nan,
                "insider_relationships": len(insiders),
                "insider_loss_share": len(lost) / len(insiders) if len(insiders) else np.nan,
            }
        ]
    )


def h12_needs(events: pd.DataFrame) -> pd.DataFrame:
    """H12: change in character trust per honest trade, by the deepest need level uncovered."""
    tr = trades(events)
    tr = tr[(tr.breach == 0) & (tr.failed == 0)]
    gain = (tr.te_after - tr.te_before).rename("emotional_gain")
    return gain.groupby(tr.depth).agg(["mean", "size"]).rename_axis("depth").reset_index()


# --- every path counted, censoring handled ---------------------------------------------


def since(events: pd.DataFrame, burn_in: int) -> pd.DataFrame:
    """Events from step ``burn_in`` on (the market has filled from empty by then)."""
    return events[events.step >= burn_in]


def h9_turnover_loss(events: pd.DataFrame, last_step: int, horizon: int) -> pd.DataFrame:
    """H9, every path: per customer of a moving salesperson, personal minus organizational
    trust at the move and whether the firm lost it within ``horizon`` steps — it followed,
    or it made no trade with the old firm in (move, move + horizon], whatever took it away
    (a handover not taken up, a switch, an exit, a need met elsewhere, leaving the market).
    Moves whose horizon runs past the end of the run are left out (censored)."""
    moves = h9_turnover(events)
    moves = moves[moves.step + horizon <= last_step].reset_index(drop=True)
    tr = trades(events)[["step", "customer", "firm"]].rename(columns={"step": "t"})
    pairs = moves.reset_index()[["index", "step", "customer", "firm"]].merge(
        tr, on=["customer", "firm"]
    )
    again = pairs[(pairs.t > pairs.step) & (pairs.t <= pairs.step + horizon)]["index"].unique()
    kept = moves.index.isin(again)
    return moves.assign(lost=(moves.followed.astype(bool) | ~kept).astype(float))


def insider_spells(events: pd.DataFrame, last_step: int) -> pd.DataFrame:
    """Per pair that became insider: the step it did, the step it was first lost by any
    path (fell out of the ring, exit after a failure or a breach, a rival's offer taken, a
    handover when its salesperson left, a need met by another salesperson who became its
    own) and whether that happened before the run ended (else censored at ``last_step``)."""
    tr = trades(events)
    start = tr[tr.ring_after == INSIDER].groupby(PAIR).step.min().rename("start")
    fell = tr[
        ((tr.ring_before == INSIDER) & (tr.ring_after == OUTSIDER))
        | (tr.exited == 1)
        | (tr.breach_exit == 1)
    ][[*PAIR, "step"]]
    offers = events[(events.kind == EV_OFFER) & (events.switched == 1)][[*PAIR, "step"]]
    moves = events[(events.kind == EV_TURNOVER) & (events.followed == 0)][[*PAIR, "step"]]
    taken = tr[tr.lost_salesperson >= 0][["customer", "lost_salesperson", "step"]]
    taken = taken.rename(columns={"lost_salesperson": "salesperson"})
    losses = pd.concat([fell, offers, moves, taken], ignore_index=True)
    losses = losses.merge(start.reset_index(), on=PAIR)
    first = losses[losses.step > losses.start].groupby(PAIR).step.min().rename("lost_at")
    spells = start.to_frame().join(first)
    spells["lost"] = spells.lost_at.notna()
    spells["end"] = spells.lost_at.fillna(last_step)
    return spells.reset_index()


def trades_to_cross(events: pd.DataFrame) -> pd.DataFrame:
    """Per pair that began as outsiders: trades until it first crossed to insider
    (``crossed``) or, censored, the trades it made in the run without crossing."""
    tr = trades(events)
    first = tr.sort_values("step").groupby(PAIR).first()
    began_out = first[first.ring_before == OUTSIDER].index
    cross = tr[(tr.ring_before == OUTSIDER) & (tr.ring_after == INSIDER)]
    crossed = cross.groupby(PAIR).n_trades.min().rename("at")
    made = tr.groupby(PAIR).n_trades.max().rename("made")
    out = pd.DataFrame(index=began_out).join(crossed).join(made)
    out["crossed"] = out["at"].notna()
    out["trades"] = out["at"].fillna(out["made"])
    return out.reset_index()


def between_trades(events: pd.DataFrame) -> pd.DataFrame:
    """Consecutive trades of a pair: the trust lost per step between one trade's end and the
    next one's start, with the strategy-relevant gift stock at the first."""
    tr = trades(events).sort_values([*PAIR, "step"])
    nxt = tr.groupby(PAIR)[["step", "trust_before"]].shift(-1)
    gap = nxt.step - tr.step
    keep = gap.notna() & (gap > 0)
    return pd.DataFrame(
        {
            "weeks": gap[keep],
            "decay_per_week": ((tr.trust_after - nxt.trust_before) / gap)[keep],
            "gift": tr.gift[keep],
        }
    )


def shock_loss_vs_honest(events: pd.DataFrame, which: str) -> pd.Series:
    """Trust lost at each failure (``which`` = "failed", no breach) or breach, measured
    against an honest, successful trade at the same relationship age (``n_trades``) in the
    same run: the matched honest change minus this trade's change."""
    tr = trades(events)
    change = tr.trust_after - tr.trust_before
    honest = (tr.failed == 0) & (tr.breach == 0)
    shock = (tr.breach == 1) if which == "breach" else ((tr.failed == 1) & (tr.breach == 0))
    matched = change[honest].groupby(tr.n_trades[honest]).mean()
    return (tr.n_trades[shock].map(matched) - change[shock]).dropna()


def trades_since_breach(events: pd.DataFrame) -> pd.Series:
    """Per breached pair: the trades it made after its first breach (``since``)."""
    tr = trades(events)
    first = tr[tr.breach == 1].groupby(PAIR).step.min().rename("breach_step")
    after = tr.join(first, on=PAIR, how="inner")
    return after[after.step > after.breach_step].groupby(PAIR).size().rename("since")
