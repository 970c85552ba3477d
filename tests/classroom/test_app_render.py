"""The classroom page rendered in-process (no browser): what a step redraws and sends.

The browser test (test_app_browser.py) drives the real page; this one counts component
renders and checks the data the views send, which a browser cannot see.
"""

from __future__ import annotations

import ipyvuetify as v
import ipywidgets
import pytest

pytest.importorskip("solara")

import solara

from trustsim.classroom import app
from trustsim.classroom.chart import Chart


@pytest.fixture
def page():
    app.ADMISSION.__init__(limit=5)
    _box, rc = solara.render(app.Page(), handle_error=False)
    yield rc
    rc.close()


def by_class(rc, cls: str, kind=ipywidgets.Widget) -> list:
    return rc.find(kind, class_=cls).widgets


def click(rc, cls: str) -> None:
    (button,) = by_class(rc, cls, v.Btn)
    button.click()


def counter(rc) -> str:
    (widget,) = by_class(rc, "ts-counter")
    return str(getattr(widget, "text", None) or getattr(widget, "children", ""))


def charts(rc) -> list[Chart]:
    return rc.find(Chart).widgets


def test_a_step_renders_no_component_only_sends_the_step(page):
    before = dict(app.RENDERS)
    click(page, "ts-step")
    assert dict(app.RENDERS) == before  # controls, lesson card, views: none redrawn
    assert counter(page) == "['第 1 步']"


def test_a_step_sends_data_not_pictures(page):
    ring, network, *plots = charts(page)
    bases = []
    network.observe(bases.append, "base")
    click(page, "ts-step")
    click(page, "ts-step")
    assert bases == []  # positions and ties went once, with the world
    assert network.patch.data["step"] == 2
    nodes = network.patch.data["series"]["nodes"]
    assert nodes["column"] == 2 and len(nodes["values"]) == 200
    assert ring.patch.data["step"] == 2
    for chart in plots:
        for tail in chart.patch.data["series"].values():
            assert tail["start"] == 1 and [row[0] for row in tail["rows"]] == [2]


def test_clicks_all_count(page):
    for _ in range(7):
        click(page, "ts-step")
    assert counter(page) == "['第 7 步']"


def test_reset_starts_a_new_world_and_resends_everything(page):
    _ring, network, *plots = charts(page)
    click(page, "ts-step")
    world = network.base.data["world"]
    click(page, "ts-reset")
    _ring, network, *plots = charts(page)
    assert network.base.data["world"] == world + 1
    assert all(tail["start"] == 0 for c in plots for tail in c.patch.data["series"].values())


def test_a_full_room_turns_visitors_away():
    app.ADMISSION.__init__(limit=1)
    first = solara.render(app.Page(), handle_error=False)[1]
    second = solara.render(app.Page(), handle_error=False)[1]
    try:
        assert not by_class(first, "ts-full")
        assert len(by_class(second, "ts-full")) == 1
        assert not charts(second)
    finally:
        first.close()
    third = solara.render(app.Page(), handle_error=False)[1]  # the first one's place is free
    try:
        assert not by_class(third, "ts-full")
    finally:
        second.close()
        third.close()


def test_students_are_told_a_network_address_not_loopback():
    from trustsim.classroom.commands import lan_addresses, student_urls

    assert student_urls("127.0.0.1", 8765) == ["http://127.0.0.1:8765/"]
    urls = student_urls("0.0.0.0", 8765)
    assert urls and all(u.startswith("http://") and u.endswith(":8765/") for u in urls)
    if lan_addresses():
        assert not any("127.0.0.1" in u for u in urls)


def test_a_bad_session_limit_is_one_line_and_exit_2():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "trustsim.cli", "app", "--max-sessions", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert "--max-sessions 0: must be at least 1" in out.stderr
    assert "Traceback" not in out.stderr
