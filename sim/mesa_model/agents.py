"""Agents of the readable Mesa engine: firms, salespeople and customers (ODD 2).

Agent methods are the schedule of docs/ODD.md §3 written out; every decision and update
is a call into :mod:`trustsim.rules`, the same compiled functions the fast core calls.
Agents act in shuffled order: each phase writes only the acting agent's own state, and
draws are keyed, so order cannot change the outcome.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mesa
import numpy as np

from trustsim import rules
from trustsim.codes import (
    CLOSED,
    COLD,
    D_CHOOSE,
    D_REPLACE,
    ELSEWHERE,
    FIRST_TRY,
    HANDOVER,
    KIN,
    OUTSIDER,
    REASSIGN_BEST,
    REFERRAL,
    STAGE_NAMES,
)
from trustsim.metrics import EV_ENCOUNTER, EV_INTRODUCED, EV_LEFT_MARKET, EV_OFFER, EV_TURNOVER
from trustsim.rng import index


class Firm(mesa.Agent):
    """A firm: product, service and reputation attributes (fixed); reputation emerges."""

    def __init__(self, model: mesa.Model, idx: int):
        super().__init__(model)
        w = model.world
        self.idx = idx
        self.quality = float(w.quality[idx])
        self.failure_rate = float(w.failure_rate[idx])
        self.recovery = float(w.recovery[idx])
        self.transparency = float(w.transparency[idx])
        self.consistency = float(w.consistency[idx])
        self.price = float(w.price[idx])
        self.social = float(w.social[idx])


class Salesperson(mesa.Agent):
    """A salesperson: ability, integrity, empathy, strategy mix, capacity, employer."""

    def __init__(self, model: mesa.Model, idx: int, firm: Firm):
        super().__init__(model)
        w = model.world
        self.idx = idx
        self.firm = firm
        self.competence = float(w.competence[idx])
        self.integrity = float(w.integrity[idx])
        self.empathy = float(w.empathy[idx])
        self.strategy = float(w.strategy[idx])
        self.capacity = int(w.capacity[idx])
        self.moved_from: Firm | None = None
        self.demand = 0  # requests in this round of encounters
        self.available = self.capacity  # capacity left for this round

    def consider_moving(self) -> None:
        """Turnover: move to a rival firm by chance or on the scenario's schedule."""
        m = self.model
        self.moved_from = None
        to = m.turnover_destination(self.idx, self.firm.idx)
        if to != self.firm.idx:
            self.moved_from = self.firm
            self.firm = m.firms[to]
            m.count("moves")


@dataclass
class Relationship:
    """What one customer holds about one salesperson."""

    ti: float  # instrumental (ability) trust
    te: float  # emotional (character) trust
    ring: int  # FAMILY / INSIDER / OUTSIDER
    origin: int  # COLD / REFERRAL / KIN / HANDOVER
    last_step: int  # step of the last trade (gift decay is lazy)
    gift: float = 0.0
    scar: float = 0.0
    asym: float = 1.0
    n_trades: int = 0
    misses: int = 0  # encounters in a row that did not close (reset by a trade)
    refused: bool = False  # given up on for good (7.14): never chosen again

    def gift_at(self, step: int, P: np.ndarray) -> float:
        return rules.gift_now(self.gift, self.last_step, step, P)

    def trust(self, step: int, P: np.ndarray) -> float:
        return rules.combined_trust(self.ti, self.te, self.gift_at(step, P), self.n_trades, P)


