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
from trustsim.classroom.predict import choice_labels, choice_of
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

# Two layouts. Wide screens (a projector's 1280x720 and up) get one screen that never
# scrolls: the side column scrolls inside itself, the lesson card sits on top, and the
# views and plots share what is left (each chart fills its box; chart.vue resizes it).
# Narrow screens (a phone's 375x667) get one column that scrolls, charts at fixed heights.
CSS = """
.ts-counter { font-size: 1.5em; font-weight: 600; }
.ts-lesson-part { margin-bottom: 0.3em; }
.ts-lesson-title { display: block; font-size: 1.2em; font-weight: 500; margin-bottom: 0.1em; }
.ts-legend { font-size: 0.75em; line-height: 1.25; }
.ts-view > span, .ts-plots > span { font-size: 0.9em; }
.ts-swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 50%;
  border: 1px solid #555; margin: 0 0.25em 0 0.8em; vertical-align: -0.1em; }
.ts-bar { background: #6200ea; color: white; padding: 4px 16px; align-items: center;
  position: sticky; top: 0; z-index: 5; flex: none; }
.ts-title { font-size: 1.15em; font-weight: 500; }
.ts-address { font-size: 0.95em; margin-right: 1em; }
.ts-compiling { flex: none !important; margin: 4px 8px !important; }
.ts-body { display: flex; gap: 8px; padding: 6px 8px; }
.ts-side { display: flex; flex-direction: column; gap: 8px; }
.ts-side > * { flex: none; }
.ts-side .v-card__title { padding: 8px 12px 0 12px; font-size: 1.05em; }
.ts-side .v-card__text { padding: 4px 12px 8px 12px; }
.ts-main { display: flex; flex-direction: column; gap: 6px; flex: 1; min-width: 0; }
.ts-lesson { padding: 6px 12px; font-size: 0.85em; line-height: 1.3; flex: none; }
.ts-try { margin-left: 0.5em; height: 22px !important; }
.ts-predict .v-btn { height: 24px !important; }
.ts-lesson-grid { display: flex; gap: 16px; }
.ts-lesson-text { flex: 3; min-width: 0; }
.ts-predict { flex: 2; min-width: 0; border-left: 3px solid #6200ea; padding-left: 12px; }
.ts-choices { display: flex; flex-wrap: wrap; gap: 4px; margin: 4px 0; align-items: center; }
.ts-commit { margin-left: 8px; }
.ts-predicted, .ts-observed { display: block; font-weight: 600; margin-top: 4px; }
.ts-observed { color: #1b5e20; }
.ts-explain { margin-top: 2px; }
.ts-record-failed { color: #b71c1c; }
.ts-stage { display: grid; gap: 6px; }
.ts-views, .ts-view, .ts-plots { display: flex; flex-direction: column; min-width: 0; }
.ts-views { gap: 6px; }
.ts-chart-box { position: relative; }
.ts-plot-grid { display: grid; gap: 4px; }
.v-slider.v-input--horizontal { display: flex; flex-direction: column; align-items: stretch; }
.v-slider .v-input__prepend { margin: 0 0 -6px 0; }
.v-slider .v-label { white-space: normal; font-size: 0.85em; }
@media (min-width: 1000px) {
  .ts-shell { height: 100vh; display: flex; flex-direction: column; overflow: hidden; }
  .ts-body { flex: 1; min-height: 0; }
  .ts-side { width: 300px; min-width: 300px; max-width: 300px; overflow-y: auto; }
  .ts-lesson { flex: none; max-height: 32vh; overflow-y: auto; }
  .ts-stage { flex: 1; min-height: 0; grid-template-columns: minmax(0, 1fr) minmax(0, 1.7fr); }
  .ts-views, .ts-plots { min-height: 0; }
  .ts-ringview { flex: 1.5; min-height: 0; }
  .ts-lesson .v-card__text, .ts-lesson > div { padding: 0 !important; }
  .ts-view > span, .ts-view .ts-legend { white-space: nowrap; overflow: hidden;
    text-overflow: ellipsis; flex: none; }
  .ts-ring-note { display: none; }
  .ts-network { flex: 1; min-height: 0; }
  .ts-chart-box { flex: 1; min-height: 0; }
  .ts-plot-grid { flex: 1; min-height: 0; grid-template-columns: repeat(2, minmax(0, 1fr));
    grid-auto-rows: minmax(0, 1fr); }
  .ts-plot { min-height: 0; }
}
@media (max-width: 999.98px) {
  .ts-body { flex-direction: column; }
  .ts-lesson-grid { flex-direction: column; }
  .ts-predict { border-left: none; border-top: 3px solid #6200ea; padding: 8px 0 0 0; }
  .ts-title { font-size: 1em; }
  .ts-chart-box { height: min(92vw, 420px); }
  .ts-plot { height: 260px; }
  .ts-plot-grid { grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); }
}
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
        self.observed: Any = None  # the outcome beside the prediction
        self.explain: Any = None  # the lesson's prompt, once the outcome is there
        self.commit: Any = None  # the commit button: a prediction is made before the run

    def push(self) -> None:
        """Send the current step (call with ``session.lock`` held)."""
        s, L = self.session, self.lang
        model, c, world, step = s.model, s.customer, s.world, s.model.steps
        if self.counter is not None:
            self.counter.children = [text(L, "step_counter", step=step)]
        if self.observed is not None:
            self.push_outcome()
        if self.ring is not None:
            self.ring.patch = Payload((world, step, c, L), ring_patch(model, c, L, world))
        if self.network is not None:
            self.network.patch = Payload((world, step, c), network_patch(model, s.layout, c, world))
        extra = tuple(s.item.lesson.info.plot) if s.item.lesson else ()
        for widget, feed in zip(self.plots, plot_feeds(model, extra, world)):
            widget.feed = Payload((world, step), feed)

    def push_outcome(self) -> None:
        """The predicted metric's outcome, once the run reaches its step, and the prompt."""
        s, L = self.session, self.lang
        predict = s.item.lesson.info.predict if s.item.lesson else None
        if predict is None:
            return
        if self.commit is not None:
            self.commit.disabled = not s.can_predict()
        value = s.outcome()
        if value is None:
            self.observed.children = [text(L, "predict_wait", step=predict.step)]
            self.explain.children = []
            return
        shown = f"{value:.3g}"
        if predict.is_choice:
            label = choice_labels(predict, L)[choice_of(predict, value)]
            said = text(L, "observe_range", step=predict.step, value=shown, label=label)
        else:
            said = text(L, "observe", step=predict.step, value=shown)
        self.observed.children = [said]
        self.explain.children = [text(L, "explain") + text(L, "colon") + predict.text(L).explain]


