"""The page's three views as ECharts options: data the browser draws (see chart.py).

Each view has a *base* (everything that stays put while the model steps: bands, labels,
the network's positions and ties, axes and legends), rebuilt only for a new world,
language or customer, and a *patch* per step with only what changed. The geometry is
the ring view's own (:mod:`trustsim.classroom.ringview`), so the live page, the GIFs and
the notebook place every dot alike.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from matplotlib.colors import to_hex

from trustsim.classroom.plots import panels
from trustsim.classroom.ringview import (
    BAND_FILL,
    EDGES,
    MIX,
    NO_SP_COLOUR,
    RING_COLOUR,
    customer_rings,
    salesperson_dots,
    tie_points,
)
from trustsim.classroom.text import metric_label, ring_label, text
from trustsim.codes import FAMILY, INSIDER, OUTSIDER
from trustsim.metrics import COUNTERS

if TYPE_CHECKING:
    import numpy as np

    from trustsim.mesa_model.model import TrustModel

RADIUS = "92%"  # of half the chart's smaller side: the polar axis and the pie bands agree
PALETTE = [to_hex(f"C{i}") for i in range(10)]  # matplotlib's colours, as in the notebook
SELF_FILL = "#ffffff"


def _polar(x: float, y: float) -> list[float]:
    """(radius, angle in degrees) of a point of the ring view's plane."""
    return [round(math.hypot(x, y), 4), round(math.degrees(math.atan2(y, x)) % 360, 2)]


def _band(sid: str, inner: float, outer: float, fill: str) -> dict[str, Any]:
    """A filled ring between two radii, drawn as a one-slice doughnut."""
    scale = float(RADIUS.rstrip("%")) / EDGES[-1]
    return {
        "id": sid,
        "type": "pie",
        "radius": [f"{inner * scale:.2f}%", f"{outer * scale:.2f}%"],
        "center": ["50%", "50%"],
        "silent": True,
        "label": {"show": False},
        "itemStyle": {"color": fill, "borderColor": "#999999", "borderWidth": 0.8},
        "data": [{"value": 1}],
        "z": 0,
    }


def ring_base(model: TrustModel, c: int, lang: str, world: int) -> dict[str, Any]:
    """What stays of customer ``c``'s rings while the model steps."""
    bands = [_band("self", 0, EDGES[0], SELF_FILL)]
    bands += [
        _band(f"band{r}", EDGES[r], EDGES[r + 1], BAND_FILL[r]) for r in (FAMILY, INSIDER, OUTSIDER)
    ]
    labels = [
        {
            "value": [EDGES[r + 1] - 0.3, 90],
            "label": {"formatter": ring_label(r, lang), "color": RING_COLOUR[r]},
        }
        for r in (FAMILY, INSIDER, OUTSIDER)
    ]
    labels.append({"value": [0, 0], "label": {"formatter": text(lang, "self")}})
    ties = [_polar(x, y) for _, x, y in tie_points(model, c)]
    return {
        "world": world,
        "animation": False,
        "polar": {"center": ["50%", "50%"], "radius": RADIUS},
        "radiusAxis": {"min": 0, "max": EDGES[-1], "show": False},
        "angleAxis": {
            "min": 0,
            "max": 360,
            "startAngle": 0,
            "clockwise": False,
            "show": False,
        },
        "series": [
            *bands,
            {
                "id": "labels",
                "type": "scatter",
                "coordinateSystem": "polar",
                "symbolSize": 0,
                "silent": True,
                "label": {"show": True, "fontSize": 12, "position": "inside"},
                "data": labels,
                "z": 2,
            },
            {
                "id": "ties",
                "type": "scatter",
                "coordinateSystem": "polar",
                "symbolSize": 4,
                "silent": True,
                "itemStyle": {"color": "#b0b0b0"},
                "data": ties,
                "z": 2,
            },
            {
                "id": "dots",
                "type": "scatter",
                "coordinateSystem": "polar",
                "label": {"show": True, "position": "right", "fontSize": 11},
                "data": [],
                "zlevel": 1,  # over the bands' canvas, which a step leaves alone
                "z": 4,
            },
        ],
    }


def ring_patch(model: TrustModel, c: int, lang: str, world: int) -> dict[str, Any]:
    """The salespeople customer ``c`` knows, as dots placed by ring and trust."""
    dots = [
        {
            "value": _polar(d.x, d.y),
            "symbolSize": round(1.25 * math.sqrt(90 + 12 * min(d.n_trades, 25)), 1),
            "itemStyle": {
                "color": to_hex(MIX(d.emotional_share)),
                "borderColor": "#000000" if d.current else "#ffffff",
                "borderWidth": 2.5 if d.current else 1,
            },
            "label": {"formatter": text(lang, "salesperson", idx=d.salesperson)},
        }
        for d in salesperson_dots(model, c)
    ]
    return {"world": world, "step": model.steps, "series": {"dots": {"data": dots}}}


