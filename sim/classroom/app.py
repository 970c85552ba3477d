"""The classroom page (Solara, with Mesa's visualization parts): ``trustsim app``.

Layout follows Mesa's SolaraViz: controls and model parameters in the sidebar, views in
the main area, parameter inputs rendered by Mesa's ``UserInputs`` from ``model_params``
dictionaries generated from the schema. The frame is our own because SolaraViz's sidebar
labels are fixed English strings and every label here must switch between zh and en.
All state of a browser session lives in one :class:`trustsim.classroom.session.Session`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import solara
from matplotlib.figure import Figure
from mesa.visualization.solara_viz import UserInputs

from .plots import draw_plots
from .ringview import draw_network, draw_rings
from .session import Session
from .text import DEFAULT_LANG, LANGS, text

lang = solara.reactive(os.environ.get("TRUSTSIM_LANG", DEFAULT_LANG))
tick = solara.reactive(0)  # bumped after every change to the session
playing = solara.reactive(False)
speed = solara.reactive(4)  # steps per second while playing

CSS = """
.ts-counter { font-size: 1.5em; font-weight: 600; }
.ts-lesson-part { margin-bottom: 0.4em; }
.v-slider.v-input--horizontal { display: flex; flex-direction: column; align-items: stretch; }
.v-slider .v-input__prepend { margin: 0 0 -6px 0; }
.v-slider .v-label { white-space: normal; font-size: 0.85em; }
"""


def _subscribe() -> None:
    """Redraw this component whenever the session changes (its props never do)."""
    tick.value  # noqa: B018


def _touch() -> None:
    tick.value += 1


def _act(fn: Callable[[], Any]) -> Callable[[], None]:
    """A button handler: pause, do ``fn``, redraw."""

    def handler() -> None:
        playing.value = False
        fn()
        _touch()

    return handler


def _toggle(session: Session) -> None:
    with session.lock:
        playing.value = not playing.value


def _figure_png(draw: Callable[[Figure], None], size: tuple[float, float], deps: list) -> None:
    fig = Figure(figsize=size, dpi=90)
    draw(fig)
    solara.FigureMatplotlib(fig, dependencies=deps, format="png")


@solara.component
def RunControls(session: Session, L: str) -> None:
    """Step counter, step / play-pause / reset, speed."""
    _subscribe()
    solara.Text(text(L, "step_counter", step=session.model.steps), classes=["ts-counter"])
    with solara.Row():
        solara.Button(
            text(L, "step"),
            on_click=_act(session.step),
            color="primary",
            disabled=playing.value,
            classes=["ts-step"],
        )
        solara.Button(
            text(L, "pause") if playing.value else text(L, "play"),
            on_click=lambda: _toggle(session),
            color="primary",
            classes=["ts-play"],
        )
        solara.Button(text(L, "reset"), on_click=_act(session.reset), classes=["ts-reset"])
    solara.SliderInt(text(L, "speed"), value=speed, min=1, max=20)


@solara.component
def Picker(session: Session, L: str) -> None:
    """Lessons (with previous / next) and shipped scenarios; any can be opened directly."""
    _subscribe()
    titles = {item.title(L): item.key for item in session.items}
    current = session.item.title(L)
    solara.Select(
        text(L, "scenario"),
        values=list(titles),
        value=current,
        on_value=lambda t: _act(lambda: session.open(titles[t]))(),
        classes=["ts-picker"],
    )
    with solara.Row():
        solara.Button(
            text(L, "previous"),
            on_click=_act(lambda: session.move(-1)),
            classes=["ts-previous"],
            outlined=True,
        )
        solara.Button(
            text(L, "next"),
            on_click=_act(lambda: session.move(1)),
            classes=["ts-next"],
            outlined=True,
        )
    n = session.model.params.population.n_customers

    def choose(c: int) -> None:
        session.customer = c
        _touch()

    solara.SliderInt(text(L, "customer"), value=session.customer, min=0, max=n - 1, on_value=choose)


@solara.component
def Parameters(session: Session, L: str) -> None:
    """Schema-generated controls, drawn by Mesa's UserInputs; applied at reset."""
    _subscribe()

    def change(key: str, value: Any) -> None:
        session.set_value(key, value)
        _touch()

    UserInputs(session.controls(L), on_change=change)
    if session.pending():
        solara.Warning(text(L, "pending"), dense=True)


