"""The 差序格局 tie network among customers, built once from the seed (ODD 5).

Families are cliques of ``household_size``; insider ties are a Watts-Strogatz small
world; outsider ties are sparse random acquaintances. Each edge carries its ring. The
fast core reads a CSR copy whose neighbour lists are sorted by id, and the Mesa engine
walks the same order, so sums over ties agree to the last bit.
"""

from dataclasses import dataclass

import networkx as nx
import numpy as np

from .codes import FAMILY, INSIDER, OUTSIDER
from .params import Scenario


@dataclass(frozen=True)
class CSR:
    """Ties in compressed sparse rows: neighbours of c are indices[indptr[c]:indptr[c+1]]."""

    indptr: np.ndarray
    indices: np.ndarray
    ring: np.ndarray


def build_graph(scenario: Scenario, rng: np.random.Generator) -> nx.Graph:
    """Customers as nodes 0..n-1, each edge with attribute ``ring``."""
    n = scenario.population.n_customers
    net = scenario.network
    g = nx.empty_graph(n)
    order = rng.permutation(n)
    size = max(1, net.household_size)
    for start in range(0, n, size):
        members = sorted(int(x) for x in order[start : start + size])
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                g.add_edge(a, b, ring=FAMILY)
    k = min(net.insider_degree - net.insider_degree % 2, n - 1 - (n - 1) % 2)
    if k >= 2:
        # a lattice over its own permutation: over the family order, most lattice
        # neighbours would already be family and insiders would fall short of the degree
        lattice_order = rng.permutation(n)
        small_world = nx.watts_strogatz_graph(n, k, net.rewire, seed=int(rng.integers(2**31)))
        for i, j in small_world.edges():
            a, b = int(lattice_order[i]), int(lattice_order[j])
            if not g.has_edge(a, b):
                g.add_edge(a, b, ring=INSIDER)
    m = round(n * net.outsider_degree / 2)
    if m > 0:
        for a, b in nx.gnm_random_graph(n, m, seed=int(rng.integers(2**31))).edges():
            if not g.has_edge(a, b):
                g.add_edge(int(a), int(b), ring=OUTSIDER)
    return g


def to_csr(g: nx.Graph) -> CSR:
    """CSR arrays with neighbour lists sorted by id."""
    n = g.number_of_nodes()
    indptr = np.zeros(n + 1, dtype=np.int64)
    indices, rings = [], []
    for c in range(n):
        nbrs = sorted(g.adj[c].items())
        indices.extend(j for j, _ in nbrs)
        rings.extend(d["ring"] for _, d in nbrs)
        indptr[c + 1] = len(indices)
    return CSR(indptr, np.asarray(indices, dtype=np.int64), np.asarray(rings, dtype=np.int64))