def network_base(model: TrustModel, layout: dict[int, np.ndarray], world: int) -> dict[str, Any]:
    """Positions and ties of the whole network: sent once per world."""
    graph = model.world.graph
    xy = {n: [round(float(p[0]), 4), round(float(p[1]), 4)] for n, p in layout.items()}
    ties = []
    for ring in (OUTSIDER, INSIDER, FAMILY):
        edges = [(u, v) for u, v, r in graph.edges(data="ring") if r == ring]
        ties.append(
            {
                "id": f"ties{ring}",
                "type": "lines",
                "coordinateSystem": "cartesian2d",
                "silent": True,
                "lineStyle": {
                    "color": RING_COLOUR[ring],
                    "width": 0.6,
                    "opacity": 0.25 if ring == OUTSIDER else 0.45,
                },
                "data": [{"coords": [xy[u], xy[v]]} for u, v in edges],
                "large": True,
                "z": 1,
            }
        )
    nodes = [[*xy[n], -1] for n in range(len(model.customers))]
    pieces = [{"value": -1, "color": NO_SP_COLOUR}]
    pieces += [{"value": r, "color": RING_COLOUR[r]} for r in (FAMILY, INSIDER, OUTSIDER)]
    # Same grid and axis limits above and below, so nodes sit on their ties.
    xs, ys = [p[0] for p in xy.values()], [p[1] for p in xy.values()]
    frame = {
        "animation": False,
        "grid": {"left": 8, "right": 8, "top": 8, "bottom": 8},
        "xAxis": {"type": "value", "show": False, "min": min(xs) - 0.05, "max": max(xs) + 0.05},
        "yAxis": {"type": "value", "show": False, "min": min(ys) - 0.05, "max": max(ys) + 0.05},
    }
    return {
        "world": world,
        **frame,
        "underlay": {**frame, "series": ties},  # drawn once per world
        "visualMap": {
            "type": "piecewise",
            "show": False,
            "dimension": 2,
            "seriesIndex": 0,
            "pieces": pieces,
        },
        "series": [
            {
                "id": "nodes",
                "type": "scatter",
                "symbolSize": 7,
                "silent": True,
                "itemStyle": {"borderColor": "#555555", "borderWidth": 0.5, "opacity": 1},
                "data": nodes,
                "z": 2,
            },
            {
                "id": "me",
                "type": "scatter",
                "symbolSize": 15,
                "silent": True,
                "itemStyle": {"color": "transparent", "borderColor": "#000000", "borderWidth": 2},
                "data": [],
                "z": 3,
            },
        ],
    }


def network_patch(
    model: TrustModel, layout: dict[int, np.ndarray], c: int, world: int
) -> dict[str, Any]:
    """Per step: the ring of each customer's salesperson (its colour), and who is chosen."""
    rings = [int(r) for r in customer_rings(model)]
    me = [[round(float(layout[c][0]), 4), round(float(layout[c][1]), 4)]]
    return {
        "world": world,
        "step": model.steps,
        "series": {"nodes": {"column": 2, "values": rings}, "me": {"data": me}},
    }


def plot_bases(lang: str, extra: list[str] | tuple[str, ...], world: int) -> list[dict[str, Any]]:
    """One line chart per panel of :func:`trustsim.classroom.plots.panels`."""
    out = []
    for title, names in panels(extra):
        counts = [n for n in names if n in COUNTERS]
        twin = bool(counts) and len(counts) < len(names)
        axes = [{"type": "value", "scale": False, "axisLabel": {"fontSize": 10}}]
        if twin:
            axes.append({"type": "value", "splitLine": {"show": False}})
        series = [
            {
                "id": name,
                "name": metric_label(name, lang),
                "type": "line",
                "showSymbol": False,
                "yAxisIndex": 1 if twin and name not in COUNTERS else 0,
                "lineStyle": {
                    "width": 1.5,
                    "type": "dashed" if twin and name not in COUNTERS else "solid",
                },
                "data": [],
            }
            for name in names
        ]
        out.append(
            {
                "world": world,
                "animation": False,
                "color": PALETTE,
                "title": {
                    "text": text(lang, title),
                    "left": "center",
                    "textStyle": {"fontSize": 13},
                },
                # one legend line (scrolled if long), so a short chart keeps room for its lines
                "legend": {
                    "top": 20,
                    "type": "scroll",
                    "itemHeight": 10,
                    "textStyle": {"fontSize": 11},
                },
                "grid": {"left": 40, "right": 40 if twin else 14, "top": 46, "bottom": 30},
                "xAxis": {
                    "type": "value",
                    "min": 0,
                    "max": "dataMax",
                    "minInterval": 1,
                    "name": text(lang, "step_axis"),
                    "nameLocation": "middle",
                    "nameGap": 18,
                },
                "yAxis": axes,
                "series": series,
            }
        )
    return out


def plot_feeds(model: TrustModel, extra: list[str] | tuple[str, ...], world: int) -> list[tuple]:
    """Per panel: (world, step, {metric: values so far}) for :attr:`Chart.feed`."""
    columns = model.datacollector.model_vars
    # tuples: a snapshot, not the DataCollector's lists that the next step lengthens; from
    # step 1 (the DataCollector's first row is step 0, before anything happened)
    return [
        (world, model.steps, {name: tuple(columns.get(name, ())[1:]) for name in names})
        for _, names in panels(extra)
    ]


__all__ = [
    "network_base",
    "network_patch",
    "plot_bases",
    "plot_feeds",
    "ring_base",
    "ring_patch",
]
