"""What a calibration found: the Outcome (posterior particles and their weights) and its
weighted summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trustsim.analysis.calibration.plan import Plan
from trustsim.analysis.calibration.targets import Targets


@dataclass
class Outcome:
    out: Path
    targets: Targets
    plan: Plan
    posterior: pd.DataFrame
    generations: int
    simulations: int
    seconds: float
    resumed: bool
    paths: list[Path] = field(default_factory=list)
    predictive: pd.DataFrame | None = None
    check: Any = None  # the prior check (PriorCheck)
    stopped: str = ""  # why the last generation was the last: a key of STOPS

    @property
    def screen(self) -> dict[str, dict[str, Any]]:
        """Per target: fitted (movable) or not, and why."""
        return self.check.screen()


STOPS = {
    "tolerance": "the tolerance reached calibration.minimum_epsilon",
    "acceptance": "the next generation would have accepted fewer than "
    "calibration.min_acceptance_rate of its draws",
    "budget": "the budget of model runs was spent (the stopping rule did not end it)",
}


def posterior_median(posterior: pd.DataFrame, names: list[str]) -> dict[str, float]:
    return {n: weighted_quantile(posterior[n], posterior.weight, 0.5) for n in names}


def weighted_quantile(x, w, q: float) -> float:
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    order = np.argsort(x)
    x, w = x[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return float(np.interp(q, cdf, x))
