"""One chart drawn in the browser by ECharts: the server sends data, never pictures.

The page used to render three matplotlib figures to PNG on the server at every step
(0.3-3 s under load). :class:`Chart` instead sends the chart's whole ECharts option once
(``base``: per world, language or customer) and then, per step, only what changed
(``patch``): new plot rows, new node colours, the few salesperson dots. The browser draws
with ECharts (``chart.vue``), loaded through Solara's CDN proxy from the npm package that
:mod:`trustsim.classroom.assets` packs for offline use.

Appending plot rows needs to know what this browser already has, and that is per widget:
:class:`Chart` keeps the count of rows it has sent (``feed``) so the component that uses
it stays stateless.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from itertools import count
from typing import Any

import ipyvuetify
import traitlets

from trustsim.classroom.assets import ECHARTS_VERSION


class Payload:
    """Chart data that the page framework passes along without looking inside.

    Reacton walks every dict and list in a component's props on each render (to find
    nested elements): the network's 1,269 ties cost half a second per step that way.
    A Payload is opaque to it and compares by ``key`` alone (e.g. world, customer,
    language), so an unchanged base costs nothing per step.
    """

    __slots__ = ("data", "key")

    def __init__(self, key: Hashable, data: Any):
        self.key, self.data = key, data

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Payload) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"Payload({self.key!r})"


def _to_json(value: Payload | None, widget: Any) -> Any:
    return None if value is None else value.data


_serial = count()


class Chart(ipyvuetify.VuetifyTemplate):
    """An ECharts canvas; see the module docstring for ``base`` and ``patch``."""

    template_file = (__file__, "chart.vue")

    base = traitlets.Any(None).tag(sync=True, to_json=_to_json)
    patch = traitlets.Any(None).tag(sync=True, to_json=_to_json)
    height = traitlets.Unicode("420px").tag(sync=True)
    version = traitlets.Unicode(ECHARTS_VERSION).tag(sync=True)
    # Payload of (world, step, {series id: values}): value i is drawn at x = i + 1 (the
    # step); only the values this browser has not had yet go out
    feed = traitlets.Any(None)

    def __init__(self, **kwargs: Any):
        self._sent: dict[str, int] = {}
        self._world: Any = None
        super().__init__(**kwargs)

    @traitlets.observe("feed")
    def _feed_changed(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            self.patch = self._tail(*change["new"].data)

    def _tail(self, world: Any, step: int, rows: Mapping[str, Sequence[Any]]) -> Payload:
        if world != self._world:
            self._world, self._sent = world, {}
        series = {}
        for sid, full in rows.items():
            start = self._sent.get(sid, 0)
            rows = [[i + 1, round(float(v), 4)] for i, v in enumerate(full[start:], start)]
            series[sid] = {"start": start, "rows": rows}
            self._sent[sid] = len(full)
        return Payload(next(_serial), {"world": world, "step": step, "series": series})

    @traitlets.observe("base")
    def _base_changed(self, change: dict[str, Any]) -> None:
        """A new base clears the browser's rows: send them all again."""
        self._sent = {}
        if self.feed is not None:
            self.patch = self._tail(*self.feed.data)

    def vue_resync(self, have: int) -> None:
        """The browser missed a patch: send every row after the ``have`` it holds."""
        self._sent = dict.fromkeys(self._sent, int(have))
        if self.feed is not None:
            self.patch = self._tail(*self.feed.data)


__all__ = ["ECHARTS_VERSION", "Chart", "Payload"]
