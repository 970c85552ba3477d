"""The ring view: one customer's 差序格局 drawn as concentric rings, and the network view.

The customer sits at the centre; family, insiders and outsiders are bands around it.
Each salesperson the customer knows is a dot in the band of its ring, nearer the inner
edge the more the customer trusts it, so trades pull it inward and a breach throws it
out. Its colour mixes blue (trust carried by ability, instrumental) and red (carried by
character, emotional), weighted as the model weighs them at the relationship's age.
Geometry (:func:`salesperson_dots`) is kept apart from drawing so that it can be tested.
"""

from __future__ import annotations

import math
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
from matplotlib import font_manager, rcParams
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Patch

from trustsim import rules
from trustsim.classroom.text import ring_label, text
from trustsim.codes import FAMILY, INSIDER, OUTSIDER

if TYPE_CHECKING:
    from trustsim.mesa_model.model import TrustModel

# Band edges (radius): self inside 0.5, family 0.5-1.5, insiders 1.5-2.5, outsiders 2.5-3.5.
EDGES = (0.5, 1.5, 2.5, 3.5)
BAND_FILL = {FAMILY: "#fdd9b5", INSIDER: "#d3ecd0", OUTSIDER: "#efefef"}
RING_COLOUR = {FAMILY: "#e6550d", INSIDER: "#31a354", OUTSIDER: "#8c8c8c"}
NO_SP_COLOUR = "#ffffff"
INSTRUMENTAL, EMOTIONAL = "#1f6fb4", "#d62728"
MIX = LinearSegmentedColormap.from_list("instrumental_emotional", [INSTRUMENTAL, EMOTIONAL])
GOLDEN = math.pi * (3 - math.sqrt(5))


@dataclass(frozen=True)
class Dot:
    """A salesperson as the customer sees it."""

    salesperson: int
    ring: int
    trust: float
    emotional_share: float  # share of trust carried by character (0 all ability, 1 all character)
    n_trades: int
    current: bool
    x: float
    y: float

    @property
    def radius(self) -> float:
        return math.hypot(self.x, self.y)


def band_radius(ring: int, trust: float) -> float:
    """Radius in the band of ``ring``: full trust at its inner edge, none at its outer edge."""
    inner, outer = EDGES[ring], EDGES[ring + 1]
    margin = 0.08 * (outer - inner)
    trust = min(1.0, max(0.0, trust))
    return outer - margin - (outer - inner - 2 * margin) * trust


def angle_of(s: int, n: int) -> float:
    """Each salesperson keeps one direction, so its dot only moves in and out."""
    return math.pi / 2 - 2 * math.pi * (s + 0.5) / max(n, 1)


def salesperson_dots(model: TrustModel, c: int) -> list[Dot]:
    """Every salesperson customer ``c`` has met, placed by ring and trust."""
    cust, P, t = model.customers[c], model.P, model.steps
    current = cust.salesperson.idx if cust.salesperson is not None else -1
    n = len(model.salespeople)
    dots = []
    for s, rel in sorted(cust.relationships.items()):
        w = rules.ability_weight(rel.n_trades, P)
        ability = w * rules.instrumental_now(rel.ti, rel.gift_at(t, P), P)
        character = (1.0 - w) * rel.te
        trust = ability + character
        share = character / trust if trust > 0 else 0.5
        r, a = band_radius(rel.ring, trust), angle_of(s, n)
        dots.append(
            Dot(
                s,
                rel.ring,
                trust,
                share,
                rel.n_trades,
                s == current,
                r * math.cos(a),
                r * math.sin(a),
            )
        )
    return dots


def tie_points(model: TrustModel, c: int) -> list[tuple[int, float, float]]:
    """The customer's own ties (family, insiders, outsiders) as (ring, x, y), fixed per tie."""
    out = []
    for tie, ring in model.customers[c].ties:
        a = tie.idx * GOLDEN
        r = (EDGES[ring] + EDGES[ring + 1]) / 2 + 0.3 * math.sin(tie.idx * 1.7)
        out.append((ring, r * math.cos(a), r * math.sin(a)))
    return out


def use_cjk_font() -> None:
    """Let matplotlib fall back to a CJK font for Chinese labels (Noto CJK when installed)."""
    names = {f.name for f in font_manager.fontManager.ttflist}
    if not any("CJK" in n for n in names):
        for path in font_manager.findSystemFonts():
            if "CJK" in path and "Sans" in path and "Regular" in path:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError):
                    continue
        names = {f.name for f in font_manager.fontManager.ttflist}
    cjk = sorted(n for n in names if "CJK" in n and "Sans" in n and "Mono" not in n)
    cjk.sort(key=lambda n: not n.endswith("SC"))  # simplified Chinese glyphs first
    rcParams["font.family"] = ["DejaVu Sans", *cjk[:1]]  # per-glyph fallback to CJK


use_cjk_font()


