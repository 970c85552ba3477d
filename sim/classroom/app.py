"""The classroom page (Solara, with Mesa's parameter inputs): ``trustsim app``.

Layout follows Mesa's SolaraViz: controls and model parameters in the sidebar, views in
the main area, parameter inputs rendered by Mesa's ``UserInputs`` from ``model_params``
dictionaries generated from the schema. The frame is our own because SolaraViz's sidebar
labels are fixed English strings and every label here must switch between zh and en.

Speed: the views are ECharts canvases drawn in the browser (:mod:`.chart`); a step sends
only new data, straight to the counter and the charts (:class:`Live`), so no component
renders on a step: parameter controls and the lesson card stay as they are. ``changed``
(a new world, lesson, customer) and ``edited`` (a parameter moved) redraw what shows them. Reactive variables are per browser session in Solara, and the Session lives in the
page's memo: nothing of one browser is visible to another.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import solara
from mesa.visualization.solara_viz import UserInputs

from trustsim.classroom.capacity import Admission
from trustsim.classroom.chart import Chart, Payload
from trustsim.classroom.ringview import EMOTIONAL, INSTRUMENTAL, NO_SP_COLOUR, RING_COLOUR
from trustsim.classroom.session import Session
from trustsim.classroom.text import DEFAULT_LANG, LANGS, ring_label, text
from trustsim.classroom.views import (
    network_base,
    network_patch,
    plot_bases,
    plot_feeds,
    ring_base,
    ring_patch,
)

lang = solara.reactive(os.environ.get("TRUSTSIM_LANG", DEFAULT_LANG))
changed = solara.reactive(0)  # bumped after a new world, lesson, customer or try
edited = solara.reactive(0)  # bumped after a parameter control moved
playing = solara.reactive(False)
speed = solara.reactive(4)  # steps per second while playing
ADMISSION = Admission()


WARMING = threading.Event()  # set while a cold start compiles the model's rules


def _warm_up() -> None:
    """Compile the model's rules once at server start, not on the first student's click;
    while a cold start compiles (about a minute), the page says so."""
    from trustsim.jit import cold_cache
    from trustsim.mesa_model.model import TrustModel

    if cold_cache():
        WARMING.set()
    try:
        TrustModel(n_customers=20).step()
    finally:
        WARMING.clear()


threading.Thread(target=_warm_up, name="trustsim-warm-up", daemon=True).start()
RENDERS: Counter[str] = Counter()  # renders per component, for the test that steps redraw little

CSS = """
.ts-counter { font-size: 1.5em; font-weight: 600; }
.ts-lesson-part { margin-bottom: 0.4em; }
.ts-legend { font-size: 0.8em; }
.ts-swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 50%;
  border: 1px solid #555; margin: 0 0.25em 0 0.8em; vertical-align: -0.1em; }
.ts-plot-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr));
  gap: 4px; width: 100%; }
.ts-bar { background: #6200ea; color: white; padding: 10px 20px; align-items: center;
  position: sticky; top: 0; z-index: 5; }
