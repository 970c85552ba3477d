"""From studies to one sweep: every arm x replicate, ablation arms and robustness points.

All studies of one report become a single experiment whose runs are listed explicitly
(:attr:`Experiment.runs_table`), so they share the sweep machinery: one worker pool or dask
cluster, chunks that survive kill -9, resume, and a table that does not depend on the
number of workers. Each run carries the columns of every parameter any study changes;
seeds are a function of the study's master seed and the run's role alone.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from trustsim.analysis.studies.spec import Sizes, Study
from trustsim.analysis.sweep.design import run_seed
from trustsim.analysis.sweep.experiment import Design, Experiment, Parameter
from trustsim.analysis.sweep.experiment import Output as ExpOutput
from trustsim.analysis.sweep.experiment import Spec as ExpSpec
from trustsim.loader import validate
from trustsim.params import Scenario, flat, iter_fields

MAIN_ROLES = ("control", "treatment", "ablation_control", "ablation_treatment")
ROBUST_ROLES = ("robust_control", "robust_treatment")
DOSE_ROLE = "dose"
DOSE_KEY = (
    10**7
)  # without common seeds, dose level j's replicate r has key DOSE_KEY + j * ARM_KEY + r
ROBUST_KEY = 10**8  # seed keys of robustness runs start here (main arms: replicate numbers)
ARM_KEY = 10**6  # without common seeds, arm k's replicate r has key (k + 1) * ARM_KEY + r
EXCLUDED = ("run.seed", "run.history")


@dataclass(frozen=True)
class Point:
    """One design point of the study sweep: a study's arm (and robustness point)."""

    point_id: int
    study: str
    role: str
    lhs_point: int  # -1 for the main and ablation arms
    data: dict[str, Any]  # the full nested scenario
    seeds: tuple[int, ...]
    window: int
    statistics: tuple[str, ...]  # the study's outcome, latent and extras
    dose_level: int = -1  # index into [dose] levels (role "dose"); -1 otherwise


def lhs_values(study: Study, sizes: Sizes) -> pd.DataFrame:
    """The robustness Latin hypercube (SALib, seeded by the study's master seed)."""
    from SALib.sample import latin

    rob = study.spec.robustness
    if rob is None or sizes.lhs_samples == 0:
        return pd.DataFrame()
    problem = {
        "num_vars": len(rob.parameters),
        "names": list(rob.parameters),
        "bounds": [list(map(float, b)) for b in rob.parameters.values()],
    }
    raw = latin.sample(problem, sizes.lhs_samples, seed=study.spec.runs.master_seed)
    kinds = {f"{s}.{k}": f.annotation for s, k, f in iter_fields()}
    frame = pd.DataFrame(raw, columns=list(rob.parameters))
    for name in frame:
        if kinds[name] is int:
            frame[name] = (frame[name] + 0.5).astype(int)
    return frame


def _with(data: dict[str, Any], values: dict[str, Any], steps_factor: float) -> dict[str, Any]:
    out = {section: dict(table) for section, table in data.items()}
    for name, value in values.items():
        section, key = name.split(".")
        out[section][key] = value.item() if hasattr(value, "item") else value
    if steps_factor != 1.0:
        out["run"]["steps"] = max(10, round(out["run"]["steps"] * steps_factor))
    return out


def study_points(study: Study, sizes: Sizes, first_id: int) -> list[Point]:
    """The study's design points, numbered from ``first_id``."""
    seed, common = study.spec.runs.master_seed, study.spec.runs.common_seeds
    window, stat = study.spec.output.window, study.names
    arms = [study.control, study.treatment, *(study.ablation or ())]
    points = []
    for k, data in enumerate(arms):
        keys = [r if common else (k + 1) * ARM_KEY + r for r in range(sizes.replicates)]
        points.append(
            Point(
                first_id + k,
                study.id,
                MAIN_ROLES[k],
                -1,
                _with(data, {}, sizes.steps_factor),
                tuple(run_seed(seed, key) for key in keys),
                window,
                stat,
            )
        )
    for j, data in enumerate(study.doses):
        # Common seeds: level j's replicate r shares its seed with every arm's replicate r.
        keys = [r if common else DOSE_KEY + j * ARM_KEY + r for r in range(sizes.replicates)]
        points.append(
            Point(
                first_id + len(points),
                study.id,
                DOSE_ROLE,
                -1,
                _with(data, {}, sizes.steps_factor),
                tuple(run_seed(seed, key) for key in keys),
                window,
                stat,
                j,
            )
        )
    for j, row in enumerate(lhs_values(study, sizes).to_dict("records")):
        # Both arms of a robustness point share seeds, so its contrast is paired.
        seeds = tuple(
            run_seed(seed, ROBUST_KEY + j * 1000 + r) for r in range(sizes.lhs_replicates)
        )
        for k, data in enumerate((study.control, study.treatment)):
            points.append(
                Point(
                    first_id + len(points),
                    study.id,
                    ROBUST_ROLES[k],
                    j,
                    _with(data, row, sizes.steps_factor),
                    seeds,
                    window,
                    stat,
                )
            )
    return points


