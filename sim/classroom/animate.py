"""``trustsim animate``: the ring view over time as a GIF (or MP4) for slides, no server needed."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from trustsim.classroom.lessons import Lesson, find_lesson
from trustsim.classroom.ringview import draw_rings
from trustsim.classroom.text import text
from trustsim.errors import interrupt_in, require
from trustsim.loader import CLI_LABEL, ScenarioError, apply_overrides, load_scenario, validate
from trustsim.mesa_model.model import TrustModel
from trustsim.params import Scenario
from trustsim.runtime.files import atomic_write

FORMATS = (".gif", ".mp4")


def resolve(
    name: str, try_this: bool = False, overrides: list[str] | None = None
) -> tuple[Scenario, Lesson | None]:
    """A lesson (by id or file) or a scenario (by name or file), with ``--set`` overrides."""
    lesson = find_lesson(name)
    if lesson is None:
        if try_this:
            raise ScenarioError([f"--try: {name} is a scenario, not a lesson"])
        return load_scenario(name, overrides or [], label=CLI_LABEL), None
    scenario = lesson.tried if try_this else lesson.scenario
    if overrides:
        data, problems = apply_overrides(scenario.model_dump(), overrides)
        if problems:
            raise ScenarioError(problems)
        scenario = validate(data, f"{lesson.path} with --set")
    return scenario, lesson


def mp4_encoder() -> bool:
    """Whether imageio can write MP4 here (it needs ffmpeg)."""
    try:
        import imageio_ffmpeg  # noqa: F401

        return True
    except ImportError:
        return shutil.which("ffmpeg") is not None


def check_output(out: Path) -> None:
    if out.suffix.lower() not in FORMATS:
        raise ScenarioError([f"--out {out}: use a .gif file (or .mp4 where ffmpeg is installed)"])
    if out.suffix.lower() == ".mp4" and not mp4_encoder():
        raise ScenarioError(
            [
                f"--out {out}: no MP4 encoder here (install ffmpeg or "
                f"imageio-ffmpeg), or write a .gif"
            ]
        )
    if out.is_dir():
        raise ScenarioError([f"--out {out}: is a folder, expected a file name"])


def frame_figure(model: TrustModel, customer: int, lang: str, title: str) -> Figure:
    """The ring view at the model's current step, drawn: the rings above, their two-line
    legend whole below them (room kept for it in both languages)."""
    fig = Figure(figsize=(5, 5.4), dpi=80)
    FigureCanvasAgg(fig)
    draw_rings(fig.add_axes((0, 0.11, 1, 0.81)), model, customer, lang)
    fig.suptitle(text(lang, "frame_title", name=title, step=model.steps), fontsize=11)
    fig.canvas.draw()
    return fig


def render(model: TrustModel, customer: int, lang: str, title: str) -> np.ndarray:
    """One frame (RGB array) of the ring view at the model's current step."""
    fig = frame_figure(model, customer, lang, title)
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def frames(scenario: Scenario, customer: int, steps: int, lang: str, title: str):
    """Frames from step 0 to ``steps`` on the Mesa engine."""
    model = TrustModel(scenario)
    yield render(model, customer, lang, title)
    for _ in range(steps):
        model.step()
        yield render(model, customer, lang, title)


def animate(
    name: str,
    out: Path,
    steps: int | None = None,
    customer: int | None = None,
    lang: str = "zh",
    fps: float = 8.0,
    try_this: bool = False,
    overrides: list[str] | None = None,
) -> Path:
    """Write the ring view of ``customer`` over ``steps`` steps to ``out`` (.gif or .mp4)."""
    iio = require("imageio.v3", "trustsim animate")

    out = Path(out)
    check_output(out)
    scenario, lesson = resolve(name, try_this, overrides)
    steps = scenario.run.steps if steps is None else steps
    if steps < 1:
        raise ScenarioError([f"--steps {steps}: must be at least 1"])
    if customer is None:
        customer = lesson.info.customer if lesson else 0
    n = scenario.population.n_customers
    if not 0 <= customer < n:
        raise ScenarioError([f"--customer {customer}: must be a customer id in [0, {n - 1}]"])
    if fps <= 0:
        raise ScenarioError([f"--fps {fps}: must be positive"])
    title = lesson.text(lang).title if lesson else Path(name).stem
    try:
        images = list(frames(scenario, customer, steps, lang, title))
        atomic_write(out, lambda tmp: _encode(iio, tmp, out.suffix.lower(), images, fps))
    except BaseException as exc:
        if interrupt_in(exc):
            raise KeyboardInterrupt(
                f"interrupted: {out} was not written (a file there before is whole); "
                f"the same command makes the same animation"
            ) from None
        raise
    return out


def _encode(iio, path: Path, kind: str, images: list[np.ndarray], fps: float) -> None:
    """The frames into ``path`` (a temporary name: the format comes from ``kind``)."""
    if kind == ".gif":
        iio.imwrite(path, images, extension=kind, duration=1000.0 / fps, loop=0)
    else:
        iio.imwrite(path, images, extension=kind, fps=fps)