def _mounted(*elements: Any) -> bool:
    """Whether these elements have widgets: an effect of a render that a newer one replaced
    within the same event finds none (the newer render's effect attaches instead)."""
    try:
        for el in elements:
            solara.get_widget(el)
    except KeyError:
        return False
    return True


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
def LessonCard(session: Session, live: Live, L: str) -> None:
    RENDERS["LessonCard"] += 1
    changed.value  # noqa: B018
    lesson = session.item.lesson
    if lesson is None:
        return
    t = lesson.text(L)
    with solara.Card(classes=["ts-lesson"]):
        with solara.Div(classes=["ts-lesson-grid"]):
            with solara.Div(classes=["ts-lesson-text"]):
                solara.Text(t.title, classes=["ts-lesson-title"])
                for key, body in (
                    ("watch", t.watch),
                    ("question", t.question),
                    ("try_this", t.try_),
                ):
                    with solara.Div(classes=["ts-lesson-part"]):
                        solara.Text(text(L, key) + text(L, "colon"), style={"font-weight": "600"})
                        solara.Text(body)
                        if key == "try_this":  # the button on the line it belongs to
                            TryButton(session, L)
            if lesson.info.predict is not None:
                PredictPanel(session, live, L)


def TryButton(session: Session, L: str) -> None:
    """Apply the lesson's "try this" change (or go back to the lesson) and start again."""
    if session.tried:
        solara.Button(
            text(L, "undo_try"),
            on_click=_act(lambda: session.try_this(False)),
            outlined=True,
            small=True,
            classes=["ts-try"],
        )
    else:
        solara.Button(
            text(L, "apply_try"),
            on_click=_act(session.try_this),
            color="secondary",
            small=True,
            classes=["ts-try"],
        )


