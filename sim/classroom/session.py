"""One classroom session without any UI: what is chosen, the control values, the model.

The Solara page (:mod:`trustsim.classroom.app`) is a thin view over :class:`Session`, so everything a
button does can be tested without a browser. Controls are generated from the parameter
schema; :data:`CONTROLS` only names which ``section.key`` a class sees by default (plus
every key the open lesson changes).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trustsim.classroom import predict as pred
from trustsim.classroom.lessons import Lesson, all_lessons
from trustsim.classroom.ringview import network_layout
from trustsim.classroom.text import param_label, text
from trustsim.loader import (
    SCENARIO_DIR,
    ScenarioError,
    apply_overrides,
    load_scenario,
    read_toml,
    validate,
)
from trustsim.mesa_model.model import TrustModel
from trustsim.params import Scenario, choices_of, field_range, flat, iter_fields

# Parameters a class sees for every scenario (a curated subset of the schema).
CONTROLS = (
    "population.n_customers",
    "population.n_salespeople",
    "population.purchase_rate",
    "culture.ring_gradient",
    "culture.insider_loyalty",
    "salespeople.integrity",
    "salespeople.instrumental_share",
    "firms.failure_rate",
    "trust.learn_instrumental",
    "trust.learn_emotional",
    "rings.insider_threshold",
    "competition.offer_rate",
    "wom.referral_prob",
    "run.seed",
)
# Classroom slider limits for integer parameters whose schema range is far too wide for a
# slider (still clipped to the schema's own range).
SLIDER_MAX = {
    "population.n_customers": 1000,
    "population.n_salespeople": 30,
    "run.seed": 1000,
    "rings.insider_min_trades": 30,
}
INT_SLIDER_MAX = 300  # any other integer parameter (e.g. a scheduled step)
FLOAT_STEPS = 100


@dataclass(frozen=True)
class Item:
    """Something the picker can open: a lesson or a shipped scenario."""

    key: str  # lesson id or scenario name
    kind: str  # "lesson" or "scenario"
    lesson: Lesson | None = None

    def title(self, lang: str) -> str:
        if self.lesson is not None:
            return f"{self.lesson.info.order}. {self.lesson.text(lang).title}"
        return self.key


def catalogue() -> list[Item]:
    """Lessons in teaching order, then the shipped scenarios."""
    items = [Item(lesson.id, "lesson", lesson) for lesson in all_lessons()]
    items += [Item(p.stem, "scenario") for p in sorted(SCENARIO_DIR.glob("*.toml"))]
    return items


def _fields() -> dict[str, Any]:
    return {f"{s}.{k}": f for s, k, f in iter_fields()}


def control_keys(item: Item) -> list[str]:
    """The curated controls plus every parameter the scenario file sets or "try this" changes."""
    if item.lesson is not None:
        data, try_set = item.lesson.data, item.lesson.info.try_set
    else:
        data, try_set = read_toml(SCENARIO_DIR / f"{item.key}.toml"), []
    own = [f"{s}.{k}" for s, table in data.items() if isinstance(table, dict) for k in table]
    tried = [change.split("=", 1)[0].strip() for change in try_set]
    keys = list(CONTROLS)
    keys += [k for k in own + tried if k not in keys and k not in ("run.steps", "run.history")]
    return keys


def slider_range(key: str, value: Any) -> tuple[float, float]:
    """Slider limits of ``key``: the schema's range, narrowed for huge integer ranges."""
    finfo = _fields()[key]
    lo, hi = field_range(finfo)
    if finfo.annotation is int:
        cap = SLIDER_MAX.get(key, INT_SLIDER_MAX)
        hi = min(hi, max(cap, int(value)))
    return lo, hi


def control(key: str, value: Any, lang: str) -> dict[str, Any]:
    """One control in the ``model_params`` format of Mesa's SolaraViz / UserInputs."""
    finfo = _fields()[key]
    shown = text(lang, "yes" if value else "no") if finfo.annotation is bool else value
    label = f"{param_label(key, lang)} = {shown}"
    if finfo.annotation is bool:
        return {"type": "Checkbox", "value": bool(value), "label": label}
    if choices_of(finfo):
        return {"type": "Select", "value": value, "values": list(choices_of(finfo)), "label": label}
    lo, hi = slider_range(key, value)
    if finfo.annotation is int:
        return {
            "type": "SliderInt",
            "value": int(value),
            "min": int(lo),
            "max": int(hi),
            "step": 1,
            "label": label,
        }
    return {
        "type": "SliderFloat",
        "value": float(value),
        "min": lo,
        "max": hi,
        "step": (hi - lo) / FLOAT_STEPS,
        "label": label,
    }


def _tidy(key: str, value: Any) -> Any:
    """A control's value in the schema's type (sliders send floats with rounding noise)."""
    kind = _fields()[key].annotation
    if kind is bool:
        return bool(value)
    if choices_of(_fields()[key]):
        return str(value)
    if kind is int:
        return round(value)
    return round(float(value), 6)