def draw_rings(ax: Axes, model: TrustModel, c: int, lang: str) -> list[Dot]:
    """Draw customer ``c``'s rings on ``ax``; returns the dots drawn."""
    ax.clear()
    for ring in (OUTSIDER, INSIDER, FAMILY):
        ax.add_patch(
            Circle(
                (0, 0),
                EDGES[ring + 1],
                facecolor=BAND_FILL[ring],
                edgecolor="#999999",
                linewidth=0.8,
                zorder=0,
            )
        )
        ax.text(
            0,
            EDGES[ring + 1] - 0.18,
            ring_label(ring, lang),
            ha="center",
            va="top",
            fontsize=9,
            color=RING_COLOUR[ring],
            zorder=1,
        )
    ax.add_patch(Circle((0, 0), EDGES[0], facecolor="white", edgecolor="#555555", zorder=1))
    ax.text(0, 0, text(lang, "self"), ha="center", va="center", fontsize=9, zorder=2)
    ties = tie_points(model, c)
    if ties:
        _, tx, ty = zip(*ties)
        ax.scatter(tx, ty, s=10, color="#b0b0b0", zorder=2, linewidths=0)
    dots = salesperson_dots(model, c)
    for d in dots:
        ax.scatter(
            [d.x],
            [d.y],
            s=90 + 12 * min(d.n_trades, 25),
            color=MIX(d.emotional_share),
            edgecolors="black" if d.current else "white",
            linewidths=2.2 if d.current else 0.8,
            zorder=4,
        )
        ax.annotate(
            text(lang, "salesperson", idx=d.salesperson),
            (d.x, d.y),
            xytext=(7, 5),
            textcoords="offset points",
            fontsize=8,
            zorder=5,
        )
    ax.set_xlim(-EDGES[-1] - 0.1, EDGES[-1] + 0.1)
    ax.set_ylim(-EDGES[-1] - 0.1, EDGES[-1] + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.legend(
        handles=[
            Patch(color=INSTRUMENTAL, label=text(lang, "instrumental")),
            Patch(color=EMOTIONAL, label=text(lang, "emotional")),
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markerfacecolor="white",
                markeredgecolor="black",
                markeredgewidth=2,
                label=text(lang, "current"),
            ),
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, 0.03),
        ncol=2,
        fontsize=8,
        frameon=False,
    )
    return dots


# Keyed by the graph object itself (not its id, which a new graph may reuse), and gone with it.
_LAYOUTS: weakref.WeakKeyDictionary[nx.Graph, dict[int, np.ndarray]] = weakref.WeakKeyDictionary()
_LAYOUT_LOCK = threading.Lock()


def network_layout(graph: nx.Graph) -> dict[int, np.ndarray]:
    """A fixed spring layout per network (computed once: nodes must not jump between steps)."""
    with _LAYOUT_LOCK:
        if graph not in _LAYOUTS:
            _LAYOUTS[graph] = nx.spring_layout(graph, seed=1, iterations=40)
        return _LAYOUTS[graph]


def customer_rings(model: TrustModel) -> np.ndarray:
    """Ring of each customer's current salesperson (-1: none)."""
    out = np.full(len(model.customers), -1, dtype=np.int64)
    for cust in model.customers:
        if cust.salesperson is not None:
            out[cust.idx] = cust.relationships[cust.salesperson.idx].ring
    return out


def draw_network(ax: Axes, model: TrustModel, c: int, lang: str) -> None:
    """The whole tie network, each customer coloured by the ring of its salesperson."""
    ax.clear()
    graph = model.world.graph
    pos = network_layout(graph)
    rings = customer_rings(model)
    for ring in (OUTSIDER, INSIDER, FAMILY):
        edges = [(u, v) for u, v, r in graph.edges(data="ring") if r == ring]
        segs = [(pos[u], pos[v]) for u, v in edges]
        if segs:
            ax.add_collection(
                LineCollection(
                    segs,
                    colors=RING_COLOUR[ring],
                    linewidths=0.5,
                    alpha=0.25 if ring == OUTSIDER else 0.45,
                    zorder=1,
                )
            )
    xy = np.array([pos[n] for n in range(len(rings))])
    colours = [RING_COLOUR.get(int(r), NO_SP_COLOUR) for r in rings]
    ax.scatter(xy[:, 0], xy[:, 1], s=22, c=colours, edgecolors="#555555", linewidths=0.4, zorder=2)
    ax.scatter(
        [xy[c, 0]], [xy[c, 1]], s=120, facecolors="none", edgecolors="black", linewidths=2, zorder=3
    )
    ax.set_aspect("equal")
    ax.axis("off")
    handles = [
        Patch(facecolor=RING_COLOUR[r], label=ring_label(r, lang))
        for r in (FAMILY, INSIDER, OUTSIDER)
    ]
    handles.append(
        Patch(facecolor=NO_SP_COLOUR, edgecolor="#555555", label=text(lang, "no_salesperson"))
    )
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.02),
        ncol=4,
        fontsize=8,
        frameon=False,
    )
