"""The lesson page in real headless Chromium: it fits a projector, works on a phone, and
runs a predict-observe-explain step.

At 1280x720 the document must not scroll (its height at most the viewport's) and every
live plot must be on screen at a readable size; at 375x667 (a phone) nothing may stick
out sideways. Screenshots go to docs/img/lesson_1280x720.png and lesson_375x667.png.
Then the class predicts, runs to the prediction's step and sees the outcome beside the
prediction, with the lesson's prompt; the prediction's record holds both. Loopback only.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.classroom.test_app_browser import UI_TIMEOUT, browser, running_app  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
IMG = ROOT / "docs" / "img"
MEASURE = """() => {
  const box = (sel) => [...document.querySelectorAll(sel)].map((e) => e.getBoundingClientRect());
  const d = document.documentElement;
  return {scroll: d.scrollHeight, width: d.scrollWidth, view: innerHeight, viewWidth: innerWidth,
          plots: box('.ts-plot .ts-chart').map((r) => [r.top, r.bottom, r.width, r.height]),
          views: box('.ts-view .ts-chart').map((r) => [r.top, r.bottom, r.width, r.height])};
}"""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lesson")
    record = folder / "predictions.csv"
    with running_app(folder, "--predictions", str(record)) as (url, _proc):
        yield url, record


def open_at(browser, url: str, width: int, height: int):
    tab = browser.new_context(viewport={"width": width, "height": height}).new_page()
    for _ in range(40):  # a page opened while the server compiles says so until reloaded
        tab.goto(url, timeout=120_000)
        tab.locator(".ts-counter").wait_for(timeout=120_000)
        if tab.locator(".ts-compiling").count() == 0:
            break
        tab.wait_for_timeout(5000)
    tab.locator(".ts-plot .ts-chart").nth(3).wait_for(timeout=UI_TIMEOUT)
    tab.wait_for_function(
        "() => [...document.querySelectorAll('.ts-chart')].every(e => e.dataset.step !== undefined)",
        timeout=UI_TIMEOUT,
    )
    tab.wait_for_timeout(1500)  # ECharts paints on the next animation frames
    return tab


def test_the_lesson_page_fits_a_projector_without_scrolling(app, browser):
    tab = open_at(browser, app[0], 1280, 720)
    try:
        m = tab.evaluate(MEASURE)
        tab.screenshot(path=str(IMG / "lesson_1280x720.png"))
        assert m["scroll"] <= m["view"], m  # page height within the viewport: no scroll
        assert len(m["plots"]) >= 4 and len(m["views"]) == 2, m
        for top, bottom, width, height in m["plots"] + m["views"]:
            assert top >= 0 and bottom <= m["view"], m  # on screen, not below the fold
            assert width >= 250 and height >= 140, m  # and big enough to read
    finally:
        tab.context.close()


def test_the_lesson_page_is_usable_on_a_phone(app, browser):
    tab = open_at(browser, app[0], 375, 667)
    try:
        m = tab.evaluate(MEASURE)
        tab.screenshot(path=str(IMG / "lesson_375x667.png"))
        assert m["width"] <= m["viewWidth"], m  # nothing sticks out sideways
        for _top, _bottom, width, height in m["plots"] + m["views"]:
            assert 300 <= width <= 375 and height >= 200, m
        tab.locator(".ts-step").click()  # the controls work at this size
        tab.locator(".ts-counter", has_text="1").wait_for(timeout=UI_TIMEOUT)
    finally:
        tab.context.close()


def test_predict_run_and_see_the_outcome_beside_the_prediction(app, browser):
    url, record = app
    tab = open_at(browser, url, 1280, 720)
    try:
        assert tab.locator(".ts-step").inner_text().lower() == "step"  # --lang en
        panel = tab.locator(".ts-predict")
        assert "At step 60, what share of customers" in panel.inner_text()
        assert "Run to step 60" in tab.locator(".ts-observed").inner_text()
        commit = tab.locator(".ts-commit")
        assert commit.is_disabled()  # nothing chosen yet
        tab.locator(".ts-choice", has_text="20 % to 40 %").click()
        commit.click()
        tab.locator(".ts-predicted", has_text="Our prediction: 20 % to 40 %").wait_for(
            timeout=UI_TIMEOUT
        )
        (row,) = list(csv.DictReader(record.open(encoding="utf-8")))
        assert (row["lesson"], row["answer"], row["seed"], row["outcome"]) == (
            "repeated_trades",
            "1.0",
            "3",
            "",
        )
        assert row["made"]

        tab.locator(".ts-play").click()  # run to step 60 and beyond
        tab.locator(".ts-observed", has_text="The model at step 60:").wait_for(timeout=120_000)
        tab.locator(".ts-play").click()
        observed = tab.locator(".ts-observed").inner_text()
        assert "Our prediction: 20 % to 40 %" in panel.inner_text()  # side by side
        assert tab.locator(".ts-explain").inner_text().startswith("Explain: Did the model")
        tab.screenshot(path=str(IMG / "lesson_predicted.png"))

        (row,) = list(csv.DictReader(record.open(encoding="utf-8")))
        value = float(row["outcome"])
        assert f"{value:.3g}" in observed and row["observed"]
        shown = observed.rsplit("(", 1)[1].rstrip(")")
        ranges = ["under 20 %", "20 % to 40 %", "40 % or more"]
        assert shown == ranges[(value >= 0.2) + (value >= 0.4)]  # the range the value is in
    finally:
        tab.context.close()
