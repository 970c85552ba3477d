"""Targets files (``scenarios/targets/*.toml``): what to fit, to what, and from where.

A targets file names a base scenario (as experiment files do), uniform priors over free
parameters, and the published patterns to fit: each a statistic of the registry
(:mod:`trustsim.analysis.measures.statistics`), its observed value, its uncertainty ``sd`` and the
source. Loading checks everything before any run starts and reports every problem as one
line naming the file and the key, like scenarios and experiments.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from trustsim.analysis.measures import statistics as S
from trustsim.analysis.sweep.experiment import FIXED, Base, base_scenario, schema_fields
from trustsim.errors import ScenarioError, warn
from trustsim.loader import (
    SCENARIO_DIR,
    no_such_parameter,
    read_toml,
    resolve_path,
    suggest,
    validate_spec,
)
from trustsim.params import Scenario, describe, field_range

TARGETS_DIR = SCENARIO_DIR / "targets"
MAX_BUDGET = 10_000_000  # model runs; beyond this a typo is likelier than a plan


def _allowed(text: str, default: Any = ..., **limits: Any) -> Any:
    return Field(default, description=text, **limits)


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Settings(_Table):
    id: str = _allowed(
        "a short name for the calibration (letters, digits, _ and -)", pattern=r"^[\w-]+$"
    )
    scenario: str = _allowed(
        "a shipped scenario name or a TOML path relative to the targets file", "baseline"
    )
    set: list[str] = _allowed('a list of "section.key=value" strings', [])
    replicates: int = _allowed(
        "an integer in [1, 1000] (runs per parameter draw)", 4, ge=1, le=1000
    )
    master_seed: int = _allowed("an integer in [0, 2**62]", 1, ge=0, le=2**62)
    window: int = _allowed("an integer >= 1 (steps a metric is averaged over)", 20, ge=1)
    population_size: int = _allowed(
        "an integer in [4, 100000] (particles per ABC-SMC generation)", 100, ge=4, le=100_000
    )
    budget: int = _allowed("an integer >= 1 (model runs of a full calibration)", 20_000, ge=1)
    quick_population_size: int = _allowed(
        "an integer in [4, 100000] (particles per generation with --quick)", 24, ge=4, le=100_000
    )
    quick_budget: int = _allowed("an integer >= 1 (model runs with --quick)", 600, ge=1)
    max_replicates: int | None = _allowed(
        "an integer in [1, 1000] (most runs per parameter draw when the prior check asks "
        "for more than `replicates`; unset: `replicates` always)",
        None,
        ge=1,
        le=1000,
    )
    prior_check_draws: int = _allowed(
        "an integer in [5, 10000] (single runs across the prior in the prior check; a "
        "third as many, at least 8, at the prior's midpoint)",
        60,
        ge=5,
        le=10_000,
    )
    prior_check_search: int = _allowed(
        "an integer in [0, 1000] (generations of the prior check's search for the best "
        "reachable fit; 0: its first candidates only)",
        8,
        ge=0,
        le=1000,
    )
    minimum_epsilon: float | int = _allowed(
        "a number >= 0 (the calibration stops once a generation's tolerance, in sd units, "
        "is at most this; 0: no such stop)",
        0.0,
        ge=0,
    )
    min_acceptance_rate: float | int = _allowed(
        "a number in [0, 1) (the calibration stops when a generation would accept fewer "
        "than this share of its draws; 0: no such stop)",
        0.0,
        ge=0,
        lt=1,
    )
    predictive_draws: int = _allowed(
        "an integer in [2, 10000] (posterior draws of the predictive check)", 16, ge=2, le=10_000
    )
    transition_scaling: float | int = _allowed(
        "a number in (0, 10] (width of pyabc's multivariate normal proposal kernel, as a "
        "multiple of Silverman's rule; wider keeps more particles effective)",
        2.0,
        gt=0,
        le=10,
    )


class Target(_Table):
    name: str = _allowed("a short unique name")
    statistic: str = _allowed("a statistic or metric name (`trustsim calibrate --list-statistics`)")
    observed: float | int = _allowed("a number: the published value")
    sd: float | int = _allowed("a number > 0: its uncertainty or a justified tolerance")
    source: str = _allowed("the citation of the published value")
    note: str = _allowed("free text: how the statistic maps to the published figure", "")


class Spec(_Table):
    calibration: Settings = _allowed("a [calibration] table with id, scenario, replicates ...")
    priors: dict[str, Any] = _allowed('a table of "section.key" = [low, high]')
    targets: list[Target] = _allowed("[[targets]] tables", [])


@dataclass(frozen=True)
class Prior:
    """A uniform prior over one float parameter."""

    name: str
    low: float
    high: float

    @property
    def key(self) -> str:
        """The parameter's name as pyabc stores it (no dots in its database columns)."""
        return self.name.replace(".", "__")


