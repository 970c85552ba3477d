"""Study files (``scenarios/studies/*.toml``): one hypothesis as a replicated contrast.

A study names a per-run statistic of the registry (:mod:`trustsim.analysis.measures.statistics`),
a control and a treatment arm (each a list of ``section.key=value`` settings on a base
scenario), the expected direction of treatment - control, replicates and a master seed;
optionally an ablation (the same contrast with a mechanism switched off) and the
parameters of a robustness Latin hypercube. Loading checks everything before any run is
planned and reports each problem as one line naming the file and the key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from trustsim.analysis.measures import statistics as registry
from trustsim.analysis.sweep.experiment import Base, base_scenario, value_problem
from trustsim.loader import (
    SCENARIO_DIR,
    ScenarioError,
    apply_overrides,
    no_such_parameter,
    read_toml,
    resolve_path,
    suggest,
    validate,
    validate_spec,
)
from trustsim.params import Scenario, flat

STUDY_DIR = SCENARIO_DIR / "studies"
MAX_RUNS_PER_STUDY = 20_000  # refused above this, before anything is planned
MAX_REPLICATES = 1_000
MAX_LHS_SAMPLES = 1_000
MIN_ROBUST_PARAMETERS = 4
MIN_DOSE_LEVELS = 3
CLASSIFICATIONS = ("by form", "by form in direction", "by-form core, emergent size", "emergent")
NOT_SETTABLE = {"run.seed": "seeds come from runs.master_seed", "run.history": "set when needed"}


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Meta(_Table):
    id: str = Field(description="a unique name (letters, digits, _ and -)", pattern=r"^[\w-]+$")
    hypothesis: str = Field("", description="the hypothesis it tests, e.g. H11 (optional)")
    claim: str = Field(description="one sentence: what the hypothesis says", min_length=1)
    source: str = Field("", description="where the claim comes from (optional)")
    statistic: str = Field(description="a named statistic or metric (--list-statistics)")
    direction: Literal["increase", "decrease"] = Field(
        description="increase or decrease (expected sign of treatment - control)"
    )
    control_is: str = Field(description="what the control arm is and why", min_length=1)
    classification: str = Field(
        "unclassified", description="ODD §11 class: " + ", ".join(CLASSIFICATIONS)
    )
    sesoi: float | None = Field(
        None,
        description="the smallest effect of interest, in the statistic's units (a number >= 0)",
        ge=0,
    )
    sesoi_is: str = Field("", description="why that sesoi (one sentence; optional)")
    report: list[str] = Field(
        [], description="further named statistics shown per arm with an interval (optional)"
    )


class Manipulation(_Table):
    latent: str = Field(description="the named statistic or metric the arms are meant to move")
    direction: Literal["increase", "decrease"] = Field(
        description="increase or decrease (expected sign of treatment - control)"
    )


class Dose(_Table):
    parameter: str = Field(description="a numeric scenario parameter, section.key")
    levels: list[float] = Field(
        description=f"at least {MIN_DOSE_LEVELS} distinct values", min_length=MIN_DOSE_LEVELS
    )
    direction: Literal["increase", "decrease"] | None = Field(
        None,
        description="expected sign of the slope on the level (default: from the arms, else "
        "study.direction)",
    )


class Arm(_Table):
    set: list[str] = Field([], description='a list of "section.key=value" strings')


class Runs(_Table):
    replicates: int = Field(
        description=f"an integer in [2, {MAX_REPLICATES}]", ge=2, le=MAX_REPLICATES
    )
    master_seed: int = Field(description="an integer in [0, 2**62]", ge=0, le=2**62)
    common_seeds: bool = Field(False, description="true or false")


class Robustness(_Table):
    parameters: dict[str, list[float]] = Field(
        description=f"at least {MIN_ROBUST_PARAMETERS} parameters as [low, high]"
    )
    samples: int = Field(
        32,
        description=f"Latin hypercube points in [2, {MAX_LHS_SAMPLES}]",
        ge=2,
        le=MAX_LHS_SAMPLES,
    )
    replicates: int = Field(
        3, description=f"replicates per point in [1, {MAX_REPLICATES}]", ge=1, le=MAX_REPLICATES
    )


class Output(_Table):
    window: int = Field(20, description="an integer >= 1 (metric mean over the last steps)", ge=1)


class Spec(_Table):
    study: Meta
    base: Base = Field(default_factory=Base)
    control: Arm
    treatment: Arm
    runs: Runs
    ablation: Arm | None = None
    manipulation: Manipulation | None = None
    dose: Dose | None = None
    robustness: Robustness | None = None
    output: Output = Field(default_factory=Output)


@dataclass(frozen=True)
class Sizes:
    """How many runs a study makes: full mode from the file, or --quick / --replicates."""

    replicates: int
    lhs_samples: int
    lhs_replicates: int
    steps_factor: float = 1.0

    def __str__(self) -> str:
        """In words, for ``study --dry-run``: "6 replicates an arm, robustness 8 points x 1
        replicate, half the steps"."""
        robust = (
            f"robustness {self.lhs_samples} points x {self.lhs_replicates} "
            f"replicate{'s' if self.lhs_replicates != 1 else ''}"
            if self.lhs_samples
            else "no robustness check"
        )
        steps = "" if self.steps_factor == 1 else f", steps x {self.steps_factor:g}"
        return f"{self.replicates} replicates an arm, {robust}{steps}"


