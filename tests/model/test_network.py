"""The tie network's structure (ODD 5.1) on several sizes: family cliques, the insider
small world, outsider density, rings on edges, and a CSR the core can trust (sorted rows,
symmetric, no self-loops or duplicate ties)."""

import networkx as nx
import numpy as np
import pytest

from trustsim.codes import FAMILY, INSIDER, OUTSIDER
from trustsim.loader import load_scenario
from trustsim.network import (
    CSR,
    build_csr,
    insider_degree,
    random_keys,
    small_world_keys,
    to_csr,
    to_graph,
)
from trustsim.population import build_world

SIZES = [2, 3, 7, 100, 1_000, 20_000]


def network(n: int, *overrides: str, seed: int = 1) -> tuple[object, CSR]:
    sc = load_scenario("baseline", [f"population.n_customers={n}", *overrides])
    return sc, build_csr(sc, np.random.default_rng(seed))


def rows(csr: CSR) -> np.ndarray:
    return np.repeat(np.arange(csr.n_nodes), np.diff(csr.indptr))


def layer(csr: CSR, ring: int) -> nx.Graph:
    g = nx.empty_graph(csr.n_nodes)
    r = rows(csr)
    on = (csr.ring == ring) & (r < csr.indices)
    g.add_edges_from(zip(r[on].tolist(), csr.indices[on].tolist()))
    return g


def assert_valid_csr(csr: CSR, n: int) -> None:
    assert csr.indptr.shape == (n + 1,) and csr.indptr[0] == 0
    assert csr.indptr[-1] == len(csr.indices) == len(csr.ring)
    assert (np.diff(csr.indptr) >= 0).all()
    r = rows(csr)
    assert ((csr.indices >= 0) & (csr.indices < n)).all()
    assert (csr.indices != r).all(), "self-loop"
    # rows strictly increasing: sorted, and no duplicate tie
    same_row = r[1:] == r[:-1]
    assert (csr.indices[1:][same_row] > csr.indices[:-1][same_row]).all()
    assert set(np.unique(csr.ring).tolist()) <= {FAMILY, INSIDER, OUTSIDER}
    # symmetric, with the same ring seen from both ends
    there = {(a, b): k for a, b, k in zip(r.tolist(), csr.indices.tolist(), csr.ring.tolist())}
    assert all(there.get((b, a)) == k for (a, b), k in there.items())


@pytest.mark.parametrize("n", SIZES)
def test_csr_is_sorted_symmetric_and_simple(n):
    _, csr = network(n)
    assert_valid_csr(csr, n)


@pytest.mark.parametrize("n", [1_000, 20_000])
@pytest.mark.parametrize("size", [1, 4, 7])
def test_families_are_disjoint_cliques_of_household_size(n, size):
    _, csr = network(n, f"network.household_size={size}")
    g = layer(csr, FAMILY)
    sizes = sorted(len(c) for c in nx.connected_components(g))
    for comp in nx.connected_components(g):
        k = len(comp)
        assert g.subgraph(comp).number_of_edges() == k * (k - 1) // 2
    assert sizes.count(size) == n // size  # all families full but the last
    assert sum(sizes) == n


@pytest.mark.parametrize("n", [100, 1_000, 20_000])
@pytest.mark.parametrize("k", [2, 6, 10])
def test_insider_degree_close_to_the_parameter(n, k):
    _, csr = network(n, f"network.insider_degree={k}")
    per_customer = (csr.ring == INSIDER).sum() / n
    # lattice ties that coincide with family ties stay family: a little below k
    assert 0.85 * k < per_customer <= k


@pytest.mark.parametrize("n", [7, 200, 5_000])
def test_pure_lattice_gives_every_customer_exactly_k_ties(n):
    k = insider_degree(n, 6)
    keys = small_world_keys(n, k, 0.0, np.random.default_rng(3))
    assert len(keys) == len(np.unique(keys)) == n * k // 2
    ends = np.concatenate([keys // n, keys % n])
    assert (np.bincount(ends, minlength=n) == k).all()


@pytest.mark.parametrize("p", [0.1, 1.0])
def test_rewiring_keeps_the_tie_count_and_matches_networkx_clustering(p):
    n, k = 3_000, 6
    keys = small_world_keys(n, k, p, np.random.default_rng(4))
    assert len(np.unique(keys)) == len(keys) == n * k // 2
    assert ((keys // n) != (keys % n)).all()
    ours = nx.Graph(list(zip((keys // n).tolist(), (keys % n).tolist())))
    theirs = nx.watts_strogatz_graph(n, k, p, seed=4)
    # same distribution: the clustering coefficient, which rewiring destroys, agrees
    assert nx.average_clustering(ours) == pytest.approx(nx.average_clustering(theirs), abs=0.03)


@pytest.mark.parametrize("n", [100, 1_000, 20_000])
def test_outsider_density(n):
    sc, csr = network(n)
    m = round(n * sc.network.outsider_degree / 2)
    outsiders = (csr.ring == OUTSIDER).sum() // 2
    # G(n, m) ties that land on family or insider pairs stay in the inner ring
    inner_share = 13 / (n - 1)
    assert m * (1 - 3 * inner_share) - 5 <= outsiders <= m


def test_random_graph_has_exactly_m_distinct_pairs_sparse_and_dense():
    for n, m in ((10_000, 20_000), (40, 700), (20, 10_000)):
        keys = random_keys(n, m, np.random.default_rng(5))
        assert len(keys) == len(np.unique(keys)) == min(m, n * (n - 1) // 2)
        assert ((keys // n) < (keys % n)).all()


def test_random_graph_is_uniform_over_pairs():
    n = 30
    hits = np.zeros(n * n, dtype=np.int64)
    for seed in range(400):
        hits[random_keys(n, 50, np.random.default_rng(seed))] += 1
    pairs = hits[[a * n + b for a in range(n) for b in range(a + 1, n)]]
    expected = 400 * 50 / len(pairs)  # about 46 per pair
    assert abs(pairs.mean() - expected) < 1e-9
    assert pairs.min() > expected / 2 and pairs.max() < expected * 1.6


def test_rings_on_edges_innermost_wins():
    # household of everyone: every insider and outsider draw lands on a family pair
    _, csr = network(20, "network.household_size=20")
    assert (csr.ring == FAMILY).all() and len(csr.indices) == 20 * 19


def test_graph_round_trip_and_world_graph():
    sc, csr = network(500)
    g = to_graph(csr)
    assert g.number_of_edges() == csr.n_edges
    back = to_csr(g)
    for field in ("indptr", "indices", "ring"):
        assert np.array_equal(getattr(back, field), getattr(csr, field))
    world = build_world(sc, 1)
    assert world.graph is world.graph  # made once, on first use
    assert world.graph.number_of_edges() == world.csr.n_edges


def test_tiny_and_degenerate_networks():
    _, csr = network(2, "network.household_size=1", "network.outsider_degree=0")
    assert len(csr.indices) == 0 and csr.indptr.tolist() == [0, 0, 0]
    _, csr = network(50, "network.outsider_degree=200")  # more than every pair: complete
    assert len(csr.indices) == 50 * 49
