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
    [lesson.predict]                            # optional: predict, observe, explain
    metric = "insider_share"                    # what the run is read on (`trustsim metrics`)
    step = 60                                   # at which step (at most run.steps)
    edges = [0.2, 0.4]                          # optional: choose a range; without, a number
    [lesson.predict.en]                         # and [lesson.predict.zh]
    question = "..."                            # asked before the run
    explain = "..."                             # asked beside the outcome
    choices = ["...", "...", "..."]             # optional: a name per range
    [culture]                                   # scenario tables, as in any scenario file
    ring_gradient = 0.8
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

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


class PredictText(BaseModel):
    """The prediction's words in one language: the question before the run, the prompt to
    explain beside the outcome, and optionally a name for each range of ``edges``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    question: str = Field(min_length=1)
    explain: str = Field(min_length=1)
    choices: list[str] | None = None


class LessonPredict(BaseModel):
    """The ``[lesson.predict]`` table: what the class predicts, read from the run at ``step``.

    With ``edges`` the class chooses one of the ranges they cut (below the first edge,
    between two, from the last one up); without, it gives a number."""

    model_config = ConfigDict(extra="forbid", strict=True)

    metric: str
    step: int = Field(ge=1)
    edges: list[float] = Field(default_factory=list)
    zh: PredictText
    en: PredictText

    @field_validator("metric")
    @classmethod
    def _metric(cls, name: str) -> str:
        if name not in METRICS[1:]:
            raise ValueError(f"{name}: no such metric (`trustsim metrics` lists them)")
        return name

    @field_validator("edges")
    @classmethod
    def _increasing(cls, edges: list[float]) -> list[float]:
        if any(b <= a for a, b in zip(edges, edges[1:])):
            raise ValueError("edges must increase")
        return edges

    @model_validator(mode="after")
    def _one_name_per_range(self) -> LessonPredict:
        for lang in LANGS:
            names = getattr(self, lang).choices
            if names is None:
                continue
            key = f"lesson.predict.{lang}.choices"
            if not self.edges:
                raise ValueError(f"{key} names ranges, but lesson.predict has no edges")
            if len(names) != len(self.edges) + 1:
                raise ValueError(
                    f"{key} has {len(names)} names for {len(self.edges) + 1} ranges "
                    f"(one more than lesson.predict.edges)"
                )
        return self

    @property
    def is_choice(self) -> bool:
        return bool(self.edges)

    def text(self, lang: str) -> PredictText:
        return getattr(self, lang)


class LessonInfo(BaseModel):
    """The ``[lesson]`` table."""

    model_config = ConfigDict(extra="forbid", strict=True)

    order: int = Field(ge=1)
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    base: str | None = None
    customer: int = Field(0, ge=0)
    try_set: list[str] = Field(min_length=1)
    plot: list[str] = Field(default_factory=list)
    predict: LessonPredict | None = None
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


def _table_model(loc: list[str]) -> type[BaseModel]:
    """The model of the table that holds the key at ``loc`` (e.g. predict.zh.colour)."""
    model: type[BaseModel] = LessonInfo
    for part in loc[:-1]:
        field = model.model_fields.get(part)
        kinds = getattr(field.annotation, "__args__", (field.annotation,)) if field else ()
        nested = [k for k in kinds if isinstance(k, type) and issubclass(k, BaseModel)]
        if not nested:
            break
        model = nested[0]
    return model


def _explain(source: str, err: dict[str, Any]) -> str:
    """One line for one pydantic error in the [lesson] table."""
    loc = [str(x) for x in err["loc"]]
    key = "lesson." + ".".join("try" if x == "try_" else x for x in loc)
    if err["type"] == "extra_forbidden":
        model = _table_model(loc)
        allowed = [f.alias or name for name, f in model.model_fields.items()]
        hint = suggest(loc[-1], allowed)
        return f"{source}: unknown key '{key}'{hint} (allowed: {', '.join(allowed)})"
    if err["type"] == "missing":
        needs = "a [lesson.predict] table" if loc[0] == "predict" else "every lesson"
        return f"{source}: {key} is missing ({needs} needs it)"
    if isinstance(err.get("input"), dict):  # a check across a table's keys names them itself
        return f"{source}: {err['msg'].removeprefix('Value error, ')}"
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
    predict = info.predict
    if scenario is not None and predict is not None and predict.step > scenario.run.steps:
        problems.append(
            f"{source}: lesson.predict.step = {predict.step} is not allowed: must be a step "
            f"of the run, in [1, {scenario.run.steps}] (run.steps)"
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
    "LessonPredict",
    "LessonText",
    "all_lessons",
    "find_lesson",
    "lesson_paths",
    "load_lesson",
]
