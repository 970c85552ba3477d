"""Classroom lessons: a scenario plus a short text in Chinese and English.

A lesson is a TOML file in ``scenarios/lessons/``. Its ``[lesson]`` table holds the
texts and the "try this" change; everything else is an ordinary scenario (optionally on
top of a shipped ``base`` scenario), read and checked by :mod:`trustsim.loader`, so a lesson
can only choose parameters and scheduled events that the schema already has.

    [lesson]
    order = 1
    id = "repeated_trades"
    base = "classroom"                          # optional: start from a shipped scenario
    customer = 12                               # whose rings the ring view shows
    plot = ["switches"]                         # optional: metrics this lesson is about
    try_set = ["rings.insider_min_trades=8"]    # the "try this" change, as --set strings
    [lesson.en]                                 # and [lesson.zh]: title, watch, question, try
    title = "..."
    [culture]                                   # scenario tables, as in any scenario file
    ring_gradient = 0.8
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from trustsim.loader import (
    SCENARIO_DIR,
    ScenarioError,
    apply_overrides,
    read_toml,
    resolve_path,
    suggest,
    validate,
)
from trustsim.metrics import METRICS
from trustsim.params import Scenario

LESSON_DIR = SCENARIO_DIR / "lessons"
LANGS = ("zh", "en")


class LessonText(BaseModel):
    """What a class reads: the title, what to watch, a question, and a change to try."""

    model_config = ConfigDict(extra="forbid", strict=True)

    title: str = Field(min_length=1)
    watch: str = Field(min_length=1)
    question: str = Field(min_length=1)
    try_: str = Field(min_length=1, alias="try")


class LessonInfo(BaseModel):
    """The ``[lesson]`` table."""

    model_config = ConfigDict(extra="forbid", strict=True)

    order: int = Field(ge=1)
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    base: str | None = None
    customer: int = Field(0, ge=0)
    try_set: list[str] = Field(min_length=1)
    plot: list[str] = Field(default_factory=list)
    zh: LessonText
    en: LessonText

    @field_validator("plot")
    @classmethod
    def _metrics(cls, names: list[str]) -> list[str]:
        bad = [n for n in names if n not in METRICS[1:]]
        if bad:
            raise ValueError(f"{', '.join(bad)}: no such metric (`trustsim metrics` lists them)")
        return names


class Lesson:
    """A validated lesson: its info, its scenario and the scenario with "try this" applied."""

    def __init__(
        self,
        path: Path,
        info: LessonInfo,
        data: dict[str, Any],
        scenario: Scenario,
        tried: Scenario,
    ):
        self.path, self.info, self.data = path, info, data
        self.scenario, self.tried = scenario, tried

    @property
    def id(self) -> str:
        return self.info.id

    def text(self, lang: str) -> LessonText:
        return getattr(self.info, lang)

    def __repr__(self) -> str:
        return f"Lesson({self.info.order}, {self.id!r})"


def _explain(source: str, err: dict[str, Any]) -> str:
    """One line for one pydantic error in the [lesson] table."""
    loc = [str(x) for x in err["loc"]]
    key = "lesson." + ".".join("try" if x == "try_" else x for x in loc)
    if err["type"] == "extra_forbidden":
        model = LessonText if len(loc) > 1 else LessonInfo
        allowed = [f.alias or name for name, f in model.model_fields.items()]
        hint = suggest(loc[-1], allowed)
        return f"{source}: unknown key '{key}'{hint} (allowed: {', '.join(allowed)})"
    if err["type"] == "missing":
        return f"{source}: {key} is missing (every lesson needs it)"
    return f"{source}: {key} = {err.get('input')!r} is not allowed: {err['msg']}"


def _info(source: str, table: Any) -> LessonInfo:
    if not isinstance(table, dict):
        raise ScenarioError(
            [
                f"{source}: a lesson needs a [lesson] table (order, id, try_set, "
                f"[lesson.zh] and [lesson.en] with title, watch, question, try)"
            ]
        )
    try:
        return LessonInfo.model_validate(table)
    except ValidationError as exc:
        raise ScenarioError([_explain(source, e) for e in exc.errors()]) from None


def _scenario_data(source: str, info: LessonInfo, own: dict[str, Any]) -> dict[str, Any]:
    """The base scenario's tables with the lesson's own tables laid over them."""
    if info.base is None:
        return own
    base_path = resolve_path(info.base)
    if base_path.parent.resolve() != SCENARIO_DIR.resolve() or not base_path.is_file():
        names = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
        raise ScenarioError(
            [
                f"{source}: lesson.base = {info.base!r} is not a shipped scenario "
                f"(allowed: {', '.join(names)})"
            ]
        )
    data = read_toml(base_path)
    for section, table in own.items():
        merged = data.get(section, {})
        data[section] = {**merged, **table} if isinstance(table, dict) else table
    return data


def load_lesson(path: str | Path) -> Lesson:
    """Read and check a lesson file; every problem is one line naming the file and key."""
    path = Path(path)
    source = str(path)
    raw = read_toml(path, "lesson")
    info = _info(source, raw.pop("lesson", None))
    data = _scenario_data(source, info, raw)
    problems: list[str] = []
    scenario = tried = None
    try:
        scenario = validate(data, source)
    except ScenarioError as exc:
        problems += exc.problems
    tried_data, bad = apply_overrides(data, info.try_set)
    problems += [f"{source}: lesson.try_set: {line}" for line in bad]
    if not bad:
        try:
            tried = validate(tried_data, f"{source} with lesson.try_set")
        except ScenarioError as exc:
            problems += exc.problems
    if scenario is not None and info.customer >= scenario.population.n_customers:
        problems.append(
            f"{source}: lesson.customer = {info.customer} is not allowed: must be "
            f"a customer id in [0, {scenario.population.n_customers - 1}]"
        )
    if problems:
        raise ScenarioError(problems)
    return Lesson(path, info, data, scenario, tried)  # type: ignore[arg-type]


def lesson_paths(folder: Path = LESSON_DIR) -> list[Path]:
    return sorted(folder.glob("*.toml"))


def all_lessons(folder: Path = LESSON_DIR) -> list[Lesson]:
    """Every lesson in ``folder``, in teaching order; checks that orders and ids are unique."""
    lessons, problems = [], []
    for path in lesson_paths(folder):
        try:
            lessons.append(load_lesson(path))
        except ScenarioError as exc:
            problems += exc.problems
    for attr in ("order", "id"):
        seen: dict[Any, Path] = {}
        for lesson in lessons:
            value = getattr(lesson.info, attr)
            if value in seen:
                problems.append(
                    f"{lesson.path}: lesson.{attr} = {value!r} is already used by {seen[value]}"
                )
            seen[value] = lesson.path
    if problems:
        raise ScenarioError(problems)
    return sorted(lessons, key=lambda lesson: lesson.info.order)


def find_lesson(name: str | Path) -> Lesson | None:
    """A lesson by id (``breach_way_back``), file stem or path; None if ``name`` is no lesson."""
    path = Path(name)
    if path.suffix == ".toml":
        if not path.is_file():
            return None  # not ours to explain: the scenario loader names the missing file
        return load_lesson(path) if "lesson" in read_toml(path) else None
    for lesson in all_lessons():
        if str(name) in (lesson.id, lesson.path.stem):
            return lesson
    return None


__all__ = [
    "LANGS",
    "LESSON_DIR",
    "Lesson",
    "LessonInfo",
    "LessonText",
    "all_lessons",
    "find_lesson",
    "lesson_paths",
    "load_lesson",
]
