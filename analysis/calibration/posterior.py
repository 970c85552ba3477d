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
    screen: dict[str, dict[str, Any]]
    posterior: pd.DataFrame
    generations: int
    simulations: int
    seconds: float
    resumed: bool
    paths: list[Path] = field(default_factory=list)
    predictive: pd.DataFrame | None = None


def posterior_median(posterior: pd.DataFrame, names: list[str]) -> dict[str, float]:
    return {n: weighted_quantile(posterior[n], posterior.weight, 0.5) for n in names}


def weighted_quantile(x, w, q: float) -> float:
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    order = np.argsort(x)
    x, w = x[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return float(np.interp(q, cdf, x))
