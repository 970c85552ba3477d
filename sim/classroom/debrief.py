"""The debrief of a class's market: outcomes by the strategies students chose.

Groups students by what they chose over the session (mostly gifts or mostly respect;
ever oversold or never) and reports, per group, sales per round in the first and in the
second half of the rounds, insiders and trust at the end; and who led in sales early but fell behind late
("rich fast, then lost it"). These are the model's outcomes for this class's choices, a
small experiment, not a test of a hypothesis: H10 (gifts fast but fragile) and H6
(rebuilding after a breach is slow) are tested by the studies (docs/STUDIES.md).
"""

from __future__ import annotations

import math
from statistics import mean
from typing import Any

from trustsim.classroom.market import Round

FADED_KEYS = ("name", "style", "oversold", "early", "late")


def _style(rounds: list[Round], seat: int) -> tuple[str, bool]:
    mine = [r.choices[seat] for r in rounds if seat in r.choices]
    gifts = mean(c.style for c in mine) >= 0.5
    return ("gifts" if gifts else "respect"), any(c.oversell for c in mine)


def _avg(values: list[float]) -> float | None:
    values = [v for v in values if not math.isnan(v)]
    return round(mean(values), 3) if values else None


def _per_round(sales: list[int]) -> float:
    """Sales per round played (a late joiner played fewer); NaN: no round in this half."""
    return sum(sales) / len(sales) if sales else float("nan")


def debrief(rounds: list[Round], outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """Groups and the early leaders who fell behind, from a session's rounds and outcomes."""
    if not rounds:
        return {"rounds": 0, "groups": [], "faded": []}
    half = (len(rounds) + 1) // 2
    seats = sorted({row["seat"] for row in outcomes})
    per: dict[int, dict[str, Any]] = {}
    for s in seats:
        rows = [r for r in outcomes if r["seat"] == s]
        style, oversold = _style(rounds, s)
        per[s] = {
            "seat": s,
            "name": next(r.names[s] for r in reversed(rounds) if s in r.names),
            "style": style,
            "oversold": oversold,
            "early": _per_round([r["sales"] for r in rows if r["round"] <= half]),
            "late": _per_round([r["sales"] for r in rows if r["round"] > half]),
            "insiders": rows[-1]["insiders"],
            "trust": rows[-1]["trust"],
        }
    groups = []
    for style in ("respect", "gifts"):
        for oversold in (False, True):
            g = [p for p in per.values() if p["style"] == style and p["oversold"] == oversold]
            if g:
                groups.append(
                    {
                        "style": style,
                        "oversold": oversold,
                        "n": len(g),
                        "early": _avg([p["early"] for p in g]),
                        "late": _avg([p["late"] for p in g]),
                        "insiders": _avg([p["insiders"] for p in g]),
                        "trust": _avg([p["trust"] for p in g]),
                    }
                )
    return {"rounds": len(rounds), "half": half, "groups": groups, "faded": _faded(per)}


def _faded(per: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Students in the top third for early sales and the bottom half for late sales."""
    if len(per) < 3:
        return []
    played = [p for p in per.values() if not (math.isnan(p["early"]) or math.isnan(p["late"]))]
    if len(played) < 3:
        return []
    early = sorted(played, key=lambda p: -p["early"])
    late = sorted(played, key=lambda p: -p["late"])
    top = {p["seat"] for p in early[: max(1, len(played) // 3)]}
    bottom = {p["seat"] for p in late[len(played) // 2 :]}
    return [
        {k: round(p[k], 1) if k in ("early", "late") else p[k] for k in FADED_KEYS}
        for p in early
        if p["seat"] in top & bottom
    ]
