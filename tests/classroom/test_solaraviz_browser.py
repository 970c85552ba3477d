"""trustsim's TrustModel in Mesa's own SolaraViz (docs/examples/mesa_solaraviz.py), served
from a folder outside the checkout and driven by headless Chromium: it renders, steps, and
Reset builds a new model from the sliders (it used to crash: 'Scenario' object has no
attribute 'population')."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.browser import free_port, launch
from tests.helpers import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]
EXAMPLE = ROOT / "docs" / "examples" / "mesa_solaraviz.py"
GRID = ("@widgetti/vue-grid-layout", "2.3.13-alpha.2")  # what Mesa's SolaraViz loads


def test_solaraviz_renders_trustmodel_and_reset_works(tmp_path):
    from playwright.sync_api import sync_playwright

    from trustsim.classroom.assets import cache_dir, ensure, fetch

    ensure(log=print)  # Solara's page assets, from the npm registry when not cached
    if shutil.which("npm") and not (cache_dir() / f"{GRID[0]}@{GRID[1]}").is_dir():
        fetch(*GRID)  # SolaraViz lays its components out with it
    shutil.copy(EXAMPLE, tmp_path / EXAMPLE.name)
    port = free_port()
    log = tmp_path / "server.log"
    cmd = [sys.executable, "-m", "solara", "run", EXAMPLE.name, "--port", str(port)]
    cmd += ["--host", "127.0.0.1", "--production", "--no-open"]
    with log.open("w") as out:
        server = subprocess.Popen(cmd, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()[-3000:]
            try:
                urllib.request.urlopen(url, timeout=5).close()
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as pw:
            browser = launch(pw)
            tab = browser.new_page()
            tab.goto(url, timeout=120_000)
            tab.get_by_text("Time: 0.0").wait_for(timeout=120_000)
            step = tab.get_by_role("button", name="Step")
            step.click()
            tab.get_by_text("Time: 1.0").wait_for(timeout=60_000)
            step.click()
            tab.get_by_text("Time: 2.0").wait_for(timeout=60_000)
            tab.get_by_role("button", name="Reset").click()
            tab.get_by_text("Time: 0.0").wait_for(timeout=60_000)
            step.click()
            tab.get_by_text("Time: 1.0").wait_for(timeout=60_000)
            assert tab.get_by_text("error").count() == 0
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_text()
    assert "Traceback" not in text and "AttributeError" not in text, text[-3000:]
