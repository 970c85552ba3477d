"""Reading an experiment file whole: its schema (:mod:`.experiment`), then its design
(:mod:`.design`): the run count within the limit, every design point a valid scenario."""

from __future__ import annotations

from pathlib import Path

from trustsim.analysis.sweep.design import check_points, check_size
from trustsim.analysis.sweep.experiment import Experiment, parse, resolve_experiment
from trustsim.loader import read_toml


def load_experiment(name: str | Path) -> Experiment:
    """Read and validate an experiment file (a path, or a shipped name), design points included."""
    path = resolve_experiment(name)
    data = read_toml(path, what="experiment")
    experiment = parse(path, path.read_text(encoding="utf-8"), data)
    check_size(experiment)  # before building the design: a huge one would hang
    check_points(experiment)
    return experiment
