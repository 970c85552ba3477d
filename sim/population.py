"""Initial attributes of customers, salespeople and firms (ODD 5, Initialization).

Drawn once from the scenario seed with numpy's SeedSequence; both engines start from
the same :class:`World`, so they differ only in how they step.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from trustsim.codes import D_BUYING, D_INIT, NO_SALESPERSON
from trustsim.network import CSR, build_csr, to_graph
from trustsim.params import Scenario

if TYPE_CHECKING:
    import networkx as nx


@dataclass
class World:
    """Everything fixed at initialization; arrays are indexed by agent id."""

    csr: CSR
    # customers
    propensity: np.ndarray
    risk: np.ndarray
    kin_salesperson: np.ndarray
    purchase_rate: np.ndarray  # chance to need to buy in a week
    basket: np.ndarray  # value of a trade at relative price 1
    dropout: np.ndarray  # chance to leave the market after a purchase
    # salespeople
    sp_firm: np.ndarray
    competence: np.ndarray
    integrity: np.ndarray
    empathy: np.ndarray
    strategy: np.ndarray  # instrumental share of the mix: 1 = gifts/favours, 0 = emotional
    capacity: np.ndarray
    # firms
    quality: np.ndarray
    failure_rate: np.ndarray
    recovery: np.ndarray
    transparency: np.ndarray
    consistency: np.ndarray
    price: np.ndarray
    social: np.ndarray

    @cached_property
    def graph(self) -> nx.Graph:
        """The tie network as a networkx graph, made on first use (the engines read ``csr``)."""
        return to_graph(self.csr)

    @property
    def n_customers(self) -> int:
        return len(self.propensity)

    @property
    def n_salespeople(self) -> int:
        return len(self.sp_firm)

    @property
    def n_firms(self) -> int:
        return len(self.quality)


def _around(
    rng: np.random.Generator, mean: float, spread: float, n: int, lo: float = 0.0, hi: float = 1.0
) -> np.ndarray:
    """Uniform draws in [mean - spread, mean + spread], clipped to [lo, hi]."""
    return np.clip(rng.uniform(mean - spread, mean + spread, n), lo, hi)


def buying_habits(
    scenario: Scenario, seed: int, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each customer's weekly purchase propensity, basket value and chance to leave the
    market after a purchase (ODD 5, 7.17, 7.18).

    Drawn from their own stream (seed, D_INIT, D_BUYING), so that turning the mechanisms on
    leaves every other initial draw as it was. Propensity ~ Beta(r, r (1 - m) / m), mean
    m = population.purchase_rate: for small m the beta is the gamma of the NBD (shape r),
    bounded by one purchase a week. Basket ~ Gamma(k, mean / k). Dropout ~ Beta(a, b).
    Mechanisms off: everyone at the mean, nobody leaves.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, D_INIT, D_BUYING]))
    m, mean = scenario.population.purchase_rate, scenario.buying.basket_mean
    rate, basket, dropout = np.full(n, m), np.full(n, mean), np.zeros(n)
    if scenario.mechanisms.purchase_heterogeneity:
        r, k = scenario.buying.rate_shape, scenario.buying.basket_shape
        if 0.0 < m < 1.0:
            rate = rng.beta(r, r * (1.0 - m) / m, n)
        basket = rng.gamma(k, mean / k, n)
    if scenario.mechanisms.leave_market:
        dropout = rng.beta(scenario.buying.dropout_a, scenario.buying.dropout_b, n)
    return rate, basket, dropout


def build_world(scenario: Scenario, seed: int) -> World:
    """Draw the initial world for ``seed`` (the network included)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, D_INIT]))
    pop, sp, fm = scenario.population, scenario.salespeople, scenario.firms
    nc, ns, nf = pop.n_customers, pop.n_salespeople, pop.n_firms
    csr = build_csr(scenario, rng)
    has_kin = rng.random(nc) < pop.kin_share
    kin = np.where(has_kin, rng.integers(0, ns, nc), NO_SALESPERSON).astype(np.int64)
    instrumental = np.zeros(ns, dtype=bool)
    instrumental[rng.permutation(ns)[: round(sp.instrumental_share * ns)]] = True
    purity = sp.strategy_purity
    hf = fm.heterogeneity
    rate, basket, dropout = buying_habits(scenario, seed, nc)
    return World(
        csr=csr,
        propensity=_around(rng, pop.propensity_mean, pop.propensity_spread, nc),
        risk=_around(rng, pop.risk_mean, pop.risk_spread, nc),
        kin_salesperson=kin,
        purchase_rate=rate,
        basket=basket,
        dropout=dropout,
        sp_firm=np.arange(ns, dtype=np.int64) % nf,
        competence=_around(rng, sp.competence, sp.heterogeneity, ns),
        integrity=_around(rng, sp.integrity, sp.heterogeneity, ns),
        empathy=_around(rng, sp.empathy, sp.heterogeneity, ns),
        strategy=np.where(instrumental, purity, 1.0 - purity),
        capacity=np.full(ns, sp.capacity, dtype=np.int64),
        quality=_around(rng, fm.quality, hf, nf),
        failure_rate=_around(rng, fm.failure_rate, hf * fm.failure_rate, nf),
        recovery=_around(rng, fm.recovery, hf, nf),
        transparency=_around(rng, fm.transparency, hf, nf),
        consistency=_around(rng, fm.consistency, hf, nf),
        price=_around(rng, fm.price, hf, nf, 0.5, 2.0),
        social=_around(rng, fm.social_responsibility, hf, nf),
    )