QUICK = Sizes(replicates=6, lhs_samples=8, lhs_replicates=1, steps_factor=0.5)


@dataclass(frozen=True)
class Study:
    """A validated study file: its arms as full scenarios (nested dicts)."""

    path: Path
    text: str
    spec: Spec
    base: Scenario
    control: dict[str, Any]
    treatment: dict[str, Any]
    ablation: tuple[dict[str, Any], dict[str, Any]] | None
    doses: tuple[dict[str, Any], ...] = ()  # the base at each [dose] level

    @property
    def id(self) -> str:
        return self.spec.study.id

    @property
    def statistic(self) -> str:
        return self.spec.study.statistic

    @property
    def sign(self) -> int:
        return 1 if self.spec.study.direction == "increase" else -1

    @property
    def latent(self) -> str | None:
        return self.spec.manipulation.latent if self.spec.manipulation else None

    @property
    def latent_sign(self) -> int:
        m = self.spec.manipulation
        return 0 if m is None else (1 if m.direction == "increase" else -1)

    @property
    def names(self) -> tuple[str, ...]:
        """Every statistic a run of this study computes: the outcome, the latent, extras."""
        out = [self.statistic, *([self.latent] if self.latent else []), *self.spec.study.report]
        return tuple(dict.fromkeys(out))

    @property
    def dose_sign(self) -> int:
        """Expected sign of the slope on the dose level: the file's, else from the arms
        (the sign of treatment - control of that parameter times the study's), else the
        study's direction."""
        dose = self.spec.dose
        if dose is None:
            return 0
        if dose.direction is not None:
            return 1 if dose.direction == "increase" else -1
        section, key = dose.parameter.split(".")
        c, t = self.control[section][key], self.treatment[section][key]
        if isinstance(c, int | float) and not isinstance(c, bool) and c != t:
            return self.sign * (1 if t > c else -1)
        return self.sign

    @property
    def robust_names(self) -> list[str]:
        return list(self.spec.robustness.parameters) if self.spec.robustness else []

    def sizes(self, quick: bool = False, replicates: int | None = None) -> Sizes:
        rob = self.spec.robustness
        full = Sizes(
            self.spec.runs.replicates, rob.samples if rob else 0, rob.replicates if rob else 0
        )
        if quick:
            full = Sizes(
                min(full.replicates, QUICK.replicates),
                min(full.lhs_samples, QUICK.lhs_samples),
                min(full.lhs_replicates, QUICK.lhs_replicates),
                QUICK.steps_factor,
            )
        if replicates is not None:
            full = Sizes(replicates, full.lhs_samples, full.lhs_replicates, full.steps_factor)
        return full

    def n_runs(self, sizes: Sizes) -> int:
        arms = (4 if self.ablation else 2) + len(self.doses)
        return arms * sizes.replicates + 2 * sizes.lhs_samples * sizes.lhs_replicates

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


