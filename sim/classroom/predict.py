"""Predict, observe, explain: the class's prediction for a lesson run, its outcome, its record.

Before the run the class commits to a prediction of the lesson's ``[lesson.predict]``
metric at its step: one of the ranges cut by ``edges``, or a number. The outcome is read
from the running model's DataCollector at that step, nothing else. Every prediction is a
row of a small CSV file (time, lesson, seed, whether "try this" was on, the prediction,
later the outcome), rewritten atomically on each change so a reader never sees half a file.
"""

from __future__ import annotations

import bisect
import csv
import math
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from trustsim.classroom.lessons import LessonPredict
from trustsim.classroom.text import text

if TYPE_CHECKING:
    from trustsim.mesa_model.model import TrustModel

ENV = "TRUSTSIM_PREDICTIONS"  # the record's path, set by `trustsim app --predictions`


def choice_labels(predict: LessonPredict, lang: str) -> list[str]:
    """A name per range of ``edges``: the lesson's own, else "below a", "a to b", "b or more"."""
    own = getattr(predict, lang).choices
    if own:
        return list(own)
    e = [f"{x:g}" for x in predict.edges]
    return (
        [text(lang, "range_below", hi=e[0])]
        + [text(lang, "range_between", lo=a, hi=b) for a, b in zip(e, e[1:])]
        + [text(lang, "range_above", lo=e[-1])]
    )


def choice_of(predict: LessonPredict, value: float) -> int:
    """The range ``value`` falls in (an edge belongs to the range above it)."""
    return bisect.bisect_right(predict.edges, value)


def outcome(predict: LessonPredict, model: TrustModel) -> float | None:
    """The metric at the prediction's step, once the run has reached it (else None)."""
    column = model.datacollector.model_vars.get(predict.metric, [])
    if model.steps < predict.step or len(column) <= predict.step:
        return None
    return float(column[predict.step])  # row 0 is step 0


@dataclass
class Prediction:
    """One committed prediction and, once the run reaches its step, the outcome."""

    id: str
    made: str  # when it was committed (UTC, ISO 8601)
    lesson: str
    seed: int
    tried: bool  # "try this" on
    metric: str
    step: int
    answer: float  # the chosen range's index, or the number
    kind: str  # "choice" or "number"
    outcome: float | None = None
    observed: str = ""

    def shown(self, predict: LessonPredict, lang: str) -> str:
        if self.kind == "choice":
            return choice_labels(predict, lang)[int(self.answer)]
        return f"{self.answer:g}"


def make(predict: LessonPredict, lesson: str, seed: int, tried: bool, answer: float) -> Prediction:
    """A new prediction, checked: a range that exists, or a finite number."""
    kind = "choice" if predict.is_choice else "number"
    if kind == "choice" and answer not in range(len(predict.edges) + 1):
        raise ValueError(f"choice {answer!r}: must be one of 0..{len(predict.edges)}")
    if kind == "number" and not math.isfinite(answer):
        raise ValueError(f"prediction {answer!r}: must be a finite number")
    return Prediction(
        id=uuid.uuid4().hex[:12],
        made=_now(),
        lesson=lesson,
        seed=seed,
        tried=tried,
        metric=predict.metric,
        step=predict.step,
        answer=float(answer),
        kind=kind,
    )


def observe(prediction: Prediction, value: float) -> None:
    prediction.outcome = value
    prediction.observed = _now()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


FIELDS = list(Prediction.__dataclass_fields__)
_lock = threading.Lock()  # browser sessions of one server share the file


def record(prediction: Prediction, path: Path) -> None:
    """Add or update ``prediction``'s row of the CSV file at ``path``, atomically."""
    from trustsim.runtime.files import atomic_write

    row = {k: ("" if v is None else v) for k, v in asdict(prediction).items()}
    with _lock:
        rows = []
        if path.is_file():
            with path.open(newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
        ids = [r.get("id") for r in rows]
        if prediction.id in ids:
            rows[ids.index(prediction.id)] = row
        else:
            rows.append(row)

        def write(tmp: Path) -> None:
            with tmp.open("w", newline="", encoding="utf-8") as fh:
                out = csv.DictWriter(fh, FIELDS, extrasaction="ignore")
                out.writeheader()
                out.writerows(rows)

        atomic_write(path, write)


__all__ = [
    "ENV",
    "Prediction",
    "choice_labels",
    "choice_of",
    "make",
    "observe",
    "outcome",
    "record",
]
