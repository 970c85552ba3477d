"""What a class sees first: words, not True/False or raw keys; buttons that do nothing look
it; the GIF's legend whole; the app's address only when it answers."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from trustsim.classroom.lessons import all_lessons
from trustsim.classroom.session import Session, control
from trustsim.classroom.text import LANGS, param_label

RAW_KEY = re.compile(r"\b[a-z_]+\.[a-z_]+\b")


@pytest.mark.parametrize(("lang", "yes", "no"), [("zh", "是", "否"), ("en", "yes", "no")])
def test_switches_read_yes_or_no_in_each_language(lang, yes, no):
    on = control("mechanisms.breach_scar", True, lang)
    off = control("mechanisms.breach_scar", False, lang)
    assert on["label"] == f"{param_label('mechanisms.breach_scar', lang)} = {yes}"
    assert off["label"].endswith(f" = {no}") and "True" not in on["label"] + off["label"]


@pytest.mark.parametrize("lang", LANGS)
def test_lessons_show_no_raw_parameter_keys(lang):
    for lesson in all_lessons():
        t = lesson.text(lang)
        for part in (t.title, t.watch, t.question, t.try_):
            assert not RAW_KEY.search(part), f"{lesson.id} ({lang}): {part}"


@pytest.mark.parametrize("lang", LANGS)
def test_a_lessons_try_this_names_the_control_as_its_label_reads(lang):
    for lesson in all_lessons():
        key, value = lesson.info.try_set[0].split("=")
        finfo_value = {"false": False, "true": True}.get(value, value)
        label = control(key, finfo_value, lang)["label"] if value in ("false", "true") else None
        if label:
            assert label in lesson.text(lang).try_, lesson.id


def test_previous_and_next_are_disabled_at_the_ends():
    session = Session()
    lessons = session.lessons
    session.open(lessons[0].key)
    assert not session.can_move(-1) and session.can_move(1)
    session.open(lessons[-1].key)
    assert session.can_move(-1) and not session.can_move(1)
    scenario = next(item for item in session.items if item.kind == "scenario")
    session.open(scenario.key)
    assert session.can_move(1)  # from a scenario, "next" opens the first lesson


@pytest.mark.parametrize("lang", LANGS)
def test_the_gif_frame_holds_its_whole_legend(lang):
    from trustsim.classroom.animate import frame_figure
    from trustsim.mesa_model.model import TrustModel

    model = TrustModel(n_customers=30)
    model.step()
    fig = frame_figure(model, 0, lang, "t")
    legend = fig.axes[0].get_legend().get_window_extent()
    box = fig.bbox
    assert legend.y0 >= box.y0 and legend.x0 >= box.x0 and legend.x1 <= box.x1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _app(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "trustsim", "app", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


@pytest.mark.slow
def test_app_prints_its_address_only_when_the_page_answers():
    port = _free_port()
    server = _app("--port", str(port))
    try:
        first = server.stdout.readline()
        while first and not first.startswith("classroom:"):
            first = server.stdout.readline()  # asset downloads on a first start
        assert first == f"classroom: http://127.0.0.1:{port}/  (Ctrl-C to stop)\n"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60) as page:
            assert page.status == 200  # at once: no "connection refused"
        assert "--host 0.0.0.0" in server.stdout.readline()
        busy = subprocess.run(
            [sys.executable, "-m", "trustsim", "app", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert busy.returncode == 73 and busy.stdout == ""  # the server cannot be created
        assert busy.stderr.count("\n") == 1
        assert f"cannot create 127.0.0.1:{port}: another program listens there" in busy.stderr
        time.sleep(1)
    finally:
        server.terminate()
        _, err = server.communicate(timeout=60)
    assert "samesite" not in err.lower() and "Traceback" not in err


@pytest.mark.parametrize(
    ("host", "says"),
    [("10.255.255.1", "not an address of this computer"), ("no.such.invalid", "no such address")],
)
def test_a_bad_host_is_one_line_and_status_2(host, says):
    out = subprocess.run(
        [sys.executable, "-m", "trustsim", "app", "--host", host],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith(f"error: --host {host}: {says}") and out.stderr.count("\n") == 1


def _render_page():
    import solara

    from trustsim.classroom import app

    app.ADMISSION.__init__(limit=5)
    _box, rc = solara.render(app.Page(), handle_error=False)
    return rc


def _texts(rc) -> str:
    import ipywidgets

    return " ".join(
        str(getattr(w, "text", "") or getattr(w, "children", "") or getattr(w, "label", ""))
        for w in rc.find(ipywidgets.Widget).widgets
    )


def test_the_page_says_it_is_compiling_while_a_cold_start_warms(monkeypatch):
    pytest.importorskip("solara")
    from trustsim.classroom import app
    from trustsim.classroom.text import text

    monkeypatch.setenv("TRUSTSIM_LANG", "zh")
    app.WARMING.set()
    try:
        rc = _render_page()
        assert text("zh", "compiling") in _texts(rc) or text("en", "compiling") in _texts(rc)
        rc.close()
    finally:
        app.WARMING.clear()
    rc = _render_page()
    assert "编译" not in _texts(rc) and "Compiling" not in _texts(rc)
    rc.close()


def test_warm_up_marks_a_cold_start(monkeypatch, tmp_path):
    from trustsim.classroom import app
    from trustsim.mesa_model import model

    seen = []
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))  # nothing compiled there
    monkeypatch.setattr(model.TrustModel, "step", lambda self: seen.append(app.WARMING.is_set()))
    app._warm_up()
    assert seen == [True] and not app.WARMING.is_set()


def test_on_loopback_the_header_says_how_students_can_connect(monkeypatch):
    pytest.importorskip("solara")
    from trustsim.classroom.commands import announcement
    from trustsim.classroom.text import text

    monkeypatch.setenv("TRUSTSIM_ADDRESS", "")
    monkeypatch.setenv("TRUSTSIM_ANNOUNCE", announcement("127.0.0.1", 8765, [], 5))
    rc = _render_page()
    shown = _texts(rc)
    rc.close()
    assert "127.0.0.1" not in shown.replace(text("zh", "address_local"), "")
    assert "--host 0.0.0.0" in shown


def test_the_first_lessons_previous_button_is_disabled():
    pytest.importorskip("solara")
    import ipyvuetify as v

    rc = _render_page()
    (previous,) = rc.find(v.Btn, class_="ts-previous").widgets
    (following,) = rc.find(v.Btn, class_="ts-next").widgets
    assert previous.disabled is True and following.disabled is False
    rc.close()