class Customer(mesa.Agent):
    """A customer at the centre of its own 差序格局 rings."""

    def __init__(self, model: mesa.Model, idx: int):
        super().__init__(model)
        w = model.world
        self.idx = idx
        self.propensity = float(w.propensity[idx])
        self.risk = float(w.risk[idx])
        self.kin = int(w.kin_salesperson[idx])
        self.purchase_rate = float(w.purchase_rate[idx])
        self.basket = float(w.basket[idx])
        self.dropout = float(w.dropout[idx])
        self.in_market = True  # False once it has left the market (7.18)
        self.org = np.full(w.n_firms, self.propensity)  # organizational trust per firm
        self.relationships: dict[int, Relationship] = {}
        self.salesperson: Salesperson | None = None
        self.ties: list[tuple[Customer, int]] = []  # (neighbour, ring), sorted by id
        self.aware = False
        self.begin_step()

    # ------------------------------------------------------------ helpers
    def begin_step(self) -> None:
        """Clear what a customer did last step."""
        self.start_salesperson = self.salesperson
        self.choice: Salesperson | None = None
        self.elsewhere: Salesperson | None = None  # where an unclosed need is taken (7.14)
        self.served = self.look = False
        self.origin, self.referrer_trust, self.referrer_ring = COLD, 0.0, OUTSIDER
        self.wom, self.wom_firm = 0, -1
        self.cost = self.perf = self.revenue = math.nan
        self.depth, self.repeat = 0, False

    def relationship(self, sp: Salesperson, origin: int, org: float = 0.0) -> Relationship:
        """The relationship with ``sp``, started now (by ``origin``) if it is new."""
        rel = self.relationships.get(sp.idx)
        if rel is None:
            m = self.model
            if len(self.relationships) >= m.params.population.max_relationships:
                self.forget()
            t0 = rules.initial_trust(
                origin, self.propensity, self.referrer_trust, self.referrer_ring, org, m.P
            )
            rel = Relationship(t0, t0, rules.initial_ring(origin), origin, m.steps)
            self.relationships[sp.idx] = rel
        return rel

    def refuses(self, sp: Salesperson) -> bool:
        """Whether I gave up on ``sp`` for good (7.14)."""
        rel = self.relationships.get(sp.idx)
        return rel is not None and rel.refused

    def allowed(self, staff: list[Salesperson], skip: Salesperson | None = None):
        """Of ``staff`` (in id order), those I may meet: not ``skip``, not given up on."""
        return [x for x in staff if x is not skip and not self.refuses(x)]

    def forget(self) -> None:
        """At the cap, forget the relationship the shared rule picks (ODD 7.16): never the
        one with my own salesperson."""
        own = self.salesperson.idx if self.salesperson is not None else -1
        victim = None
        for s, rel in self.relationships.items():
            if s == own:
                continue
            if victim is None or rules.forgotten_first(
                rel.last_step, s, self.relationships[victim].last_step, victim
            ):
                victim = s
        del self.relationships[victim]

    # ------------------------------------------------------------ phases
    def meet_successor(self) -> None:
        """Phase 1 (managed handover, 7.11): my salesperson's departure is announced; it
        introduces me to a colleague in a joint visit that carries over part of my trust."""
        sp, m = self.salesperson, self.model
        if sp is None or not rules.announced(m.seed, m.steps, sp.idx, m.P):
            return
        firm = sp.firm if m.params.turnover.notice > 0 else sp.moved_from
        if firm is None:  # a move announced for now that did not happen (no rival firm)
            return
        others = [x for x in m.staff(firm.idx) if x is not sp]
        if not others:
            return
        new = others[rules.introduced_pick(m.seed, m.steps, self.idx, sp.idx, len(others))]
        old = self.relationships[sp.idx]
        rel = self.relationship(new, HANDOVER, float(self.org[firm.idx]))
        ti0, te0, before = rel.ti, rel.te, rel.trust(m.steps, m.P)
        rel.ti = rules.introduced_trust(ti0, old.ti, m.P)
        rel.te = rules.introduced_trust(te0, old.te, m.P)
        m.count("introduced")
        m.log(
            EV_INTRODUCED,
            self,
            new,
            firm.idx,
            rel,
            ti_before=ti0,
            te_before=te0,
            trust_before=before,
            trust_after=rel.trust(m.steps, m.P),
        )

    def successor(self, firm: int, staff: list[Salesperson]) -> Salesperson:
        """Whom I would get at ``firm`` if I stayed, by the firm's policy (7.11): the
        colleague with the best record, or one I know (met before and trusted most, else
        my ties' salesperson at the start of the step), else one at random."""
        m = self.model
        if rules.policy(m.P) == REASSIGN_BEST:
            ids = np.array([x.idx for x in staff], dtype=np.int64)
            return staff[rules.best_record(ids, m.world.competence)]
        best, best_trust = None, 0.0
        for x in staff:
            rel = self.relationships.get(x.idx)
            if rel is None:
                continue
            trust = rel.trust(m.steps, m.P)
            if best is None or rules.preferred(trust, x.idx, best_trust, best.idx):
                best, best_trust = x, trust
        if best is not None:
            return best
        for tie, _ in self.ties:
            x = tie.start_salesperson
            if x is not None and x.firm.idx == firm:
                return x
        return staff[index(m.seed, m.steps, self.idx, firm, D_REPLACE, len(staff))]

    def would_trust(self, sp: Salesperson, org: float) -> float:
        """My trust in ``sp`` now, or at a handover if we never met (7.1)."""
        m = self.model
        rel = self.relationships.get(sp.idx)
        if rel is not None:
            return rel.trust(m.steps, m.P)
        t0 = rules.initial_trust(HANDOVER, self.propensity, 0.0, OUTSIDER, org, m.P)
        return rules.combined_trust(t0, t0, 0.0, 0, m.P)

    def react_to_moves(self) -> None:
        """Phase 1: my salesperson moved firm; follow the person or stay with the firm,
        weighing the successor I would get when the firm's policy lets me know it."""
        sp, m = self.salesperson, self.model
        if sp is None or sp.moved_from is None:
            return
        rel = self.relationships[sp.idx]
        f_old = sp.moved_from.idx
        personal, org = rel.trust(m.steps, m.P), float(self.org[f_old])
        staff = m.staff(f_old)
        new, heir_trust = None, math.nan
        if staff and rules.successor_known(m.P):
            new = self.successor(f_old, staff)
            heir_trust = self.would_trust(new, org)
        followed = rules.follows(m.seed, m.steps, self.idx, sp.idx, personal, org, heir_trust, m.P)
        m.count("followed" if followed else "stayed")
        if not followed:
            self.salesperson = None
            if staff:
                if new is None:
                    new = staff[index(m.seed, m.steps, self.idx, f_old, D_REPLACE, len(staff))]
                self.relationship(new, HANDOVER, org)
                self.salesperson = new
        m.log(
            EV_TURNOVER,
            self,
            sp,
            sp.moved_from.idx,
            rel,
            trust_before=personal,
            org_trust=org,
            followed=followed,
        )

    def consider_offer(self) -> None:
        """Phase 2: a competitor's discount against my exit barrier."""
        sp, m = self.salesperson, self.model
        if sp is None or m.n_firms < 2 or not rules.offer_arrives(m.seed, m.steps, self.idx, m.P):
            return
        rel = self.relationships[sp.idx]
        trust = rel.trust(m.steps, m.P)
        discount, switched = rules.competitor_offer(m.seed, m.steps, self.idx, trust, rel.ring, m.P)
        m.count("offers")
        if switched:
            rival = rules.rival_firm(m.seed, m.steps, self.idx, 0, sp.firm.idx, m.n_firms)
            staff = m.staff(rival)
            switched = bool(staff)
            if switched:
                new = staff[index(m.seed, m.steps, self.idx, rival, D_REPLACE, len(staff))]
                self.relationship(new, COLD)
                self.salesperson = new
                m.count("switches")
        m.log(
            EV_OFFER,
            self,
            sp,
            sp.firm.idx,
            rel,
            trust_before=trust,
            discount=discount,
            switched=switched,
        )

    def choose_salesperson(self) -> None:
        """Phase 3: need to buy? Then my salesperson, kin, a referral, or a cold contact."""
        m = self.model
        if not self.in_market:
            return
        if not rules.needs_to_buy_at(m.seed, m.steps, self.idx, self.purchase_rate):
            return
        m.count("needs")
        if self.salesperson is not None:
            self.choice = self.salesperson
            return
        if self.kin >= 0 and not self.refuses(m.salespeople[self.kin]):
            self.choice, self.origin = m.salespeople[self.kin], KIN
            return
        for tie, ring in self.ties:
            sp = tie.salesperson
            if sp is None or not rules.refers(m.seed, m.steps, self.idx, tie.idx, ring, m.P):
                continue
            if self.refuses(sp):
                continue
            tie_trust = tie.relationships[sp.idx].trust(m.steps, m.P)
            if rules.trusted_enough_to_refer(tie_trust, m.P):
                self.choice, self.origin = sp, REFERRAL
                self.referrer_trust, self.referrer_ring = tie_trust, ring
                return
        ok = self.allowed(m.salespeople)  # a cold contact, never one I gave up on
        if ok:
            self.choice = ok[index(m.seed, m.steps, self.idx, 0, D_CHOOSE, len(ok))]

    def meet(self) -> None:
        """Phase 4, first try: an encounter with the chosen salesperson."""
        self.encounter(self.choice, FIRST_TRY)

    def choose_elsewhere(self) -> None:
        """Phase 4, between the rounds (7.14): where to take a need that did not close —
        kin, a tie's referral, or a rival firm's salesperson. After every first try, so
        that a tie's salesperson is the one it has once this step's first tries are over."""
        if not self.look:
            return
        m, s1 = self.model, self.choice
        self.origin, self.referrer_trust, self.referrer_ring = COLD, 0.0, OUTSIDER
        known = self.better_known(s1)
        if known is not None:
            self.elsewhere = known
        elif self.kin >= 0 and self.kin != s1.idx and not self.refuses(m.salespeople[self.kin]):
            self.elsewhere, self.origin = m.salespeople[self.kin], KIN
        else:
            self.elsewhere = self.referred_elsewhere(s1) or self.cold_elsewhere(s1)
        if self.elsewhere is not None:
            m.count("looked_elsewhere")

    def better_known(self, s1: Salesperson) -> Salesperson | None:
        """The salesperson met before whom I trust most, if more than ``s1`` (lowest id
        among equals)."""
        m = self.model
        best, best_trust = None, self.relationships[s1.idx].trust(m.steps, m.P)
        for idx in sorted(self.relationships):
            if idx != s1.idx and not self.relationships[idx].refused:
                trust = self.relationships[idx].trust(m.steps, m.P)
                if trust > best_trust:
                    best, best_trust = m.salespeople[idx], trust
        return best

    def referred_elsewhere(self, s1: Salesperson) -> Salesperson | None:
        m = self.model
        for tie, ring in self.ties:
            sp = tie.salesperson
            if sp is None or sp is s1 or self.refuses(sp):
                continue
            if not rules.refers_elsewhere(m.seed, m.steps, self.idx, tie.idx, ring, m.P):
                continue
            tie_trust = tie.relationships[sp.idx].trust(m.steps, m.P)
            if rules.trusted_enough_to_refer(tie_trust, m.P):
                self.origin, self.referrer_trust, self.referrer_ring = REFERRAL, tie_trust, ring
                return sp
        return None

    def cold_elsewhere(self, s1: Salesperson) -> Salesperson | None:
        m, t = self.model, self.model.steps
        rival = rules.elsewhere_firm(m.seed, t, self.idx, s1.firm.idx, m.n_firms)
        staff = self.allowed(m.staff(rival)) if rival != s1.firm.idx else []
        if staff:
            return staff[rules.elsewhere_pick(m.seed, t, self.idx, rival, len(staff))]
        others = self.allowed(m.salespeople, skip=s1)
        other = rules.other_pick(m.seed, t, self.idx, len(others))
        return others[other] if other >= 0 else None

    def meet_elsewhere(self) -> None:
        """Phase 4, second try (7.14): the need taken elsewhere."""
        self.encounter(self.elsewhere, ELSEWHERE)

    def encounter(self, sp: Salesperson | None, rnd: int) -> None:
        """An encounter through the sales stages, and a trade if it closes."""
        m = self.model
        if sp is None:
            return
        t, P = m.steps, m.P
        if not rules.capacity_accept(m.seed, t, self.idx, sp.idx, sp.demand, sp.available, P):
            m.count("unserved")
            return
        m.count("encounters")
        self.served = self.served or rnd == FIRST_TRY
        if sp.idx not in self.relationships:
            m.count({REFERRAL: "referrals", COLD: "cold_contacts"}.get(self.origin, ""))
        firm = sp.firm
        rel = self.relationship(sp, self.origin, float(self.org[firm.idx]))
        self.aware = True
        gift = rel.gift_at(t, P)
        trust = rules.combined_trust(rel.ti, rel.te, gift, rel.n_trades, P)
        org = float(self.org[firm.idx])
        dtrust = rules.decision_trust(trust, org, self.risk, rel.asym, P)
        stage = rules.sales_stages(m.seed, t, self.idx, sp.idx, dtrust, firm.price, P)
        if stage < CLOSED:
            m.count("stop_" + STAGE_NAMES[stage])
            rel.misses += 1
            if rnd == FIRST_TRY:
                self.look = rules.looks_elsewhere(
                    m.seed, t, self.idx, sp.idx, trust, rel.ring, rel.misses, P
                )
            if rules.gives_up(rel.misses, P):  # for good (7.14)
                rel.refused = True
                if sp is self.salesperson:
                    self.salesperson = None
                self.look = self.look or rnd == FIRST_TRY
                m.count("gave_up")
            m.log(
                EV_ENCOUNTER,
                self,
                sp,
                firm.idx,
                rel,
                stage=stage,
                trust_before=trust,
                trust_after=trust,
                org_trust=org,
                elsewhere=rnd == ELSEWHERE,
            )
            return
        self.trade(sp, firm, rel, gift, trust, org, rnd)

    def trade(
        self,
        sp: Salesperson,
        firm: Firm,
        rel: Relationship,
        gift: float,
        trust: float,
        org: float,
        rnd: int,
    ) -> None:
        """A closed sale: outcome, trust learning or breach, failure response, WOM."""
        m, t, P = self.model, self.model.steps, self.model.P
        c, s = self.idx, sp.idx
        depth = rules.needs_depth(m.seed, t, c, s, rel.ring, sp.empathy, P)
        forced = rules.forced_breach(t, s, P)
        perf, breach, failed = rules.trade_outcome(
            m.seed,
            t,
            c,
            s,
            sp.competence,
            sp.integrity,
            firm.quality,
            firm.consistency,
            firm.failure_rate,
            forced,
            P,
        )
        cost = rules.transaction_cost(trust, rel.asym, P)
        ti0, te0, asym0, ring0, n0 = rel.ti, rel.te, rel.asym, rel.ring, rel.n_trades
        if breach:
            ti, te, gift, scar = rules.breach_loss(ti0, te0, P)
            asym = asym0
        else:
            ti, te, gift, scar, asym = rules.learn(
                ti0,
                te0,
                gift,
                rel.scar,
                asym0,
                perf,
                depth,
                sp.integrity,
                sp.strategy,
                firm.transparency,
                P,
            )
        forgiven = complained = exited = False
        if failed:
            forgiven, complained, exited, ti, te = rules.failure_response(
                m.seed, t, c, s, trust, ti, te, ring0, firm.recovery, P
            )
        rel.ti, rel.te, rel.gift, rel.scar, rel.asym = ti, te, gift, scar, asym
        rel.n_trades, rel.last_step, rel.misses = n0 + 1, t, 0
        after = rel.trust(t, P)
        rel.ring = rules.ring_after(ring0, after, rel.n_trades, breach, P)
        left = breach and not exited
        if left:
            lost = max(trust - after, 0.0)
            left = rules.leaves_after_breach(m.seed, t, c, s, lost, ring0, P)
        self.org[firm.idx] = rules.org_learn(
            org, perf, failed, forgiven, breach, firm.recovery, firm.social, asym0, P
        )
        bad = breach or (failed and not forgiven)
        sat = rules.satisfaction(perf, depth, ti0, P)
        self.wom, self.wom_firm = rules.wom_sign(m.seed, t, c, s, sat, bad, failed, P), firm.idx
        old = self.salesperson
        lost_sp = old if old is not None and old is not sp else None
        self.salesperson = None if exited or left else sp
        gone = rules.leaves_market(m.seed, t, c, self.dropout, P)
        if gone:
            self.in_market, self.salesperson = False, None
            m.log(EV_LEFT_MARKET, self, sp, firm.idx, rel)
        self.cost, self.perf, self.depth, self.repeat = cost, perf, depth, n0 > 0
        self.revenue = rules.trade_revenue(self.basket, firm.price)
        for name, happened in (
            ("trades", True),
            ("trades_elsewhere", rnd == ELSEWHERE),
            ("lost_to_rival", lost_sp is not None),
            ("lost_to_other_firm", lost_sp is not None and lost_sp.firm is not firm),
            ("breach_exits", left),
            ("left_market", gone),
            ("failures", failed),
            ("breaches", breach),
            ("complaints", complained),
            ("forgiven", forgiven),
            ("churned", exited),
            ("wom_positive", self.wom > 0),
            ("wom_negative", self.wom < 0),
        ):
            if happened:
                m.count(name)
        m.log(
            EV_ENCOUNTER,
            self,
            sp,
            firm.idx,
            rel,
            stage=CLOSED,
            ring_before=ring0,
            trust_before=trust,
            trust_after=after,
            ti_before=ti0,
            te_before=te0,
            org_trust=org,
            asym=asym0,
            perf=perf,
            depth=depth,
            cost=cost,
            breach=breach,
            failed=failed,
            forgiven=forgiven,
            complained=complained,
            exited=exited,
            wom=self.wom,
            elsewhere=rnd == ELSEWHERE,
            lost_salesperson=-1 if lost_sp is None else lost_sp.idx,
            breach_exit=left,
        )

    def listen(self) -> None:
        """Phase 5: hear this step's praise and warnings from my ties, weighted by ring."""
        for tie, ring in self.ties:
            if tie.wom != 0:
                f = tie.wom_firm
                self.org[f] = rules.wom_receive(float(self.org[f]), tie.wom, ring, self.model.P)
                self.aware = True