.ts-title { font-size: 1.25em; font-weight: 500; }
.ts-address { font-size: 0.95em; margin-right: 1em; }
.ts-side { width: 340px; min-width: 340px; max-width: 340px; }
.v-slider.v-input--horizontal { display: flex; flex-direction: column; align-items: stretch; }
.v-slider .v-input__prepend { margin: 0 0 -6px 0; }
.v-slider .v-label { white-space: normal; font-size: 0.85em; }
"""


class Live:
    """Per-step updates sent straight to the widgets that show the step.

    Reacton reconciles the whole page on every render (about 90 widgets here), which
    under load cost 100-300 ms a step. A step changes only the counter and the views'
    data, so the step button and the play loop hand the new data to those widgets
    directly; components render only when something else changes (world, language,
    customer, lesson, parameters).
    """

    def __init__(self, session: Session):
        self.session = session
        self.lang = DEFAULT_LANG
        self.counter: Any = None
        self.ring: Any = None
        self.network: Any = None
        self.plots: list[Any] = []

    def push(self) -> None:
        """Send the current step (call with ``session.lock`` held)."""
        s, L = self.session, self.lang
        model, c, world, step = s.model, s.customer, s.world, s.model.steps
        if self.counter is not None:
            self.counter.children = [text(L, "step_counter", step=step)]
        if self.ring is not None:
            self.ring.patch = Payload((world, step, c, L), ring_patch(model, c, L, world))
        if self.network is not None:
            self.network.patch = Payload((world, step, c), network_patch(model, s.layout, c, world))
        extra = tuple(s.item.lesson.info.plot) if s.item.lesson else ()
        for widget, feed in zip(self.plots, plot_feeds(model, extra, world)):
            widget.feed = Payload((world, step), feed)


def _act(fn: Callable[[], Any]) -> Callable[[], None]:
    """A button handler that changes the world: pause, do ``fn``, redraw what shows it."""

    def handler() -> None:
        playing.value = False
        fn()
        changed.value += 1

    return handler


def _toggle(session: Session) -> None:
    with session.lock:  # a step of the play loop in flight finishes first, then stops
        playing.value = not playing.value


@solara.component
def StepCounter(session: Session, live: Live, L: str) -> None:
    """The step number: written by :class:`Live`, never by a render (which would be stale)."""
    RENDERS["StepCounter"] += 1
    changed.value  # noqa: B018
    el = solara.v.Html(tag="span", class_="ts-counter")

    def attach() -> None:
        with session.lock:
            live.lang, live.counter = L, solara.get_widget(el)
            live.push()

    solara.use_effect(attach)


@solara.component
def RunControls(session: Session, live: Live, L: str) -> None:
    """Step counter, step / play-pause / reset, speed."""
    RENDERS["RunControls"] += 1

    def step() -> None:
        # Solara handles one browser's clicks in order, so every click is one step.
        with session.lock:
            if playing.value:
                return
            session.step()
            live.push()

    StepCounter(session, live, L)
    with solara.Row():
        solara.Button(
            text(L, "step"),
            on_click=step,
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
    RENDERS["Picker"] += 1
    changed.value  # noqa: B018
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
            disabled=not session.can_move(-1),
        )
        solara.Button(
            text(L, "next"),
            on_click=_act(lambda: session.move(1)),
            classes=["ts-next"],
            outlined=True,
            disabled=not session.can_move(1),
        )
    n = session.model.params.population.n_customers

    def choose(c: int) -> None:
        session.customer = c
        changed.value += 1

    solara.SliderInt(text(L, "customer"), value=session.customer, min=0, max=n - 1, on_value=choose)


@solara.component
def Parameters(session: Session, L: str) -> None:
    """Schema-generated controls, drawn by Mesa's UserInputs; applied at reset."""
    RENDERS["Parameters"] += 1
    changed.value, edited.value  # noqa: B018

    def change(key: str, value: Any) -> None:
        session.set_value(key, value)
        edited.value += 1

    UserInputs(session.controls(L), on_change=change)
    if session.pending():
        solara.Warning(text(L, "pending"), dense=True)


@solara.component
def LessonCard(session: Session, L: str) -> None:
    RENDERS["LessonCard"] += 1
    changed.value  # noqa: B018
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


def Swatches(items: list[tuple[str, str, str]]) -> None:
    """A one-line legend: (fill, edge, label) per entry."""
    with solara.Div(classes=["ts-legend"]):
        for fill, edge, label in items:
            solara.HTML(
                "span",
                unsafe_innerHTML=(
                    f'<span class="ts-swatch" style="background:{fill};border-color:{edge}">'
                    f"</span>{label}"
                ),
            )


@solara.component
def Views(session: Session, live: Live, L: str) -> None:
    """The ring view and the network view side by side, then the live plots."""
    RENDERS["Views"] += 1
    changed.value  # noqa: B018
    extra = tuple(session.item.lesson.info.plot) if session.item.lesson else ()
    with session.lock:  # the play loop may be stepping this model
        model, c, world = session.model, session.customer, session.world
        rings = solara.use_memo(
            lambda: Payload((world, c, L), ring_base(model, c, L, world)), [world, c, L]
        )
        network = solara.use_memo(
            lambda: Payload(world, network_base(model, session.layout, world)), [world]
        )
        plots = solara.use_memo(
            lambda: [Payload((world, L, i), b) for i, b in enumerate(plot_bases(L, extra, world))],
            [world, L, extra],
        )
    with solara.Row(style={"flex-wrap": "wrap"}):
        with solara.Column(classes=["ts-ringview"], style={"min-width": "380px", "flex": "1"}):
            solara.Text(text(L, "ring_view", customer=c), classes=["ts-ring-title"])
            # no step data in the props: Live sends it (a render would send a stale one)
            ring_el = Chart.element(base=rings, height="440px")
            Swatches(
                [
                    (INSTRUMENTAL, INSTRUMENTAL, text(L, "instrumental")),
                    (EMOTIONAL, EMOTIONAL, text(L, "emotional")),
                    ("#ffffff", "#000000", text(L, "current")),
                ]
            )
            solara.Text(text(L, "ring_legend"), style={"font-size": "0.8em"})
        with solara.Column(classes=["ts-network"], style={"min-width": "380px", "flex": "1"}):
            solara.Text(text(L, "network_view"))
            network_el = Chart.element(base=network, height="440px")
            Swatches(
                [(RING_COLOUR[r], RING_COLOUR[r], ring_label(r, L)) for r in (0, 1, 2)]
                + [(NO_SP_COLOUR, "#555555", text(L, "no_salesperson"))]
            )
    with solara.Column(classes=["ts-plots"], style={"width": "100%"}):
        solara.Text(text(L, "plots"))
        with solara.Div(classes=["ts-plot-grid"]):
            plot_els = [Chart.element(base=base, height="280px") for base in plots]

    def attach() -> None:
        with session.lock:
            live.lang = L
            live.ring, live.network = solara.get_widget(ring_el), solara.get_widget(network_el)
            live.plots = [solara.get_widget(el) for el in plot_els]
            live.push()

    solara.use_effect(attach)