@solara.component
def PredictPanel(session: Session, live: Live, L: str) -> None:
    """Predict before the run, observe the outcome beside it, then explain."""
    RENDERS["PredictPanel"] += 1
    changed.value  # noqa: B018  (same props as before a commit: it must follow ``changed`` itself)
    predict = session.item.lesson.info.predict
    # what this browser picked and whether it came too late, for this world (run) only
    picked, set_picked = solara.use_state((session.world, None, False))
    answer, late = picked[1:] if picked[0] == session.world else (None, False)

    def set_answer(value: float | None) -> None:
        set_picked((session.world, value, False))

    def set_late(flag: bool) -> None:
        set_picked((session.world, answer, flag))

    made = session.prediction

    def commit() -> None:
        try:
            session.predict(answer)
        except ValueError:  # the run started after this panel was drawn
            set_late(True)
            return
        changed.value += 1

    form = made is None and not late and session.model.steps == 0
    if made is not None:
        status = text(L, "predict_ours", answer=made.shown(predict, L), made=made.made[11:16])
    else:
        status = "" if form else text(L, "predict_late")
    # the same elements in every state (only their content changes), so Live's handles on
    # the outcome stay valid across renders
    with solara.Div(classes=["ts-predict"]):
        solara.Text(text(L, "predict") + text(L, "colon"), style={"font-weight": "600"})
        solara.Text(predict.text(L).question)
        solara.Text(status, classes=["ts-predicted"])
        with solara.Div(classes=["ts-choices"], style={} if form else {"display": "none"}):
            if predict.is_choice:
                for i, label in enumerate(choice_labels(predict, L)):
                    solara.Button(
                        label,
                        on_click=lambda i=i: set_answer(i),
                        color="primary" if answer == i else None,
                        outlined=answer != i,
                        small=True,
                        classes=["ts-choice"],
                    )
            else:
                solara.InputFloat(
                    text(L, "predict_number"),
                    value=answer,
                    on_value=set_answer,
                    optional=True,
                    continuous_update=True,
                    dense=True,
                    classes=["ts-number"],
                )
            commit_el = solara.Button(
                text(L, "predict_commit"),
                on_click=commit,
                color="primary",
                small=True,
                disabled=answer is None,
                classes=["ts-commit"],
            )
        solara.Text(
            text(L, "record_failed", error=session.record_error) if session.record_error else "",
            classes=["ts-record-failed"],
        )
        observed = solara.v.Html(tag="div", class_="ts-observed")
        explain = solara.v.Html(tag="div", class_="ts-explain")

    def attach() -> None:
        if not _mounted(observed, explain, commit_el):
            return
        with session.lock:
            live.lang = L
            live.observed, live.explain = solara.get_widget(observed), solara.get_widget(explain)
            # the step that starts the run disables it (no render); until a choice, it is off
            chosen = form and answer is not None
            live.commit = solara.get_widget(commit_el) if chosen else None
            live.push_outcome()

    solara.use_effect(attach)


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
    with solara.Div(classes=["ts-stage"]):
        with solara.Div(classes=["ts-views"]):
            with solara.Div(classes=["ts-ringview", "ts-view"]):
                solara.Text(text(L, "ring_view", customer=c), classes=["ts-ring-title"])
                # no step data in the props: Live sends it (a render would send a stale one)
                with solara.Div(classes=["ts-chart-box"]):
                    ring_el = Chart.element(base=rings, height="100%")
                Swatches(
                    [
                        (INSTRUMENTAL, INSTRUMENTAL, text(L, "instrumental")),
                        (EMOTIONAL, EMOTIONAL, text(L, "emotional")),
                        ("#ffffff", "#000000", text(L, "current")),
                    ]
                )
                solara.Text(text(L, "ring_legend"), classes=["ts-legend", "ts-ring-note"])
            with solara.Div(classes=["ts-network", "ts-view"]):
                solara.Text(text(L, "network_view"))
                with solara.Div(classes=["ts-chart-box"]):
                    network_el = Chart.element(base=network, height="100%")
                Swatches(
                    [(RING_COLOUR[r], RING_COLOUR[r], ring_label(r, L)) for r in (0, 1, 2)]
                    + [(NO_SP_COLOUR, "#555555", text(L, "no_salesperson"))]
                )
        with solara.Div(classes=["ts-plots"]):
            solara.Text(text(L, "plots"))
            with solara.Div(classes=["ts-plot-grid"]):
                plot_els = []
                for base in plots:
                    with solara.Div(classes=["ts-plot"]):
                        plot_els.append(Chart.element(base=base, height="100%"))

    def attach() -> None:
        if not _mounted(ring_el, network_el, *plot_els):
            return
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
    with solara.Div(classes=["ts-shell"]):
        with solara.Row(classes=["ts-bar"], style={"gap": "0"}):
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
        with solara.Div(classes=["ts-body"]):
            with solara.Div(classes=["ts-side"]):
                with solara.Card(text(L, "controls")):
                    RunControls(session, live, L)
                with solara.Card(text(L, "lesson")):
                    Picker(session, L)
                with solara.Card(text(L, "parameters")):
                    Parameters(session, L)
            with solara.Div(classes=["ts-main"]):
                LessonCard(session, live, L)
                Views(session, live, L)


@solara.component
def Layout(children: list | None = None) -> None:
    """The page as it is, without Solara's AppLayout.

    AppLayout moves sidebar and app-bar content through a portal and reconciles all of
    it whenever anything inside changes: 186 widget updates per step, 100+ ms. Our own
    bar and side column keep a step's work to the counter and the views.
    """
    solara.Column(children=children or [], style={"padding": "0", "gap": "0"})
