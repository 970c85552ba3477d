"""The 差序格局 tie network among customers, built once from the seed (ODD 5).

Families are cliques of ``household_size``; insider ties are a Watts-Strogatz small
world; outsider ties are sparse random acquaintances (a uniform G(n, m)). Each edge
carries its ring. Everything is built as arrays of edges (numpy, one numba pass to fill
the rows), never edge by edge in Python: a million customers take seconds, not minutes.
The fast core reads the CSR, whose neighbour lists are sorted by id, and the Mesa engine
walks the same order, so sums over ties agree to the last bit. A networkx graph is made
only when someone asks for one (:func:`to_graph`, e.g. the classroom's network view).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from trustsim.codes import FAMILY, INSIDER, OUTSIDER
from trustsim.params import Scenario

if TYPE_CHECKING:
    import networkx as nx

# Rounds of redrawing a rewired insider end that hit an existing tie; at realistic sizes
# one or two suffice, and only a customer tied to nearly everyone can exhaust them.
REWIRE_ROUNDS = 64


@dataclass(frozen=True)
class CSR:
    """Ties in compressed sparse rows: neighbours of c are indices[indptr[c]:indptr[c+1]]."""

    indptr: np.ndarray
    indices: np.ndarray
    ring: np.ndarray

    @property
    def n_nodes(self) -> int:
        return len(self.indptr) - 1

    @property
    def n_edges(self) -> int:
        """Undirected ties (each is stored from both ends)."""
        return len(self.indices) // 2


# ----------------------------------------------------------------------------- edge lists


def _pair_keys(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """One int64 per undirected pair: min * n + max (n <= 5e6 keeps it below 2**63)."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return lo.astype(np.int64) * n + hi