class Session:
    """The chosen lesson or scenario, its control values and the running model."""

    def __init__(self, key: str | None = None, record_to: Path | None = None):
        self.items = catalogue()
        self.lock = threading.RLock()
        self.world = 0  # counts models made: the page's views tell worlds apart by it
        given = os.environ.get(pred.ENV)
        self.record_to = record_to or (Path(given) if given else None)
        self.record_error = ""  # the last failure to write the record, for the page
        self.open(key or self.items[0].key)

    # ---------------------------------------------------------------- choosing
    @property
    def lessons(self) -> list[Item]:
        return [i for i in self.items if i.kind == "lesson"]

    def item_for(self, key: str) -> Item:
        for item in self.items:
            if item.key == key:
                return item
        raise ScenarioError(
            [
                f"no lesson or shipped scenario called {key!r} (allowed: "
                f"{', '.join(i.key for i in self.items)})"
            ]
        )

    def open(self, key: str) -> None:
        """Open a lesson or scenario with its own values, and start it afresh."""
        with self.lock:
            self.item = self.item_for(key)
            self.tried = False
            self.values = self._values(self.base())
            lesson = self.item.lesson
            self.customer = lesson.info.customer if lesson else 0
            self.reset()

    def move(self, offset: int) -> None:
        """Previous (-1) or next (+1) lesson; from a scenario, the first lesson."""
        lessons = self.lessons
        if self.item.kind != "lesson":
            self.open(lessons[0].key)
            return
        i = [item.key for item in lessons].index(self.item.key)
        self.open(lessons[min(max(i + offset, 0), len(lessons) - 1)].key)

    def can_move(self, offset: int) -> bool:
        """Whether :meth:`move` by ``offset`` goes anywhere (no previous of the first lesson,
        no next of the last); from a scenario it opens the first lesson."""
        keys = [item.key for item in self.lessons]
        if self.item.kind != "lesson":
            return True
        return 0 <= keys.index(self.item.key) + offset < len(keys)

    def try_this(self, on: bool = True) -> None:
        """Apply (or undo) the lesson's "try this" change and start again."""
        if self.item.lesson is None:
            return
        with self.lock:
            self.tried = on
            self.values = self._values(self.base())
            self.reset()

    # ---------------------------------------------------------------- parameters
    def base(self) -> Scenario:
        lesson = self.item.lesson
        if lesson is not None:
            return lesson.tried if self.tried else lesson.scenario
        return load_scenario(self.item.key)

    def keys(self) -> list[str]:
        return control_keys(self.item)

    def _values(self, scenario: Scenario) -> dict[str, Any]:
        values = flat(scenario)
        return {k: values[k] for k in self.keys()}

    def controls(self, lang: str) -> dict[str, dict[str, Any]]:
        """Every control of this session, in Mesa's ``model_params`` format."""
        return {k: control(k, v, lang) for k, v in self.values.items()}

    def set_value(self, key: str, value: Any) -> None:
        """Change a control; it takes effect at the next reset (like NetLogo's setup)."""
        if key not in self.values:
            raise KeyError(key)
        self.values[key] = _tidy(key, value)

    def scenario(self) -> Scenario:
        """The base scenario with the control values laid over it, validated by the loader."""
        data = self.base().model_dump()
        data, problems = apply_overrides(
            data, [f"{k}={_literal(v)}" for k, v in self.values.items()]
        )
        if problems:
            raise ScenarioError(problems)
        return validate(data, f"classroom ({self.item.key})")

    def pending(self) -> bool:
        """Whether controls differ from the running model's scenario."""
        running = flat(self.model.params)
        return any(running[k] != v for k, v in self.values.items())

    # ---------------------------------------------------------------- running
    def reset(self) -> None:
        with self.lock:
            scenario = self.scenario()
            self.model = TrustModel(scenario)
            self.world += 1
            self.prediction: pred.Prediction | None = None  # a new run, a new prediction
            self.layout = network_layout(self.model.world.graph)  # once per world
            self.customer = min(self.customer, scenario.population.n_customers - 1)

    def step(self, n: int = 1) -> int:
        with self.lock:
            for _ in range(n):
                self.model.step()
            return self.model.steps

    # ---------------------------------------------------------------- predict, observe
    def can_predict(self) -> bool:
        """A lesson with a prediction, before its run, not yet committed."""
        lesson = self.item.lesson
        return bool(
            lesson and lesson.info.predict and self.model.steps == 0 and not self.prediction
        )

    def predict(self, answer: float) -> pred.Prediction:
        """Commit the class's prediction for this run (a range's index, or a number)."""
        with self.lock:
            if not self.can_predict():
                raise ValueError("a prediction is made once, before the run of a lesson with one")
            lesson = self.item.lesson
            self.prediction = pred.make(
                lesson.info.predict, lesson.id, self.model.params.run.seed, self.tried, answer
            )
            self._record()
            return self.prediction

    def outcome(self) -> float | None:
        """The lesson's predicted metric at its step once the run got there; the first time,
        the committed prediction's record gains it."""
        lesson = self.item.lesson
        if lesson is None or lesson.info.predict is None:
            return None
        with self.lock:
            value = pred.outcome(lesson.info.predict, self.model)
            if value is not None and self.prediction and self.prediction.outcome is None:
                pred.observe(self.prediction, value)
                self._record()
            return value

    def _record(self) -> None:
        from trustsim.errors import OutputError

        if self.record_to is None or self.prediction is None:
            return
        try:
            pred.record(self.prediction, self.record_to)
            self.record_error = ""
        except OutputError as exc:  # the page says so; the prediction stays on the page
            self.record_error = str(exc).splitlines()[0]

    def frame(self):
        """Per-step metrics so far, a row per step from step 1 (the model's DataCollector
        without its step-0 row), as simulate()'s time series."""
        with self.lock:
            frame = self.model.datacollector.get_model_vars_dataframe()
            return frame.iloc[1:].reset_index(drop=True)


def _literal(value: Any) -> str:
    """A value as a --set literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


__all__ = ["CONTROLS", "Item", "Session", "catalogue", "control", "control_keys", "slider_range"]