# ----------------------------------------------------------------------------- checks


def _arm(
    source: str, key: str, base: dict[str, Any], settings: list[str]
) -> tuple[dict, list[str]]:
    """Base data with an arm's settings applied; problems name the file and the arm."""
    problems = []
    for item in settings:
        name = item.partition("=")[0].strip()
        if name in NOT_SETTABLE:
            problems.append(f"{source}: {key}.set: {item}: cannot be set: {NOT_SETTABLE[name]}")
    data, found = apply_overrides(
        base, [s for s in settings if s.partition("=")[0].strip() not in NOT_SETTABLE]
    )
    problems += [f"{source}: {key}.set: {p.removeprefix('--set ')}" for p in found]
    if not problems:
        try:
            validate(data, f"{source}: [{key}]")
        except ScenarioError as exc:
            problems += exc.problems
    return data, problems


def _set_names(settings: list[str]) -> set[str]:
    return {s.partition("=")[0].strip() for s in settings}


def _check_robustness(source: str, spec: Spec) -> list[str]:
    rob = spec.robustness
    if rob is None:
        return []
    from trustsim.params import iter_fields

    fields = {f"{s}.{k}": f for s, k, f in iter_fields()}
    problems = []
    if len(rob.parameters) < MIN_ROBUST_PARAMETERS:
        problems.append(
            f"{source}: robustness.parameters names {len(rob.parameters)}: "
            f"give at least {MIN_ROBUST_PARAMETERS} parameters as [low, high]"
        )
    armed = _set_names(spec.control.set) | _set_names(spec.treatment.set)
    armed |= _set_names(spec.ablation.set) if spec.ablation else set()
    for name, bounds in rob.parameters.items():
        where = f"{source}: robustness.parameters.'{name}'"
        if name not in fields:
            problems.append(f"{where}: {no_such_parameter(name, list(fields))}")
            continue
        if fields[name].annotation is bool or name in NOT_SETTABLE:
            problems.append(f"{where}: only numeric parameters can be sampled")
            continue
        if name in armed:
            problems.append(f"{where}: is set by an arm; sampling it would undo the contrast")
            continue
        if len(bounds) != 2:
            problems.append(f"{where}: needs [low, high]")
            continue
        bad = [p for v in bounds if (p := value_problem(name, float, v))]
        problems += [f"{where}: bound {p}" for p in bad]
        if not bad and not bounds[0] < bounds[1]:
            problems.append(f"{where}: low must be below high")
    return problems


def _check_names(source: str, spec: Spec) -> list[str]:
    """Every statistic the file names must be known (one line each, with a suggestion)."""
    named = [("study.statistic", spec.study.statistic)]
    named += [("study.report", n) for n in spec.study.report]
    if spec.manipulation is not None:
        named.append(("manipulation.latent", spec.manipulation.latent))
    return [
        f"{source}: {key} = {name!r}: unknown statistic"
        f"{suggest(name, registry.known())} (`trustsim study --list-statistics`)"
        for key, name in named
        if name not in registry.known()
    ]


def _check_dose(source: str, spec: Spec, base: dict[str, Any]) -> tuple[tuple, list[str]]:
    """The base scenario at each dose level (problems name the file and the key)."""
    from trustsim.params import iter_fields

    dose = spec.dose
    if dose is None:
        return (), []
    fields = {f"{s}.{k}": f for s, k, f in iter_fields()}
    where = f"{source}: dose.parameter = {dose.parameter!r}"
    if dose.parameter not in fields:
        return (), [f"{where}: {no_such_parameter(dose.parameter, list(fields))}"]
    kind = fields[dose.parameter].annotation
    if kind not in (int, float) or dose.parameter in NOT_SETTABLE:
        return (), [f"{where}: only a numeric parameter can be dosed"]
    if len(set(dose.levels)) != len(dose.levels):
        return (), [f"{source}: dose.levels: the levels must be distinct"]
    levels = [int(v) if kind is int and float(v).is_integer() else v for v in dose.levels]
    bad = [p for v in levels if (p := value_problem(dose.parameter, kind, v))]
    if bad:
        return (), [f"{source}: dose.levels: {p}" for p in bad]
    out, problems = [], []
    for v in levels:
        data, found = _arm(source, "dose", base, [f"{dose.parameter}={v}"])
        out.append(data)
        problems += found
    return tuple(out), problems


