"""Experiment files (``scenarios/experiments/*.toml``): a base scenario, a design over named
parameters, replicates, the metrics to keep and a master seed.

Loading checks everything a sweep will need before any run starts, and reports every
problem as one line naming the experiment file, the key and what is allowed, the way
:mod:`trustsim.loader` does for scenarios.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

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
from trustsim.metrics import METRICS
from trustsim.params import Scenario, describe, field_range, iter_fields

EXPERIMENT_DIR = SCENARIO_DIR / "experiments"
METHODS = ("grid", "lhs", "sobol", "morris")
SAMPLED = ("lhs", "sobol", "morris")
KEPT_METRICS = METRICS[1:]  # every metric but the step counter
FIXED = {
    "run.seed": "every run's seed comes from runs.master_seed",
    "run.history": "sweeps keep metrics, not event logs",
}


def _allowed(text: str, default: Any = ..., **limits: Any) -> Any:
    """A field whose description is what is allowed, quoted in error messages."""
    return Field(default, description=text, **limits)


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Base(_Table):
    scenario: str = _allowed(
        "a shipped scenario name or a TOML path relative to the experiment file", "baseline"
    )
    set: list[str] = _allowed('a list of "section.key=value" strings', [])


class Design(_Table):
    method: Literal["grid", "lhs", "sobol", "morris"] = _allowed("one of " + ", ".join(METHODS))
    parameters: dict[str, Any] = _allowed('a table of "section.key" = values (grid) or [low, high]')
    samples: int = _allowed(
        "an integer >= 1 (lhs: points; sobol: base samples, a power of 2; morris: trajectories)",
        0,
        ge=1,
    )
    levels: int = _allowed("an even integer in [2, 100] (morris grid levels)", 4, ge=2, le=100)
    second_order: bool = _allowed("true or false (sobol: also second-order indices)", False)


class Runs(_Table):
    replicates: int = _allowed("an integer in [1, 1000000]", 1, ge=1, le=1_000_000)
    master_seed: int = _allowed("an integer in [0, 2**63 - 1]", 1, ge=0, le=2**63 - 1)
    common_seeds: bool = _allowed(
        "true or false (true: replicate r has the same seed at every point)", False
    )


class Output(_Table):
    metrics: list[str] = _allowed(
        "a list of metric names (`trustsim metrics` lists them)", list(KEPT_METRICS)
    )
    window: int = _allowed("an integer >= 1 (mean over this many final steps)", 1, ge=1)
    timeseries_every: int = _allowed(
        "an integer >= 0 (0: no time series; k: every k-th step)", 0, ge=0
    )


class Spec(_Table):
    base: Base = Field(default_factory=Base)
    design: Design = _allowed("a [design] table with method and parameters")
    runs: Runs = Field(default_factory=Runs)
    output: Output = Field(default_factory=Output)


@dataclass(frozen=True)
class Parameter:
    """One varied parameter: its ``section.key`` name, type and the values or range given."""

    name: str
    kind: type
    given: tuple[Any, ...]

    @property
    def bounds(self) -> tuple[float, float]:
        return float(self.given[0]), float(self.given[1])

    @property
    def dtype(self) -> Any:
        """The column type of this parameter in a run table (words are strings)."""
        return COLUMN_TYPES.get(self.kind, object)


COLUMN_TYPES = {int: np.int64, float: np.float64, bool: np.bool_}


@dataclass(frozen=True)
class Experiment:
    """A validated experiment file, with the resolved base scenario."""

    path: Path
    text: str
    spec: Spec
    base: Scenario
    parameters: tuple[Parameter, ...]
    # A study's sweep lists its runs itself (arms x replicates, seeds chosen per study)
    # instead of a design method; rows are (point_id, replicate, seed, {name: value}).
    runs_table: tuple[tuple[int, int, int, dict[str, Any]], ...] | None = None
    # Named statistics (trustsim.analysis.measures.statistics) computed in the worker, per point.
    statistics: tuple[tuple[int, tuple[str, ...]], ...] = ()

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    @property
    def method(self) -> str:
        return self.spec.design.method

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self.spec.output.metrics)

    @property
    def sha256(self) -> str:
        """Hash of the file and of the base scenario it resolves to: a sweep folder belongs to it."""
        digest = hashlib.sha256(self.text.encode())
        digest.update(json.dumps(self.base.model_dump(), sort_keys=True).encode())
        return digest.hexdigest()


# ----------------------------------------------------------------------------- errors


# ----------------------------------------------------------------------------- checks


def schema_fields() -> dict[str, Any]:
    return {f"{s}.{k}": f for s, k, f in iter_fields()}


def _flatten(parameters: dict[str, Any]) -> dict[str, Any]:
    """Accept both ``"culture.ring_gradient" = ...`` and bare ``culture.ring_gradient = ...``
    (which TOML nests as a table)."""
    out: dict[str, Any] = {}
    for key, value in parameters.items():
        if isinstance(value, dict):
            out.update({f"{key}.{sub}": v for sub, v in value.items()})
        else:
            out[key] = value
    return out


def value_problem(name: str, kind: type, value: Any) -> str | None:
    """Why ``value`` is not allowed for parameter ``name`` (None: allowed)."""
    section, key = name.split(".")
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind not in (int, float):  # a word-valued parameter
        ok = isinstance(value, str) and value in get_args(kind)
    else:
        whole = isinstance(value, int) and not isinstance(value, bool)
        ok = whole or (kind is float and isinstance(value, float))
        lo, hi = field_range(schema_fields()[name])
        ok = ok and (lo is None or value >= lo) and (hi is None or value <= hi)
    return None if ok else f"{value!r} is not allowed: must be {describe(section, key)}"


def _check_parameter(
    source: str, design: Design, name: str, given: Any
) -> tuple[Parameter | None, list[str]]:
    fields = schema_fields()
    where = f"{source}: design.parameters.'{name}'"
    if name not in fields:
        return None, [f"{where}: {no_such_parameter(name, list(fields))}"]
    if name in FIXED:
        return None, [f"{where}: cannot be varied: {FIXED[name]}"]
    kind = fields[name].annotation
    if design.method == "grid":
        if not isinstance(given, list) or not given:
            return None, [f"{where}: a grid needs a non-empty list of values, e.g. [0.2, 0.5, 0.8]"]
        problems = [f"{where}: value {p}" for v in given if (p := value_problem(name, kind, v))]
        if len(set(map(repr, given))) < len(given):
            problems.append(f"{where}: values repeat; each grid value must be given once")
        values = tuple(float(v) if kind is float else v for v in given)
        return Parameter(name, kind, values), problems
    if kind is bool:
        return None, [f"{where}: a switch can only be varied in a grid design ([true, false])"]
    if kind not in (int, float):
        return None, [f"{where}: a word-valued parameter can only be varied in a grid design"]
    if not (isinstance(given, list) and len(given) == 2):
        return None, [
            f"{where}: a {design.method} design needs a range [low, high] "
            f"(the parameter is {describe(*name.split('.'))})"
        ]
    problems = [f"{where}: bound {p}" for v in given if (p := value_problem(name, float, v))]
    if not problems and not given[0] < given[1]:
        problems.append(f"{where}: [{given[0]}, {given[1]}] is not allowed: low must be below high")
    return Parameter(name, kind, tuple(float(v) for v in given)), problems


def _check_design(source: str, design: Design) -> list[str]:
    problems = []
    given = design.model_fields_set
    if design.method == "grid":
        problems += [
            f"{source}: design.{k} is not used by a grid design (only by {', '.join(SAMPLED)})"
            for k in ("samples",)
            if k in given
        ]
    elif "samples" not in given:
        problems.append(
            f"{source}: design.samples is missing: a {design.method} design needs "
            f"{Design.model_fields['samples'].description}"
        )
    if design.method == "sobol" and "samples" in given and design.samples & (design.samples - 1):
        problems.append(
            f"{source}: design.samples = {design.samples} is not allowed: a sobol design "
            f"needs a power of 2 (e.g. {1 << design.samples.bit_length()})"
        )
    if design.method == "morris":
        if "samples" in given and design.samples < 2:
            problems.append(
                f"{source}: design.samples = {design.samples} is not allowed: "
                f"morris needs at least 2 trajectories"
            )
        if design.levels % 2:
            problems.append(
                f"{source}: design.levels = {design.levels} is not allowed: "
                f"must be {Design.model_fields['levels'].description}"
            )
    elif "levels" in given:
        problems.append(f"{source}: design.levels is only used by a morris design")
    if design.method != "sobol" and "second_order" in given:
        problems.append(f"{source}: design.second_order is only used by a sobol design")
    if not design.parameters:
        problems.append(
            f"{source}: design.parameters is empty: name at least one parameter, "
            f'e.g. "culture.ring_gradient" = [0.2, 0.8]'
        )
    return problems


def _check_metrics(source: str, output: Output) -> list[str]:
    problems = [
        f"{source}: output.metrics: unknown metric '{m}'{suggest(m, list(KEPT_METRICS))} "
        f"(`trustsim metrics` lists them)"
        for m in output.metrics
        if m not in KEPT_METRICS
    ]
    if not output.metrics:
        problems.append(f"{source}: output.metrics is empty: keep at least one metric")
    if len(set(output.metrics)) < len(output.metrics):
        problems.append(f"{source}: output.metrics lists a metric twice")
    return problems


def base_scenario(path: Path, base: Base) -> Scenario:
    """The base scenario: a shipped name, or a path relative to the experiment file."""
    name = base.scenario
    looks_like_path = "/" in name or name.endswith(".toml")
    scenario_path = (
        (path.parent / name)
        if looks_like_path and not Path(name).is_absolute()
        else (Path(name) if looks_like_path else resolve_path(name))
    )
    if not looks_like_path and not scenario_path.exists():
        shipped = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
        raise ScenarioError(
            [
                f"{path}: base.scenario = {name!r}: no such shipped scenario"
                f"{suggest(name, shipped)} (shipped: {', '.join(shipped)}; or give a "
                f"path relative to the experiment file)"
            ]
        )
    try:
        data = read_toml(scenario_path)
    except ScenarioError as exc:
        raise ScenarioError([f"{path}: base.scenario: {p}" for p in exc.problems]) from None
    data, problems = apply_overrides(data, base.set)
    problems = [f"{path}: base.set: {p}" for p in problems]
    try:
        scenario = validate(data, f"{path}: base scenario {scenario_path}")
    except ScenarioError as exc:
        raise ScenarioError(problems + exc.problems) from None
    if problems:
        raise ScenarioError(problems)
    return scenario


# ----------------------------------------------------------------------------- loading


def resolve_experiment(name: str | Path) -> Path:
    """A path as given, or a shipped experiment by name."""
    return resolve_path(name, EXPERIMENT_DIR)


def parse(path: Path, text: str, data: dict[str, Any]) -> Experiment:
    """Validate parsed TOML data into an Experiment (every problem at once where possible)."""
    source = str(path)
    spec = validate_spec(Spec, data, source, "an experiment")
    problems = _check_design(source, spec.design) + _check_metrics(source, spec.output)
    parameters = []
    for name, given in _flatten(spec.design.parameters).items():
        param, found = _check_parameter(source, spec.design, name, given)
        problems += found
        if param is not None:
            parameters.append(param)
    try:
        base = base_scenario(path, spec.base)
    except ScenarioError as exc:
        problems += exc.problems
    if problems:
        raise ScenarioError(problems)
    return Experiment(path, text, spec, base, tuple(parameters))
