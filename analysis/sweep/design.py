"""From an experiment to its runs: design points, seeds and the run plan.

Everything here is a pure function of the experiment file, so a resumed sweep, another
worker count or a cluster all see the same run ids, parameter values and seeds.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from trustsim.analysis.sweep.experiment import Experiment
from trustsim.loader import ScenarioError, validate
from trustsim.metrics import OBSERVED
from trustsim.params import flat
from trustsim.runtime.memory import Sizes

ID_COLUMNS = ("run_id", "point_id", "replicate", "seed")
SEED_LIMIT_BITS = 62  # run.seed allows [0, 2**62]
MAX_LISTED = 5  # invalid design points listed before "and N more"
# Runs one experiment may plan. The plan, its seeds and the check of every design point
# are built in memory before any run starts (about 10 s per million runs); a larger
# study is several experiment files (or several master seeds).
MAX_RUNS = 1_000_000


def point_count(method: str, samples: int, n_parameters: int, grid_sizes: list[int]) -> int:
    """Design points SALib (or the grid) will make, computed without making them."""
    if method == "grid":
        return int(np.prod(grid_sizes, dtype=object)) if grid_sizes else 0
    if method == "lhs":
        return samples
    if method == "morris":
        return samples * (n_parameters + 1)
    raise ValueError(f"use sobol_point_count for {method}")


def sobol_point_count(samples: int, n_parameters: int, second_order: bool) -> int:
    """Saltelli's scheme: N (2D + 2) points with second-order indices, N (D + 2) without."""
    return samples * (2 * n_parameters + 2 if second_order else n_parameters + 2)


def run_count(experiment: Experiment) -> int:
    """Runs the experiment plans: design points x replicates (nothing is built)."""
    d = experiment.spec.design
    n = len(experiment.parameters)
    if d.method == "sobol":
        pts = sobol_point_count(d.samples, n, d.second_order)
    else:
        pts = point_count(d.method, d.samples, n, [len(p.given) for p in experiment.parameters])
    return pts * experiment.spec.runs.replicates


def check_size(experiment: Experiment, limit: int = MAX_RUNS) -> int:
    """Refuse, at once, an experiment that plans more than ``limit`` runs."""
    runs = run_count(experiment)
    if runs > limit:
        d = experiment.spec.design
        raise ScenarioError(
            [
                f"{experiment.path}: the {d.method} design plans {runs:,} runs "
                f"({runs // experiment.spec.runs.replicates:,} design points x "
                f"{experiment.spec.runs.replicates:,} replicates), more than the limit of "
                f"{limit:,} runs per experiment; lower design.samples, runs.replicates or the "
                f"values of a grid, or split the study into several experiment files"
            ]
        )
    return runs


def problem(experiment: Experiment) -> dict[str, Any]:
    """The SALib problem: the varied parameters and their ranges (sampled designs)."""
    return {
        "num_vars": len(experiment.parameters),
        "names": experiment.names,
        "bounds": [list(p.bounds) for p in experiment.parameters],
    }


def raw_design(experiment: Experiment) -> np.ndarray:
    """The sampler's output, one row per design point (before integer rounding).

    SALib's Morris and Sobol analyses need exactly this matrix, in this order.
    """
    design = experiment.spec.design
    seed = experiment.spec.runs.master_seed
    if design.method == "grid":
        return np.array(
            list(itertools.product(*(p.given for p in experiment.parameters))), dtype=object
        )
    if design.method == "lhs":
        from SALib.sample import latin

        return latin.sample(problem(experiment), design.samples, seed=seed)
    if design.method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(
            problem(experiment), design.samples, calc_second_order=design.second_order, seed=seed
        )
    from SALib.sample import morris

    return morris.sample(problem(experiment), design.samples, num_levels=design.levels, seed=seed)


def _listed(experiment: Experiment) -> pd.DataFrame:
    """The run table an experiment lists itself (a study): one row per run, typed columns."""
    rows = [
        {"point_id": p, "replicate": r, "seed": s, **values}
        for p, r, s, values in experiment.runs_table
    ]
    frame = pd.DataFrame(rows)
    for c in ("point_id", "replicate", "seed"):
        frame[c] = frame[c].astype(np.int64)
    for param in experiment.parameters:
        frame[param.name] = frame[param.name].astype(param.dtype)
    return frame


