"""The readable Mesa engine: ``TrustModel`` wires agents, schedule and DataCollector.

The schedule (docs/ODD.md §3) is five phases per step; in each, agents act in shuffled
order and write only their own state. Metrics come from :func:`trustsim.measure.summarize`,
the same function the fast core calls.
"""

from __future__ import annotations

from collections import Counter
from functools import cached_property
from typing import TYPE_CHECKING

import mesa
import numpy as np

from trustsim import rules
from trustsim.codes import NO_SALESPERSON, OUTSIDER
from trustsim.jit import compile_notice
from trustsim.loader import model_settings
from trustsim.measure import Census, summarize
from trustsim.mesa_model.agents import Customer, Firm, Relationship, Salesperson
from trustsim.metrics import COUNTERS, LOG_COLUMNS, LOG_DEFAULTS, MEANS
from trustsim.params import Scenario, param_record
from trustsim.population import World, build_world
from trustsim.rng import seed_from

if TYPE_CHECKING:
    import networkx as nx


class TrustModel(mesa.Model):
    """Customers, salespeople and firms in a 差序格局 tie network.

    Agents: ``model.customers``, ``model.salespeople``, ``model.firms`` (lists by index;
    each agent's ``idx`` is its index, ``unique_id`` Mesa's id). The tie network is
    :attr:`ties`. ``model.params`` holds the settings (a :class:`trustsim.Scenario`);
    ``model.scenario`` is Mesa's own.
    """

    def __init__(
        self,
        params: Scenario | None = None,
        seed: int | None = None,
        world: World | None = None,
        *,
        rng: int | np.random.Generator | None = None,
        scenario: object = None,
        **keywords: object,
    ):
        """A model of ``params`` (default: the schema's defaults), with any parameter
        changed by keyword: ``TrustModel(n_customers=200, ring_gradient=0.9, rng=3)``.

        Keywords are the parameters' names where a name is unique, ``section__name``
        otherwise (``mechanisms__ring_gradient=False``); ``trustsim params`` lists them,
        and the schema checks them with the same one-line errors as a scenario file.
        ``rng`` (or ``seed``, as in Mesa) is the master seed: a whole number or a numpy
        Generator; without one the run uses run.seed, so it is reproducible. ``scenario``
        is Mesa's (SolaraViz passes one on Reset); its ``rng`` is used when given.
        ``run_model()`` runs run.steps steps (``running`` turns false after the last).
        ``world`` is a prebuilt :class:`trustsim.population.World` for these settings.
        """
        self.params = model_settings(params, scenario, keywords, type(self).__name__)
        rng = getattr(scenario, "rng", None) if rng is None and seed is None else rng
        self.seed = seed_from(seed, rng, self.params.run.seed, type(self).__name__)
        compile_notice()  # the first run in a new environment compiles for a minute
        super().__init__(rng=self.seed)
        self.P = param_record(self.params)
        self.world = world or build_world(self.params, self.seed)
        self.history = self.params.run.history
        self.firms = [Firm(self, f) for f in range(self.world.n_firms)]
        self.salespeople = [
            Salesperson(self, s, self.firms[int(f)]) for s, f in enumerate(self.world.sp_firm)
        ]
        self.customers = [Customer(self, c) for c in range(self.world.n_customers)]
        csr = self.world.csr
        for c, cust in enumerate(self.customers):
            lo, hi = csr.indptr[c], csr.indptr[c + 1]
            cust.ties = [
                (self.customers[j], int(r)) for j, r in zip(csr.indices[lo:hi], csr.ring[lo:hi])
            ]
        self.counts: Counter[str] = Counter()
        self.events: list[tuple] = []
        self.metrics: dict[str, float] = self.summarize()  # step 0: the starting state
        self.datacollector = mesa.DataCollector(
            model_reporters={"step": "steps"} | {n: _reporter(n) for n in COUNTERS + MEANS},
            agenttype_reporters={Customer: CUSTOMER_REPORTERS},
        )
        self.datacollector.collect(self)

    @cached_property
    def ties(self) -> nx.Graph:
        """The tie network: a node per customer keyed by its ``unique_id``, with node
        attributes ``agent`` (the :class:`Customer`) and ``idx``; edge attribute ``ring``
        (0 family, 1 insider, 2 outsider; trustsim.codes). Made on first use; the
        engines read ``world.csr``, and ``world.graph`` is the same keyed by ``idx``."""
        import networkx as nx

        keys = {c.idx: c.unique_id for c in self.customers}
        graph = nx.relabel_nodes(self.world.graph, keys, copy=True)
        nx.set_node_attributes(graph, {c.unique_id: c for c in self.customers}, "agent")
        nx.set_node_attributes(graph, {c.unique_id: c.idx for c in self.customers}, "idx")
        return graph

    # ------------------------------------------------------------ helpers for agents
    @property
    def n_firms(self) -> int:
        return len(self.firms)

    @property
    def n_salespeople(self) -> int:
        return len(self.salespeople)

    def count(self, name: str) -> None:
        if name:
            self.counts[name] += 1

    def staff(self, firm: int) -> list[Salesperson]:
        """Salespeople now at ``firm``, by id."""
        return [sp for sp in self.salespeople if sp.firm.idx == firm]

    def turnover_destination(self, s: int, firm: int) -> int:
        if rules.moves(self.seed, self.steps, s, self.P):
            return rules.rival_firm(self.seed, self.steps, s, 1, firm, self.n_firms)
        return firm

    def log(
        self, kind: int, cust: Customer, sp: Salesperson, firm: int, rel: Relationship, **fields
    ) -> None:
        """Append one row of the relationship event log (only when run.history is on): the
        relationship ``rel`` as it is, LOG_SCHEMA's defaults, and the event's ``fields``."""
        if not self.history:
            return
        row = dict(
            step=self.steps,
            kind=kind,
            customer=cust.idx,
            salesperson=sp.idx,
            firm=firm,
            origin=rel.origin,
            ring_before=rel.ring,
            ring_after=rel.ring,
            n_trades=rel.n_trades,
            ti_before=rel.ti,
            te_before=rel.te,
            ti_after=rel.ti,
            te_after=rel.te,
            gift=rel.gift,
            asym=rel.asym,
            misses=rel.misses,
            **LOG_DEFAULTS,
        )
        row.update(fields)
        self.events.append(tuple(float(row[c]) for c in LOG_COLUMNS))

    # ------------------------------------------------------------ the schedule
    def step(self) -> None:
        self.counts = Counter()
        customers = self.agents_by_type[Customer]
        self.counts["with_salesperson_start"] = sum(
            c.salesperson is not None for c in self.customers
        )
        customers.do("begin_step")
        self.agents_by_type[Salesperson].shuffle_do("consider_moving")
        customers.shuffle_do("meet_successor")
        customers.shuffle_do("react_to_moves")
        customers.shuffle_do("consider_offer")
        customers.shuffle_do("choose_salesperson")
        self.open_round([c.choice for c in self.customers], Counter())
        customers.shuffle_do("meet")
        customers.shuffle_do("choose_elsewhere")
        served = Counter(c.choice.idx for c in self.customers if c.served)
        self.open_round([c.elsewhere for c in self.customers], served)
        customers.shuffle_do("meet_elsewhere")
        customers.shuffle_do("listen")
        self.metrics = self.summarize()
        self.datacollector.collect(self)
        self.running = self.steps < self.params.run.steps  # so run_model() ends

    def open_round(self, wanted: list[Salesperson | None], served: Counter[int]) -> None:
        """Requests per salesperson for a round of encounters, and the capacity left after
        the ``served`` encounters of the round before (capacity rationing, 7.3)."""
        demand = Counter(sp.idx for sp in wanted if sp is not None)
        for sp in self.salespeople:
            sp.demand = demand[sp.idx]
            sp.available = max(sp.capacity - served[sp.idx], 0)

    def summarize(self) -> dict[str, float]:
        """Per-customer arrays in id order -> the shared summary."""
        n, t, P = len(self.customers), self.steps, self.P
        start_sp = np.array(
            [_idx(cust.start_salesperson) for cust in self.customers], dtype=np.int64
        )
        end_sp = np.array([_idx(cust.salesperson) for cust in self.customers], dtype=np.int64)
        trust, ti, te, asym, porg = (np.full(n, np.nan) for _ in range(5))
        ring = np.full(n, OUTSIDER, dtype=np.int64)
        for c, cust in enumerate(self.customers):
            sp = cust.salesperson
            if sp is None:
                continue
            rel = cust.relationships[sp.idx]
            gift = rel.gift_at(t, P)
            trust[c] = rules.combined_trust(rel.ti, rel.te, gift, rel.n_trades, P)
            ti[c] = rules.instrumental_now(rel.ti, gift, P)
            te[c], ring[c], asym[c] = rel.te, rel.ring, rel.asym
            porg[c] = cust.org[sp.firm.idx]
        counts = np.array([self.counts[k] for k in COUNTERS], dtype=np.int64)
        census = Census(
            start_sp=start_sp,
            end_sp=end_sp,
            trust=trust,
            ti=ti,
            te=te,
            ring=ring,
            asym=asym,
            porg=porg,
            org=np.array([cust.org for cust in self.customers]),
            cost=np.array([cust.cost for cust in self.customers]),
            perf=np.array([cust.perf for cust in self.customers]),
            depth=np.array([cust.depth for cust in self.customers], dtype=np.int64),
            repeat=np.array([cust.repeat for cust in self.customers], dtype=np.bool_),
            wom=np.array([cust.wom for cust in self.customers], dtype=np.int64),
            aware=np.array([cust.aware for cust in self.customers], dtype=np.bool_),
            revenue=np.array([cust.revenue for cust in self.customers]),
        )
        self.census = census  # the agent reporters read it
        means = summarize(self.seed, t, counts, census, P)
        out: dict[str, float] = {k: int(v) for k, v in zip(COUNTERS, counts)}
        out.update(zip(MEANS, means.tolist()))
        return out


def _idx(sp: Salesperson | None) -> int:
    return NO_SALESPERSON if sp is None else sp.idx


def _reporter(name: str):
    return lambda m: m.metrics[name]


# Each customer's state as the step's summary saw it (NaN / ring 2 without a salesperson).
CUSTOMER_REPORTERS = {
    "salesperson": lambda c: int(c.model.census.end_sp[c.idx]),
    "trust": lambda c: float(c.model.census.trust[c.idx]),
    "ring": lambda c: int(c.model.census.ring[c.idx]),
}