def all_points(studies: list[Study], quick: bool, replicates: int | None) -> list[Point]:
    points: list[Point] = []
    for study in studies:
        points += study_points(study, study.sizes(quick, replicates), len(points))
    return points


def _columns(flats: list[dict[str, Any]]) -> list[str]:
    """Parameters that differ from the defaults in some point (the sweep's columns)."""
    default = flat(Scenario())
    return [
        name
        for name in default
        if name not in EXCLUDED and any(f[name] != default[name] for f in flats)
    ]


def experiment(
    studies: list[Study], out: Path, quick: bool, replicates: int | None
) -> tuple[Experiment, list[Point]]:
    """One experiment listing every run of every study (the sweep of a study report)."""
    points = all_points(studies, quick, replicates)
    return _experiment(points, studies, out, quick, replicates, {}), points


def _experiment(
    points: list[Point], studies: list[Study], out: Path, quick: bool, replicates, extra: dict
) -> Experiment:
    flats = [flat(validate(p.data, f"{p.study} [{p.role}]")) for p in points]
    names = _columns(flats)
    kinds = {f"{s}.{k}": f.annotation for s, k, f in iter_fields()}
    table = tuple(
        (p.point_id, r, s, {n: f[n] for n in names})
        for p, f in zip(points, flats, strict=True)
        for r, s in enumerate(p.seeds)
    )
    text = json.dumps(
        {
            "studies": [{"id": s.id, "file": str(s.path), "text": s.text} for s in studies],
            "sizes": {s.id: asdict(s.sizes(quick, replicates)) for s in studies},
            "quick": quick,
            **extra,
        },
        ensure_ascii=False,
        indent=1,
    )
    spec = ExpSpec(
        design=Design(method="grid", parameters={n: [] for n in names}),
        output=ExpOutput(metrics=[]),
    )
    return Experiment(
        out / "studies.json",
        text,
        spec,
        Scenario(),
        tuple(Parameter(n, kinds[n], ()) for n in names),
        runs_table=table,
        statistics=tuple((p.point_id, p.statistics, p.window) for p in points),
    )


CONFIRM_ROLES = ("confirm_control", "confirm_treatment")
CONFIRM_KEY = 2 * 10**8  # seed keys of confirmation runs (fresh seeds, not the search's)
CONFIRM_REPLICATES = 10  # at most, per arm (quick: the quick replicates)


def confirm_experiment(
    studies: list[Study],
    candidates: dict[str, dict[str, Any]],
    out: Path,
    quick: bool,
    replicates: int | None,
) -> tuple[Experiment, list[Point]]:
    """Both arms of each study again at its candidate falsifying setting, on fresh seeds:
    the targeted search's confirmation runs (a second sweep, resumable like the first)."""
    points: list[Point] = []
    for study in studies:
        if study.id not in candidates:
            continue
        sizes = study.sizes(quick, replicates)
        n = min(sizes.replicates, CONFIRM_REPLICATES)
        seeds = tuple(run_seed(study.spec.runs.master_seed, CONFIRM_KEY + r) for r in range(n))
        for k, data in enumerate((study.control, study.treatment)):
            points.append(
                Point(
                    len(points),
                    study.id,
                    CONFIRM_ROLES[k],
                    -1,
                    _with(data, candidates[study.id], sizes.steps_factor),
                    seeds,
                    study.spec.output.window,
                    (study.statistic,),
                )
            )
    named = {k: {n: _plain(v) for n, v in c.items()} for k, c in candidates.items()}
    return _experiment(points, studies, out, quick, replicates, {"confirm": named}), points


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def points_frame(
    points: list[Point], studies: list[Study], quick: bool, replicates
) -> pd.DataFrame:
    """point_id -> study, role, robustness point and its sampled parameter values."""
    rows = []
    lhs = {s.id: lhs_values(s, s.sizes(quick, replicates)) for s in studies}
    for p in points:
        row = {
            "point_id": p.point_id,
            "study": p.study,
            "role": p.role,
            "lhs_point": p.lhs_point,
            "dose_level": p.dose_level,
        }
        if p.lhs_point >= 0:
            row.update({f"lhs:{k}": v for k, v in lhs[p.study].iloc[p.lhs_point].items()})
        rows.append(row)
    return pd.DataFrame(rows)