def points(experiment: Experiment) -> pd.DataFrame:
    """Design points as run: ``point_id`` plus one column per parameter, integers rounded."""
    if experiment.runs_table is not None:
        listed = _listed(experiment).drop(columns=["replicate", "seed"])
        return listed.drop_duplicates("point_id").reset_index(drop=True)
    raw = raw_design(experiment)
    columns: dict[str, Any] = {"point_id": np.arange(len(raw), dtype=np.int64)}
    for j, param in enumerate(experiment.parameters):
        col = raw[:, j]
        if param.kind is int:
            col = np.floor(col.astype(float) + 0.5).astype(np.int64)
        columns[param.name] = np.asarray(col.tolist(), dtype=param.dtype)
    return pd.DataFrame(columns)


def run_seed(master_seed: int, key: int) -> int:
    """A run's seed from the master seed and its key (run id, or replicate with common
    seeds): a function of these two numbers alone, whoever runs it and in which order."""
    state = np.random.SeedSequence([master_seed, key]).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(64 - SEED_LIMIT_BITS))


def plan(experiment: Experiment) -> pd.DataFrame:
    """One row per run: run id, design point, replicate, seed and the varied parameters.

    Run ``point_id * replicates + replicate`` is replicate ``replicate`` of that point;
    an experiment that lists its runs (a study) numbers them in the order listed.
    """
    if experiment.runs_table is not None:
        frame = _listed(experiment)
        frame.insert(0, "run_id", np.arange(len(frame), dtype=np.int64))
        return frame[["run_id", "point_id", "replicate", "seed", *experiment.names]]
    runs = experiment.spec.runs
    pts = points(experiment)
    reps = runs.replicates
    frame = pts.loc[pts.index.repeat(reps)].reset_index(drop=True)
    replicate = np.tile(np.arange(reps, dtype=np.int64), len(pts))
    run_id = frame["point_id"].to_numpy() * reps + replicate
    keys = replicate if runs.common_seeds else run_id
    seeds = np.array([run_seed(runs.master_seed, int(k)) for k in keys], dtype=np.int64)
    frame.insert(0, "run_id", run_id)
    frame.insert(2, "replicate", replicate)
    frame.insert(3, "seed", seeds)
    return frame


def largest_run(experiment: Experiment, runs: pd.DataFrame) -> Sizes:
    """Sizes at least as large as any run of the plan (each varied value at its maximum),
    for the memory guard, computed from the plan's columns without building scenarios."""
    values = flat(experiment.base)
    for name in experiment.names:
        column = runs.get(name)
        sized = column is not None and len(column) and column.dtype.kind in "iuf"  # not words
        if sized:
            values[name] = column.max().item()
    return Sizes.from_values(values)


def point_data(base: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Nested scenario data: the base with one design point's values set."""
    data = {section: dict(table) for section, table in base.items()}
    for name, value in values.items():
        section, key = name.split(".")
        data[section][key] = value.item() if isinstance(value, np.generic) else value
    return data


def unobserved(data: dict[str, Any], kept: tuple[str, ...]) -> dict[str, Any]:
    """``data`` with the simulated measurements off when a run keeps none of their metrics
    (``kept``: the metric and statistic names it keeps; the named statistics never read
    them): their draws are skipped and no kept value changes."""
    if set(OBSERVED).isdisjoint(kept):
        data["measurement"] = {**data.get("measurement", {}), "observe": False}
    return data


def check_points(experiment: Experiment) -> None:
    """Validate every design point as a scenario (cross-parameter rules included)."""
    base = experiment.base.model_dump()
    problems: list[str] = []
    bad = 0
    for row in points(experiment).to_dict("records"):
        pid = row.pop("point_id")
        values = ", ".join(f"{k}={v!r}" for k, v in row.items())
        try:
            validate(point_data(base, row), f"{experiment.path}: design point {pid} ({values})")
        except ScenarioError as exc:
            bad += 1
            if bad <= MAX_LISTED:
                problems += exc.problems
    if bad > MAX_LISTED:
        problems.append(f"{experiment.path}: ... and {bad - MAX_LISTED} more invalid design points")
    if problems:
        raise ScenarioError(problems)