def family_keys(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Cliques over consecutive blocks of ``size`` in a random permutation (last smaller)."""
    order = rng.permutation(n).astype(np.int64)
    size = max(1, size)
    if size == 1 or n < 2:
        return np.empty(0, dtype=np.int64)
    i, j = np.triu_indices(size, 1)
    full = n // size
    blocks = order[: full * size].reshape(full, size)
    keys = [_pair_keys(blocks[:, i], blocks[:, j], n).ravel()]
    rest = order[full * size :]
    if len(rest) > 1:
        i, j = np.triu_indices(len(rest), 1)
        keys.append(_pair_keys(rest[i], rest[j], n))
    return np.concatenate(keys)


def insider_degree(n: int, wanted: int) -> int:
    """The Watts-Strogatz lattice degree: ``wanted`` and n - 1 rounded down to even."""
    return min(wanted - wanted % 2, n - 1 - (n - 1) % 2)


def small_world_keys(n: int, k: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Watts-Strogatz (1998) over a random permutation of the customers.

    A ring lattice joins each lattice position u to u+1 .. u+k/2; each lattice edge is,
    with probability p, rewired: its far end is redrawn uniformly among customers that are
    neither u nor already tied to u (as networkx does; redrawn in rounds, all at once).
    """
    if k < 2:
        return np.empty(0, dtype=np.int64)
    perm = rng.permutation(n).astype(np.int64)
    u = np.tile(np.arange(n, dtype=np.int64), k // 2)
    v = (u + np.repeat(np.arange(1, k // 2 + 1, dtype=np.int64), n)) % n
    rewire = rng.random(len(u)) < p
    kept = np.sort(_pair_keys(perm[u[~rewire]], perm[v[~rewire]], n))
    src, old = perm[u[rewire]], perm[v[rewire]]
    taken, accepted = kept, []
    for _ in range(REWIRE_ROUNDS):
        if len(src) == 0:
            break
        w = rng.integers(0, n, len(src))
        key = _pair_keys(src, w, n)
        ok = (w != src) & (w != old) & ~_member(taken, key)
        ok[ok] = _first_of_each(key[ok])  # of several equal new ties, one wins
        new = np.sort(key[ok])
        taken = np.insert(taken, np.searchsorted(taken, new), new)
        accepted.append(new)
        src, old = src[~ok], old[~ok]
    # a customer already tied to (nearly) everyone keeps its lattice edge, as in networkx
    accepted.append(_pair_keys(src, old, n))
    return np.concatenate([kept, *accepted])


def _member(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Which ``keys`` occur in the sorted array ``sorted_keys``."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[pos] == keys


def _first_of_each(keys: np.ndarray) -> np.ndarray:
    """True at the first occurrence of each value (np.unique is slow on large arrays)."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    first = np.ones(len(keys), dtype=bool)
    first[order[1:]] = ordered[1:] != ordered[:-1]
    return first


def _distinct_sorted(keys: np.ndarray) -> np.ndarray:
    keys = np.sort(keys)
    keep = np.ones(len(keys), dtype=bool)
    keep[1:] = keys[1:] != keys[:-1]
    return keys[keep]


def random_keys(n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """A uniform random set of ``m`` distinct pairs (Erdős-Rényi G(n, m); all if m is more)."""
    pairs = n * (n - 1) // 2
    m = min(m, pairs)
    if m <= 0:
        return np.empty(0, dtype=np.int64)
    if 4 * m > pairs:  # dense: choose pair indices outright, then decode them
        return _decode_pairs(rng.choice(pairs, m, replace=False), n)
    keys = np.empty(0, dtype=np.int64)
    while len(keys) < m:  # draw the deficit until m distinct pairs (exchangeable: uniform)
        need = m - len(keys)
        a, b = rng.integers(0, n, need), rng.integers(0, n, need)
        new = _distinct_sorted(_pair_keys(a[a != b], b[a != b], n))
        new = new[~_member(keys, new)]  # at most `need` new pairs: never more than m
        keys = np.insert(keys, np.searchsorted(keys, new), new)
    return keys


def _decode_pairs(index: np.ndarray, n: int) -> np.ndarray:
    """Pair keys from indices 0 .. n(n-1)/2 - 1 that enumerate pairs (a < b) row by row."""
    index = np.sort(index.astype(np.int64))
    starts = np.cumsum(np.arange(n - 1, 0, -1, dtype=np.int64)) - np.arange(
        n - 1, 0, -1, dtype=np.int64
    )
    a = np.searchsorted(starts, index, side="right") - 1
    b = a + 1 + (index - starts[a])
    return a * n + b


# ----------------------------------------------------------------------------- the CSR


@njit(cache=True)
def _fill_rows(lo, hi, ring, n):
    """Both ends of each undirected tie, sorted (lo, hi) pairs in: rows come out sorted.

    Row x receives its partners below x while the pass is in earlier rows' blocks (in
    increasing order), and its partners above x in its own block (again increasing).
    """
    indptr = np.zeros(n + 1, dtype=np.int64)
    for e in range(lo.shape[0]):
        indptr[lo[e] + 1] += 1
        indptr[hi[e] + 1] += 1
    for c in range(n):
        indptr[c + 1] += indptr[c]
    fill = indptr[:-1].copy()
    indices = np.empty(2 * lo.shape[0], dtype=np.int64)
    rings = np.empty(2 * lo.shape[0], dtype=np.int64)
    for e in range(lo.shape[0]):
        a, b = lo[e], hi[e]
        indices[fill[a]] = b
        rings[fill[a]] = ring[e]
        fill[a] += 1
        indices[fill[b]] = a
        rings[fill[b]] = ring[e]
        fill[b] += 1
    return indptr, indices, rings


def csr_from_keys(n: int, layers: list[tuple[np.ndarray, int]]) -> CSR:
    """The CSR of edge layers (pair keys, ring), innermost first: where layers share a
    pair, the innermost ring wins (a family member who is also a lattice neighbour stays
    family)."""
    packed = np.concatenate(
        [keys * 4 + ring for keys, ring in layers] or [np.empty(0, dtype=np.int64)]
    )
    packed.sort()
    pair = packed >> 2
    first = np.ones(len(packed), dtype=bool)
    first[1:] = pair[1:] != pair[:-1]
    pair, ring = pair[first], packed[first] & 3
    indptr, indices, rings = _fill_rows(pair // n, pair % n, ring, n)
    return CSR(indptr, indices, rings)


def build_csr(scenario: Scenario, rng: np.random.Generator) -> CSR:
    """The tie network of ``scenario`` for the customers 0..n-1, drawn from ``rng``."""
    n = scenario.population.n_customers
    net = scenario.network
    family = family_keys(n, net.household_size, rng)
    insiders = small_world_keys(n, insider_degree(n, net.insider_degree), net.rewire, rng)
    outsiders = random_keys(n, round(n * net.outsider_degree / 2), rng)
    return csr_from_keys(n, [(family, FAMILY), (insiders, INSIDER), (outsiders, OUTSIDER)])


# ----------------------------------------------------------------------------- graphs


def to_graph(csr: CSR) -> nx.Graph:
    """The ties as a networkx graph (nodes 0..n-1, edge attribute ``ring``), for users."""
    import networkx as nx

    g = nx.empty_graph(csr.n_nodes)
    rows = np.repeat(np.arange(csr.n_nodes), np.diff(csr.indptr))
    upper = rows < csr.indices
    g.add_edges_from(
        (int(a), int(b), {"ring": int(r)})
        for a, b, r in zip(rows[upper], csr.indices[upper], csr.ring[upper])
    )
    return g


def build_graph(scenario: Scenario, rng: np.random.Generator) -> nx.Graph:
    """The tie network as a networkx graph (the same ties :func:`build_csr` draws)."""
    return to_graph(build_csr(scenario, rng))


def to_csr(g: nx.Graph) -> CSR:
    """CSR arrays of a graph with nodes 0..n-1 and an edge attribute ``ring``."""
    n = g.number_of_nodes()
    edges = np.array([(a, b, r) for a, b, r in g.edges(data="ring")], dtype=np.int64)
    edges = edges.reshape(-1, 3)
    rings = np.unique(edges[:, 2])
    keys = _pair_keys(edges[:, 0], edges[:, 1], n)
    return csr_from_keys(n, [(keys[edges[:, 2] == r], int(r)) for r in rings])