@solara.component
def LessonCard(session: Session, L: str) -> None:
    _subscribe()
    lesson = session.item.lesson
    if lesson is None:
        return
    t = lesson.text(L)
    with solara.Card(t.title, classes=["ts-lesson"]):
        for key, body in (("watch", t.watch), ("question", t.question), ("try_this", t.try_)):
            with solara.Div(classes=["ts-lesson-part"]):
                solara.Text(text(L, key) + text(L, "colon"), style={"font-weight": "600"})
                solara.Text(body)
        if session.tried:
            solara.Button(
                text(L, "undo_try"),
                on_click=_act(lambda: session.try_this(False)),
                outlined=True,
                classes=["ts-try"],
            )
        else:
            solara.Button(
                text(L, "apply_try"),
                on_click=_act(session.try_this),
                color="secondary",
                classes=["ts-try"],
            )


@solara.component
def Views(session: Session, L: str) -> None:
    """The ring view and the network view side by side, then the live plots."""
    _subscribe()
    deps = [tick.value, L, session.customer, id(session.model)]
    c = session.customer
    extra = session.item.lesson.info.plot if session.item.lesson else []
    with session.lock:
        with solara.Row(style={"flex-wrap": "wrap"}):
            with solara.Column(classes=["ts-ringview"], style={"min-width": "380px"}):
                solara.Text(text(L, "ring_view", customer=c), classes=["ts-ring-title"])
                _figure_png(
                    lambda f: draw_rings(f.add_axes((0, 0.06, 1, 0.94)), session.model, c, L),
                    (4.6, 4.8),
                    deps,
                )
                solara.Text(text(L, "ring_legend"), style={"font-size": "0.8em"})
            with solara.Column(classes=["ts-network"], style={"min-width": "380px"}):
                solara.Text(text(L, "network_view"))
                _figure_png(
                    lambda f: draw_network(f.add_axes((0, 0.06, 1, 0.94)), session.model, c, L),
                    (4.6, 4.8),
                    deps,
                )
        with solara.Column(classes=["ts-plots"]):
            solara.Text(text(L, "plots"))
            frame = session.model.datacollector.get_model_vars_dataframe()
            _figure_png(lambda f: draw_plots(f, frame, L, extra), (10, 5.2), deps)


@solara.component
def Page() -> None:
    session = solara.use_memo(lambda: Session(os.environ.get("TRUSTSIM_LESSON") or None), [])
    _subscribe()
    L = lang.value

    def play(cancel: threading.Event) -> None:
        """Keep ``speed`` steps per second however long a redraw takes."""
        last = time.perf_counter()
        while playing.value and not cancel.wait(0.05):
            now = time.perf_counter()
            n = int((now - last) * speed.value)
            if n >= 1:
                with session.lock:  # a pause pressed meanwhile wins: no step after it
                    if not playing.value:
                        break
                    session.step(min(n, speed.value))
                last = now
                _touch()

    solara.use_thread(play, dependencies=[playing.value])
    solara.Style(CSS)
    solara.Title(text(L, "title"))
    with solara.AppBar():
        solara.AppBarTitle(text(L, "title"))
        other = LANGS[(LANGS.index(L) + 1) % len(LANGS)]
        solara.Button(
            text(L, "switch_language"),
            on_click=lambda: lang.set(other),
            text=True,
            classes=["ts-lang"],
            style={"color": "white"},
        )
    with solara.Sidebar():
        with solara.Card(text(L, "controls")):
            RunControls(session, L)
        with solara.Card(text(L, "lesson")):
            Picker(session, L)
        with solara.Card(text(L, "parameters")):
            Parameters(session, L)
    with solara.Column():
        LessonCard(session, L)
        Views(session, L)