def parse(path: Path, text: str, data: dict[str, Any]) -> Study:
    """Validate parsed TOML into a Study (every problem at once where possible)."""
    source = str(path)
    spec = validate_spec(Spec, data, source, "a study")
    meta, problems = spec.study, _check_names(source, spec)
    if meta.classification not in (*CLASSIFICATIONS, "unclassified"):
        problems.append(
            f"{source}: study.classification = {meta.classification!r} is not allowed: must be "
            + ", ".join(CLASSIFICATIONS)
        )
    try:
        base = base_scenario(path, spec.base)
    except ScenarioError as exc:
        raise ScenarioError(problems + exc.problems) from None
    bdata = base.model_dump()
    control, p1 = _arm(source, "control", bdata, spec.control.set)
    treatment, p2 = _arm(source, "treatment", bdata, spec.treatment.set)
    problems += p1 + p2
    ablation = None
    if spec.ablation is not None:
        a_c, p3 = _arm(source, "ablation", control, spec.ablation.set)
        a_t, _ = _arm(source, "ablation", treatment, spec.ablation.set)
        problems += p3
        if not p3 and flat(validate(a_c, source)) == flat(validate(control, source)):
            problems.append(f"{source}: ablation.set changes nothing in the control arm")
        ablation = (a_c, a_t)
    if not p1 + p2 and flat(validate(control, source)) == flat(validate(treatment, source)):
        problems.append(
            f"{source}: [control] and [treatment] give the same scenario: the arms must differ"
        )
    problems += _check_robustness(source, spec)
    doses, p4 = _check_dose(source, spec, bdata)
    problems += p4
    if problems:
        raise ScenarioError(problems)
    study = Study(path, text, spec, base, control, treatment, ablation, doses)
    if problem := too_many(study, study.sizes()):
        raise ScenarioError([problem])
    return study


def too_many(study: Study, sizes: Sizes) -> str | None:
    """Why this study would make an absurd number of runs (None: it would not)."""
    n = study.n_runs(sizes)
    if n <= MAX_RUNS_PER_STUDY:
        return None
    return (
        f"{study.path}: runs.replicates / robustness: {n} runs is more than the limit of "
        f"{MAX_RUNS_PER_STUDY} per study; use fewer replicates or samples"
    )


def resolve_study(name: str | Path) -> Path:
    """A path as given, or a shipped study by name."""
    return resolve_path(name, STUDY_DIR)


def load_study(name: str | Path) -> Study:
    path = resolve_study(name)
    if not path.exists() and path.parent == STUDY_DIR:
        shipped = shipped_ids()
        raise ScenarioError(
            [f"{name}: no such study{suggest(str(name), shipped)} (shipped: {', '.join(shipped)})"]
        )
    data = read_toml(path, what="study")
    return parse(path, path.read_text(encoding="utf-8"), data)


def shipped_ids() -> list[str]:
    return sorted(p.stem for p in STUDY_DIR.glob("*.toml"))


def load_studies(
    names: list[str], quick: bool = False, replicates: int | None = None
) -> list[Study]:
    """Load every study (all shipped ones when ``names`` is empty); collect all problems."""
    if replicates is not None and not 2 <= replicates <= MAX_REPLICATES:
        raise ScenarioError([f"--replicates {replicates}: must be in [2, {MAX_REPLICATES}]"])
    studies, problems = [], []
    for name in names or shipped_ids():
        try:
            study = load_study(name)
        except ScenarioError as exc:
            problems += exc.problems
            continue
        if problem := too_many(study, study.sizes(quick, replicates)):
            problems.append(problem)
        studies.append(study)
    ids = [s.id for s in studies]
    problems += [
        f"{s.path}: study.id = {s.id!r} is used by another study too"
        for s in studies
        if ids.count(s.id) > 1
    ]
    if problems:
        raise ScenarioError(problems)
    return studies
