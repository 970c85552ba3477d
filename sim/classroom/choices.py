"""What a student chooses before a round, and the salesperson attributes it sets.

The one place that maps a choice onto the model: a student acts through the attributes
every salesperson already has (ODD 5, :class:`trustsim.population.World`), set between
rounds, never through a rule of its own.

- ``style`` (0 respect and time ... 1 gifts and favours) is the salesperson's
  ``strategy``, the instrumental share of its mix (ODD 7.5 ``strategy_signals``).
- ``effort`` (0 ... 1) spent uncovering needs is its ``empathy``, the chance to uncover
  each deeper need level (ODD 7.4 ``needs_depth``).
- ``oversell`` sets its ``integrity`` to 0 for the round: each trade is then a breach
  with probability ``breach.opportunism`` (ODD 7.5 ``trade_outcome``), and the honest
  trades' character signal loses the integrity term. Not overselling keeps the integrity
  the salesperson was drawn with.

Visiting customers in an order of one's own has no attribute: in the model customers
choose salespeople and capacity rations them in no order (ODD 3, 7.3), so the choice is
not offered (docs/CLASSROOM.md, "Playing the market").
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

FIELDS = ("style", "effort", "oversell")


class ChoiceError(ValueError):
    """A client's choice that is out of range or malformed (one line, for the client)."""


@dataclass(frozen=True)
class Choice:
    style: float = 0.5  # 0 respect and time, 1 gifts and favours
    effort: float = 0.5  # effort spent uncovering needs
    oversell: bool = False

    @classmethod
    def parse(cls, data: Any) -> Choice:
        """A choice from a client's JSON; anything else is a :class:`ChoiceError`."""
        if not isinstance(data, dict):
            raise ChoiceError("a choice is an object with style, effort and oversell")
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise ChoiceError(f"unknown field {unknown[0]!r} (allowed: {', '.join(FIELDS)})")
        values = {}
        for key in ("style", "effort"):
            v = data.get(key, getattr(cls, key))
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ChoiceError(f"{key} must be a number from 0 to 1")
            if not 0.0 <= v <= 1.0:
                raise ChoiceError(f"{key} = {v} is out of range: use 0 to 1")
            values[key] = float(v)
        oversell = data.get("oversell", False)
        if not isinstance(oversell, bool):
            raise ChoiceError("oversell must be true or false")
        return cls(values["style"], values["effort"], oversell)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Attributes:
    """A salesperson's attributes that choices set (arrays of :class:`World`)."""

    strategy: float
    empathy: float
    integrity: float


def attributes(choice: Choice, drawn: Attributes) -> Attributes:
    """What ``choice`` makes of a salesperson drawn with ``drawn``."""
    return Attributes(
        strategy=choice.style,
        empathy=choice.effort,
        integrity=0.0 if choice.oversell else drawn.integrity,
    )
