"""The classroom page in a real browser: `trustsim app` driven by headless Chromium.

Checks the page's views are drawn (ECharts canvases), that steps, play/pause, language,
lessons and parameters work, that every rapid click is a step, that a step shows within a
wide margin of the benchmark's target (benchmarks/bench_classroom.py has the real
figure), that two browsers keep their own models, that without --host the server listens
on 127.0.0.1 only, and that --max-sessions turns an extra visitor away. All traffic goes
to loopback. Needs Debian's chromium (./dev test installs it). Saves
artifacts/classroom_browser.png; with TRUSTSIM_UPDATE_SCREENSHOT=1 also refreshes
docs/img/classroom.png for the README.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser import free_port, launch, trustsim

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 240  # s: the first start may fetch the page assets from the npm registry
UI_TIMEOUT = 30_000  # ms for any one change to show
TO_TOP = "document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; })"


def wait_for(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"trustsim app exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"trustsim app did not answer within {START_TIMEOUT} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def running_app(folder: Path, *args: str):
    """``trustsim app`` on a free loopback port: yields (url, process), stops it after."""
    port = free_port()
    log = folder / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*trustsim(), "app", "--port", str(port), "--lang", "en", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(url, proc, log)
        # the address is printed once the server answers: a moment after the page does
        said = time.monotonic() + 10
        while f"classroom: {url}" not in log.read_text() and time.monotonic() < said:
            time.sleep(0.05)
        assert f"classroom: {url}" in log.read_text()
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("app")) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = launch(pw)
        try:
            yield chromium
        finally:
            chromium.close()


def open_tab(browser, url: str):
    tab = browser.new_context(viewport={"width": 1500, "height": 1150}).new_page()
    tab.goto(url, timeout=120_000)
    tab.locator(".ts-counter").wait_for(timeout=120_000)
    return tab


@pytest.fixture(scope="module")
def page(server, browser):
    tab = open_tab(browser, server[0])
    yield tab
    tab.context.close()


def rendered(tab, selector: str) -> bool:
    """A chart under ``selector`` that ECharts has drawn (a canvas, and the step it shows)."""
    chart = tab.locator(f"{selector} .ts-chart").first
    chart.wait_for(timeout=UI_TIMEOUT)
    return (
        tab.wait_for_function(
            "el => el.dataset.step !== undefined && el.querySelector('canvas')?.width > 100",
            arg=chart.element_handle(),
            timeout=UI_TIMEOUT,
        )
        is not None
    )


def counter(tab) -> str:
    return tab.locator(".ts-counter").inner_text()


def step_no(tab) -> int:
    return int(re.search(r"\d+", counter(tab)).group())


# In-page: click Step, resolve with ms until the counter and the network view show step n.
TIMED_CLICK = """async (n) => {
  const net = document.querySelector('.ts-network .ts-chart');
  const ok = () => +document.querySelector('.ts-counter').innerText.match(/\\d+/)[0] >= n
    && +net.dataset.step >= n;
  const t0 = performance.now();
  document.querySelector('.ts-step').click();
  await new Promise((resolve) => {
    const obs = new MutationObserver(() => { if (ok()) { obs.disconnect(); resolve(); } });
    obs.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
  });
  return performance.now() - t0;
}"""
CLICK_LIMIT_MS = 2000  # the benchmark's target is 150 ms; this only guards against seconds


def test_classroom_page_steps_plays_changes_language(page):
    tab = page
    assert counter(tab) == "Step 0"
    assert (
        rendered(tab, ".ts-ringview")
        and rendered(tab, ".ts-network")
        and rendered(tab, ".ts-plots")
    )
    assert "Repeated trades make an insider" in tab.locator(".ts-lesson").inner_text()

    # move a slider: the control's label shows the new value, and the page says when it applies
    slider = tab.locator(".v-slider", has_text="Probability that a customer needs to buy")
    assert "= 0.5" in slider.inner_text()
    slider.locator(".v-slider-thumb").first.focus()
    tab.keyboard.press("ArrowRight")
    slider.get_by_text("= 0.51").wait_for(timeout=UI_TIMEOUT)
    tab.get_by_text("Changed parameters take effect when you press Reset").wait_for(
        timeout=UI_TIMEOUT
    )
    tab.locator(".ts-reset").click()
    tab.get_by_text("Changed parameters take effect").wait_for(state="detached", timeout=UI_TIMEOUT)

    # step several times: the counter and the plots change
    plots_before = tab.locator(".ts-plots").screenshot()
    for n in range(1, 4):
        tab.locator(".ts-step").click()
        tab.locator(".ts-counter", has_text=f"Step {n}").wait_for(timeout=UI_TIMEOUT)
    tab.locator('.ts-plots .ts-chart[data-step="3"]').first.wait_for(timeout=UI_TIMEOUT)
    assert tab.locator(".ts-plots").screenshot() != plots_before

    # a step shows at once: the counter and the network view within a wide margin
    times = [tab.evaluate(TIMED_CLICK, step_no(tab) + 1) for _ in range(5)]
    assert sorted(times)[2] < CLICK_LIMIT_MS, times

    # clicks as fast as Playwright can click: every one is a step
    start = step_no(tab)
    for _ in range(12):
        tab.locator(".ts-step").click()
    tab.locator(".ts-counter", has_text=f"Step {start + 12}").wait_for(timeout=UI_TIMEOUT)
    tab.wait_for_timeout(1000)
    assert step_no(tab) == start + 12

    # play, then pause: the run advances on its own and stops when paused
    tab.locator(".ts-play").click()
    tab.wait_for_function(
        "() => +document.querySelector('.ts-counter').innerText.match(/\\d+/)[0] >= 30",
        timeout=UI_TIMEOUT,
    )
    tab.locator(".ts-play").click()
    tab.locator(".ts-play", has_text="Play").wait_for(timeout=UI_TIMEOUT)
    tab.wait_for_timeout(1000)  # the last redraw of the run may still arrive
    paused = counter(tab)
    tab.wait_for_timeout(2000)
    assert counter(tab) == paused

    # switch language: labels change
    tab.locator(".ts-lang").click()
    tab.locator(".ts-step", has_text="单步").wait_for(timeout=UI_TIMEOUT)
    # the lesson card and counter are separate components: each redraws on its own
    tab.locator(".ts-lesson", has_text="重复交易造就").wait_for(timeout=UI_TIMEOUT)
    tab.locator(".ts-counter", has_text="第 ").wait_for(timeout=UI_TIMEOUT)

    # next lesson, then open one directly from the picker
    tab.locator(".ts-next").click()
    tab.locator(".ts-lesson", has_text="先看能力，后看人品").wait_for(timeout=UI_TIMEOUT)
    tab.locator(".ts-picker").click()
    tab.get_by_role("option", name="8. 特殊主义与普遍主义的文化").click()
    tab.locator(".ts-lesson", has_text="差序格局很陡").wait_for(timeout=UI_TIMEOUT)
    assert counter(tab) == "第 0 步"
    save_screenshot(tab, "classroom_browser.png")


def test_two_browsers_have_their_own_models(server, browser):
    a, b = open_tab(browser, server[0]), open_tab(browser, server[0])
    try:
        for tab, clicks in ((a, 2), (b, 7)):
            start = step_no(tab)
            for _ in range(clicks):
                tab.locator(".ts-step").click()
            tab.locator(".ts-counter", has_text=f"Step {start + clicks}").wait_for(
                timeout=UI_TIMEOUT
            )
            tab.locator(f'.ts-plots .ts-chart[data-step="{start + clicks}"]').first.wait_for(
                timeout=UI_TIMEOUT
            )
        assert (step_no(a), step_no(b)) == (2, 7)
        assert a.locator(".ts-plots").screenshot() != b.locator(".ts-plots").screenshot()
    finally:
        a.context.close()
        b.context.close()


def test_on_loopback_the_page_says_how_students_connect_and_listens_there_only(server, page):
    import psutil

    url, proc = server
    header = page.locator(".ts-address").inner_text()  # not an address students cannot reach
    assert "--host 0.0.0.0" in header and url not in header
    listening = [
        c.laddr
        for c in psutil.Process(proc.pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert listening and {addr.ip for addr in listening} == {"127.0.0.1"}, listening


def test_a_visitor_past_max_sessions_sees_a_full_page(tmp_path, browser):
    with running_app(tmp_path, "--max-sessions", "1") as (url, _):
        first = open_tab(browser, url)
        second = browser.new_context().new_page()
        second.goto(url, timeout=120_000)
        second.locator(".ts-full", has_text="The classroom is full").wait_for(timeout=120_000)
        assert "教室已满" in second.locator(".ts-full").inner_text()
        assert second.locator(".ts-step").count() == 0
        first.locator(".ts-step").click()  # the admitted one still works
        first.locator(".ts-counter", has_text="Step 1").wait_for(timeout=UI_TIMEOUT)
        first.context.close()
        second.context.close()


def save_screenshot(tab, name: str) -> None:
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    tab.evaluate(TO_TOP)
    tab.screenshot(path=str(artifacts / name), full_page=False)
    if os.environ.get("TRUSTSIM_UPDATE_SCREENSHOT") == "1":
        docs_shot(tab)


def docs_shot(tab) -> None:
    """The README picture: the breach lesson in English, just after the breach."""
    tab.locator(".ts-lang").click()
    tab.locator(".ts-step", has_text="Step").wait_for(timeout=UI_TIMEOUT)
    tab.locator(".ts-picker").click()
    tab.get_by_role("option", name="3. A breach and the slow way back").click()
    tab.locator(".ts-lesson", has_text="A breach and the slow way back").wait_for(
        timeout=UI_TIMEOUT
    )
    tab.locator(".ts-play").click()
    tab.wait_for_function(
        "() => +document.querySelector('.ts-counter').innerText.match(/\\d+/)[0] >= 66",
        timeout=180_000,
    )
    tab.locator(".ts-play").click()
    tab.locator(".ts-play", has_text="Play").wait_for(timeout=UI_TIMEOUT)
    tab.wait_for_timeout(2000)
    tab.evaluate(TO_TOP)
    tab.screenshot(path=str(ROOT / "docs" / "img" / "classroom.png"))
