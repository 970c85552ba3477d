"""The two engines behind one interface: the Engine protocol and the registry by name.

Both engines run the schedule of docs/ODD.md §3 with the same rules
(:mod:`trustsim.rules`) and the same keyed random numbers, so they give the same
trajectories (tests/test_docking.py): ``mesa`` (:class:`trustsim.mesa_model.model.TrustModel`,
agents you can inspect) and ``core`` (:class:`trustsim.core.model.CoreModel`, numba loops
over arrays).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

    from trustsim.params import Scenario


class Engine(Protocol):
    """What the runtime needs of an engine."""

    params: Scenario  # the settings it runs
    seed: int
    steps: int  # steps done so far
    history: bool  # whether it keeps the event log
    events: list  # the event log's rows (run.history on)

    def step(self) -> None:
        """Advance one step of the schedule."""

    def run(self, steps: int) -> None:
        """Advance ``steps`` steps."""

    def series(self) -> tuple[np.ndarray, np.ndarray]:
        """Every step's COUNTERS (int) and MEANS (float), a row per step."""


# Engine name -> (module, class). Imported on demand: a core run need not load Mesa.
ENGINES: dict[str, tuple[str, str]] = {
    "mesa": ("trustsim.mesa_model.model", "TrustModel"),
    "core": ("trustsim.core.model", "CoreModel"),
}


def make_model(scenario: Scenario, engine: str = "core", seed: int | None = None) -> Engine:
    """A fresh model of the chosen engine."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    module, name = ENGINES[engine]
    return getattr(importlib.import_module(module), name)(scenario, seed)