@dataclass(frozen=True)
class Targets:
    """A validated targets file with its resolved base scenario."""

    path: Path
    text: str
    settings: Settings
    base: Scenario
    priors: tuple[Prior, ...]
    targets: tuple[Target, ...]

    @property
    def statistics(self) -> list[str]:
        return [t.statistic for t in self.targets]

    @property
    def needs_events(self) -> bool:
        return S.needs_events(self.statistics)

    @property
    def sha256(self) -> str:
        """Hash of the file, its settings with the defaults they resolve to (a changed
        default, such as the proposal kernel's width, is another method) and the base
        scenario: a calibration folder belongs to one such hash."""
        digest = hashlib.sha256(self.text.encode())
        digest.update(json.dumps(self.settings.model_dump(), sort_keys=True).encode())
        digest.update(json.dumps(self.base.model_dump(), sort_keys=True).encode())
        return digest.hexdigest()


def _check_prior(source: str, name: str, given: Any) -> tuple[Prior | None, list[str]]:
    fields = schema_fields()
    where = f"{source}: priors.'{name}'"
    if name not in fields:
        return None, [f"{where}: {no_such_parameter(name, list(fields))}"]
    if name in FIXED or name == "run.steps":
        return None, [f"{where}: cannot be calibrated (set it in [calibration] set)"]
    if fields[name].annotation is not float:
        return None, [
            f"{where}: only float parameters can have a prior ({name} is "
            f"{fields[name].annotation.__name__}; fix it with [calibration] set)"
        ]
    numbers = isinstance(given, list) and len(given) == 2
    numbers = numbers and all(isinstance(v, int | float) and not isinstance(v, bool) for v in given)
    if not numbers:
        return None, [f"{where}: a prior is a range [low, high] of two numbers"]
    lo, hi = field_range(fields[name])
    problems = [
        f"{where}: bound {v!r} is outside the schema's range: must be {describe(*name.split('.'))}"
        for v in given
        if (lo is not None and v < lo) or (hi is not None and v > hi)
    ]
    if not problems and not given[0] < given[1]:
        problems.append(f"{where}: [{given[0]}, {given[1]}]: low must be below high")
    return Prior(name, float(given[0]), float(given[1])), problems


def _check_targets(source: str, targets: list[Target]) -> list[str]:
    if not targets:
        return [
            f"{source}: targets: no [[targets]] table: name at least one pattern to fit "
            f"(name, statistic, observed, sd, source)"
        ]
    problems = []
    names = S.known()
    for i, t in enumerate(targets, start=1):
        where = f"{source}: targets[{i}] ({t.name})"
        try:
            S.lookup(t.statistic)
        except KeyError:
            problems.append(
                f"{where}.statistic = {t.statistic!r}: no such statistic"
                f"{suggest(t.statistic, names)} (`trustsim calibrate --list-statistics`)"
            )
        if not math.isfinite(t.sd) or t.sd <= 0:
            problems.append(f"{where}.sd = {t.sd!r} is not allowed: must be a number > 0")
        if not math.isfinite(t.observed):
            problems.append(f"{where}.observed = {t.observed!r} is not allowed: must be finite")
    seen = [t.name for t in targets]
    problems += [
        f"{source}: targets: name {n!r} is used twice"
        for n in sorted(set(seen))
        if seen.count(n) > 1
    ]
    return problems


def parse(path: Path, text: str, data: dict[str, Any]) -> Targets:
    source = str(path)
    spec = validate_spec(Spec, data, source, "a targets file")
    problems = _check_targets(source, spec.targets)
    priors = []
    if not spec.priors:
        problems.append(f'{source}: priors is empty: give at least one "section.key" = [low, high]')
    for name, given in spec.priors.items():
        prior, found = _check_prior(source, name, given)
        problems += found
        if prior is not None:
            priors.append(prior)
    settings = spec.calibration
    base = None
    try:
        base = base_scenario(path, Base(scenario=settings.scenario, set=settings.set))
    except ScenarioError as exc:
        problems += [p.replace("base.", "calibration.") for p in exc.problems]
    if problems:
        raise ScenarioError(problems)
    _warn_conflicts(source, settings, base, priors)
    return Targets(path, text, settings, base, tuple(priors), tuple(spec.targets))


def _warn_conflicts(source: str, settings: Settings, base: Scenario, priors: list[Prior]) -> None:
    """Inputs that are allowed together but whose outcome a user may not expect."""
    fixed = {item.split("=", 1)[0].strip() for item in settings.set}
    for prior in priors:
        if prior.name in fixed:
            warn(
                f"{source}: priors.'{prior.name}' and calibration.set both give "
                f"{prior.name}: the prior wins (each draw sets it); remove one of them"
            )
    if settings.window > base.run.steps:
        warn(
            f"{source}: calibration.window = {settings.window} is longer than the run "
            f"({base.run.steps} steps): the statistics average over the whole run"
        )


def resolve_targets(name: str | Path) -> Path:
    """A path as given, or a shipped targets file by name."""
    return resolve_path(name, TARGETS_DIR)


def load_targets(name: str | Path) -> Targets:
    path = resolve_targets(name)
    data = read_toml(path, what="targets")
    return parse(path, path.read_text(encoding="utf-8"), data)
