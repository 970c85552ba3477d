"""A class playing the market: students' salespeople in one simulated market, in rounds.

A :class:`Market` holds one numba-core model (:class:`trustsim.core.model.CoreModel`)
of ``seats`` salespeople; a student takes a seat, the model plays the others with the
attributes they were drawn with. Before each round the chosen attributes of every seat
are written into the core's world arrays (:mod:`.choices`), then the round's weeks run
with the same rules as any run. Everything that decides a round is in :class:`Round`, so
the seed, the scenario and the rounds reproduce a session exactly (:func:`replay`).

No web here: :mod:`.playserver` serves it; this module is what a test or a researcher
drives directly.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trustsim.classroom.choices import Attributes, Choice, attributes
from trustsim.codes import CLOSED, FAMILY, INSIDER, OUTSIDER
from trustsim.metrics import (
    EV_ENCOUNTER,
    L_BREACH,
    L_BREACH_EXIT,
    L_CUSTOMER,
    L_KIND,
    L_LOST_SALESPERSON,
    L_RING_AFTER,
    L_RING_BEFORE,
    L_SALESPERSON,
    L_STAGE,
    L_WOM,
    LOG_COLUMNS,
)
from trustsim.params import Scenario

OUTCOMES = (
    "sales",
    "customers",
    "insiders",
    "trust",
    "breaches",
    "breach_exits",
    "warnings",
    "new_insiders",
)
EVENTS_SHOWN = 6  # events a student's screen lists per round
NAME_LENGTH = 24


class PlayError(ValueError):
    """A request the market refuses (full room, unknown player, bad name): one line."""


@dataclass
class Player:
    token: str
    name: str
    seat: int
    first_round: int  # the first round this player's choices act in
    choice: Choice | None = None  # chosen for the coming round (None: not yet)
    last: Choice = field(default_factory=Choice)  # kept when a round comes without a choice


@dataclass(frozen=True)
class Round:
    """What decides one round: each student seat's choice, and whether it was chosen anew
    (False: last round's choice was kept). Seats not listed are played by the model."""

    number: int
    choices: dict[int, Choice]
    chose: dict[int, bool]
    names: dict[int, str]


def class_scenario(base: Scenario, seats: int) -> Scenario:
    """``base`` with ``seats`` salespeople, customers in the same proportion, the event log on."""
    pop = base.population
    per = pop.n_customers / pop.n_salespeople
    data = base.model_dump()
    data["population"]["n_salespeople"] = seats
    data["population"]["n_customers"] = max(2, round(per * seats))
    data["population"]["n_firms"] = min(pop.n_firms, seats)
    data["run"]["history"] = True
    return Scenario.model_validate(data, strict=False)


class Market:
    """One class's market: seats, players, rounds and their outcomes."""

    def __init__(self, scenario: Scenario, seed: int, seats: int, weeks: int):
        if seats < 1 or weeks < 1:
            raise PlayError("a market needs at least one seat and one week per round")
        self.scenario = class_scenario(scenario, seats)
        self.seed, self.seats, self.weeks = seed, seats, weeks
        self.players: dict[str, Player] = {}
        self.version = 0  # bumped by every change a screen shows
        self.reset()

    # ------------------------------------------------------------------ set-up
    def reset(self) -> None:
        """Back to round 0 with the same seed; players keep their seats, choices are cleared."""
        from trustsim.core.model import CoreModel

        self.model = CoreModel(self.scenario, self.seed)
        a = self.model.arrays
        self.drawn = [
            Attributes(float(a.strategy[s]), float(a.empathy[s]), float(a.integrity[s]))
            for s in range(self.seats)
        ]
        self.rounds: list[Round] = []
        self.outcomes: list[dict[str, Any]] = []  # one row per (round, student seat)
        self.events: dict[int, list[dict[str, Any]]] = {}  # seat -> last round's events
        self.feed: list[dict[str, Any]] = []  # the class's events, newest last
        for p in self.players.values():
            p.choice, p.last, p.first_round = None, Choice(), 1
        self.version += 1

    @property
    def round(self) -> int:
        """Rounds played so far."""
        return len(self.rounds)

    def join(self, name: str) -> Player:
        """A new player on the first free seat, playing from the next round."""
        name = " ".join(str(name).split())[:NAME_LENGTH]
        if not name:
            raise PlayError("type a name first")
        taken = {p.seat for p in self.players.values()}
        free = [s for s in range(self.seats) if s not in taken]
        if not free:
            raise PlayError(f"the room is full ({self.seats} salespeople)")
        player = Player(secrets.token_urlsafe(16), name, free[0], self.round + 1)
        self.players[player.token] = player
        self.version += 1
        return player

    def player(self, token: str) -> Player:
        try:
            return self.players[token]
        except (KeyError, TypeError):
            raise PlayError("unknown player: open the link you were given, or join again") from None

    def remove(self, seat: int) -> None:
        """The seat's player leaves; the model plays the seat again from the next round."""
        for token, p in list(self.players.items()):
            if p.seat == seat:
                del self.players[token]
                self.version += 1
                return
        raise PlayError(f"no player on seat {seat}")

    def choose(self, token: str, choice: Choice) -> None:
        self.player(token).choice = choice
        self.version += 1

    def chosen(self) -> int:
        return sum(p.choice is not None for p in self.players.values())

    # ------------------------------------------------------------------ a round
    def next_round(self) -> Round:
        """The round that would run now, from the players' choices (kept ones if none)."""
        choices, chose, names = {}, {}, {}
        for p in sorted(self.players.values(), key=lambda p: p.seat):
            choices[p.seat] = p.choice or p.last
            chose[p.seat] = p.choice is not None
            names[p.seat] = p.name
        return Round(self.round + 1, choices, chose, names)

    def run_round(self) -> Round:
        """Play the next round; each player's choice becomes the one kept."""
        rnd = self.next_round()
        self.play(rnd)
        for p in self.players.values():
            p.last = rnd.choices[p.seat]
            p.choice = None
        return rnd

    def play(self, rnd: Round) -> None:
        """Set every seat's attributes for ``rnd``, run its weeks, record the outcomes."""
        a = self.model.arrays
        for s in range(self.seats):
            drawn = self.drawn[s]
            got = attributes(rnd.choices[s], drawn) if s in rnd.choices else drawn
            a.strategy[s], a.empathy[s], a.integrity[s] = got.strategy, got.empathy, got.integrity
        start = len(self.model.events)
        self.model.run(self.weeks)
        rows = np.concatenate(self.model.events[start:]) if self.model.events[start:] else None
        self.rounds.append(rnd)
        self.events = {}
        for s in rnd.choices:
            out, events = self._outcome(s, rows)
            self.outcomes.append({"round": rnd.number, "seat": s, **out})
            self.events[s] = events[:EVENTS_SHOWN]
            self.feed.extend({**e, "name": rnd.names[s]} for e in events[:2])
        self.feed = self.feed[-40:]
        self.version += 1

    def _outcome(self, s: int, rows: np.ndarray | None) -> tuple[dict[str, Any], list[dict]]:
        primary, trust, ring = self.model.primary, self.model.scratch.trust, self.model.scratch.ring
        mine = primary == s
        out: dict[str, Any] = {
            "customers": int(mine.sum()),
            "insiders": int((mine & (ring <= INSIDER)).sum()),
            "trust": float(trust[mine].mean()) if mine.any() else float("nan"),
        }
        events: list[dict[str, Any]] = []
        if rows is None:
            rows = np.zeros((0, len(LOG_COLUMNS)))
        enc = rows[(rows[:, L_KIND] == EV_ENCOUNTER) & (rows[:, L_SALESPERSON] == s)]
        trades = enc[enc[:, L_STAGE] == CLOSED]
        breach = trades[trades[:, L_BREACH] > 0]
        out["sales"] = len(trades)
        out["breaches"] = len(breach)
        out["breach_exits"] = int((breach[:, L_BREACH_EXIT] > 0).sum())
        out["warnings"] = int((trades[:, L_WOM] < 0).sum())
        won = trades[(trades[:, L_RING_BEFORE] == OUTSIDER) & (trades[:, L_RING_AFTER] <= INSIDER)]
        out["new_insiders"] = len(won)
        for r in breach:
            c = int(r[L_CUSTOMER])
            events.append(
                {
                    "kind": "breach",
                    "customer": c,
                    "left": bool(r[L_BREACH_EXIT] > 0),
                    "warned": bool(r[L_WOM] < 0),
                    **self._ties(c),
                }
            )
        events.extend({"kind": "insider", "customer": int(r[L_CUSTOMER])} for r in won)
        lost = rows[(rows[:, L_KIND] == EV_ENCOUNTER) & (rows[:, L_LOST_SALESPERSON] == s)]
        events.extend({"kind": "lost", "customer": int(r[L_CUSTOMER])} for r in lost)
        return out, events

    def _ties(self, c: int) -> dict[str, int]:
        """How many a customer's word of mouth reaches: family ties and all ties (ODD 7.10)."""
        csr = self.model.world.csr
        rings = csr.ring[csr.indptr[c] : csr.indptr[c + 1]]
        return {"family": int((rings == FAMILY).sum()), "ties": len(rings)}

    # ------------------------------------------------------------------ what screens show
    def seat_customers(self, s: int) -> list[list[float]]:
        """[customer, ring, trust] of seat ``s``'s own customers now."""
        primary, trust, ring = self.model.primary, self.model.scratch.trust, self.model.scratch.ring
        ids = np.flatnonzero(primary == s)
        return [[int(c), int(ring[c]), round(float(trust[c]), 3)] for c in ids]

    def market_rings(self) -> list[list[int]]:
        """[seat, ring] of every customer that has a salesperson (the projector's rings)."""
        primary, ring = self.model.primary, self.model.scratch.ring
        ids = np.flatnonzero(primary >= 0)
        return np.column_stack([primary[ids], ring[ids]]).tolist() if len(ids) else []

    def totals(self) -> dict[int, dict[str, Any]]:
        """Per student seat: sales so far and the last round's customers, insiders, trust."""
        seats: dict[int, dict[str, Any]] = {}
        for row in self.outcomes:
            t = seats.setdefault(row["seat"], {"sales": 0})
            t["sales"] += row["sales"]
            t.update({k: row[k] for k in ("customers", "insiders", "trust", "breaches", "round")})
        return seats

    def history(self, s: int) -> list[dict[str, Any]]:
        return [row for row in self.outcomes if row["seat"] == s]


def replay(scenario: Scenario, seed: int, seats: int, weeks: int, rounds: list[Round]) -> Market:
    """A market that plays ``rounds`` again from the seed: the same outcomes, bit for bit."""
    market = Market(scenario, seed, seats, weeks)
    for rnd in rounds:
        market.play(rnd)
    return market