def _play(session: Session, live: Live) -> Callable[[threading.Event], None]:
    def play(cancel: threading.Event) -> None:
        """``speed`` steps per second on the clock; a slow redraw skips pictures, not steps.

        Each pass steps everything due since the last one and then sends once, so up to
        what the page can draw every step is drawn, and beyond it steps arrive together.
        """
        last = time.perf_counter()
        while playing.value and not cancel.wait(min(0.02, 0.5 / speed.value)):
            with session.lock:  # a pause pressed meanwhile wins: no step after it
                if not playing.value:
                    break
                rate = speed.value
                due = int((time.perf_counter() - last) * rate)
                if due < 1:
                    continue
                n = min(due, rate)  # more than a second behind: slow down, skip nothing
                session.step(n)
                last = max(last + n / rate, time.perf_counter() - 1.0)
                live.push()

    return play


@solara.component
def Full(limit: int) -> None:
    """What a visitor past ``--max-sessions`` sees: both languages, since none is chosen."""
    solara.Title(text("en", "full_title"))
    with solara.Div(classes=["ts-full"], style={"max-width": "640px", "margin": "3em auto"}):
        with solara.Card():
            for L in LANGS:
                solara.Markdown(
                    f"### {text(L, 'full_title')}\n\n{text(L, 'full_body', limit=limit)}"
                )


@solara.component
def Page() -> None:
    """Each browser is a session with its own model, while places are left."""
    ticket = solara.use_memo(ADMISSION.enter, [])
    solara.use_effect(lambda: lambda: ADMISSION.leave(ticket), [])
    if ticket is None:
        Full(ADMISSION.limit)
    else:
        Classroom()


@solara.component
def Classroom() -> None:
    session = solara.use_memo(lambda: Session(os.environ.get("TRUSTSIM_LESSON") or None), [])
    live = solara.use_memo(lambda: Live(session), [])
    RENDERS["Page"] += 1
    L = lang.value
    solara.use_thread(_play(session, live), dependencies=[playing.value])
    solara.Style(CSS)
    solara.Title(text(L, "title"))
    address = os.environ.get("TRUSTSIM_ADDRESS", "")
    with solara.Row(classes=["ts-bar"]):
        solara.Text(text(L, "title"), classes=["ts-title"])
        solara.v.Spacer()
        if address:
            solara.Text(text(L, "address", url=address), classes=["ts-address"])
        elif os.environ.get("TRUSTSIM_ANNOUNCE"):  # served by `trustsim app` on loopback
            solara.Text(text(L, "address_local"), classes=["ts-address"])
        other = LANGS[(LANGS.index(L) + 1) % len(LANGS)]
        solara.Button(
            text(L, "switch_language"),
            on_click=lambda: lang.set(other),
            text=True,
            classes=["ts-lang"],
            style={"color": "white"},
        )
    if WARMING.is_set():
        solara.Info(text(L, "compiling"), classes=["ts-compiling"])
    with solara.Row(style={"align-items": "flex-start", "flex-wrap": "nowrap"}):
        with solara.Column(classes=["ts-side"]):
            with solara.Card(text(L, "controls")):
                RunControls(session, live, L)
            with solara.Card(text(L, "lesson")):
                Picker(session, L)
            with solara.Card(text(L, "parameters")):
                Parameters(session, L)
        with solara.Column(style={"flex": "1", "min-width": "0"}):
            LessonCard(session, L)
            Views(session, live, L)


@solara.component
def Layout(children: list | None = None) -> None:
    """The page as it is, without Solara's AppLayout.

    AppLayout moves sidebar and app-bar content through a portal and reconciles all of
    it whenever anything inside changes: 186 widget updates per step, 100+ ms. Our own
    bar and side column keep a step's work to the counter and the views.
    """
    solara.Column(children=children or [], style={"padding": "0", "gap": "0"})
