"""``trustsim class`` in real headless Chromium, all on 127.0.0.1: a teacher and 30
students join, choose and play 3 rounds; every student sees their own results after each
round; a student who drops and comes back through the link is the same salesperson; the
session file replays exactly; a forged token and an out-of-range choice are refused
without touching anyone else; the projector (1280x720) and a phone (375x667) need no
vertical scrolling. Saves the screenshots under artifacts/ (docs/img/ with
TRUSTSIM_UPDATE_SCREENSHOT=1).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.browser import class_server, launch, trustsim

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
STUDENTS = 30
ROUNDS = 3
UI_TIMEOUT = 60_000  # ms
NO_SCROLL = "document.documentElement.scrollHeight <= window.innerHeight"


def post(url: str, body) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def shoot(page, name: str) -> None:
    folder = ROOT / ("docs/img" if os.environ.get("TRUSTSIM_UPDATE_SCREENSHOT") else "artifacts")
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / name))


def wait_round(page, n: int) -> None:
    page.wait_for_function(f"document.body.dataset.round >= {n}", timeout=UI_TIMEOUT)


def test_a_class_of_30_plays_three_rounds(tmp_path):
    from playwright.sync_api import sync_playwright

    args = ("--lang", "en", "--seats", "40", "--weeks", "6")
    with class_server(tmp_path, *args) as server, sync_playwright() as pw:
        base, teacher_url, room, out = server.base, server.teacher, server.room, server.out
        assert teacher_url.startswith(base + "/t/")
        browser = launch(pw)
        try:
            teacher = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
            teacher.goto(teacher_url)
            teacher.locator("#code").filter(has_text=room).wait_for(timeout=UI_TIMEOUT)
            assert teacher.locator("#qr").evaluate("e => e.naturalWidth") > 0  # the QR code

            phones, links = [], []
            for i in range(STUDENTS):
                page = browser.new_context(viewport={"width": 375, "height": 667}).new_page()
                page.goto(f"{base}/?room={room}")
                page.fill("#name", f"student {i}")
                page.click("#go")
                page.wait_for_url(re.compile(r"/p/"), timeout=UI_TIMEOUT)
                page.locator("#who").filter(has_text=f"student {i}").wait_for()
                phones.append(page)
                links.append(page.url)
            teacher.wait_for_function(
                f"document.querySelector('#count').textContent.includes('of {STUDENTS}')"
            )

            for r in range(1, ROUNDS + 1):
                for i, page in enumerate(phones):
                    if i % 5 == 4 and r > 1:
                        continue  # they do not choose: last round's choice is kept
                    page.locator("#style").fill(str((i % 5) / 4))
                    page.locator("#oversell").set_checked(i % 3 == 0)
                    page.click("#send")
                    page.locator("#send").filter(has_text="Chosen").wait_for()
                teacher.wait_for_function(
                    "document.querySelector('#count').textContent.startsWith("
                    f"'{STUDENTS if r == 1 else STUDENTS - STUDENTS // 5} of')"
                )
                teacher.click("#run")
                for i, page in enumerate(phones):
                    wait_round(page, r)
                    shown = page.locator("#figs").inner_text()
                    assert f"after round {r}" in shown, (i, shown)
                    assert page.locator("#who").inner_text() == f"student {i}"
                if r == 2:  # a phone drops its connection and comes back through its link
                    seat_before = phones[7].evaluate("P.state.seat")
                    sales_before = phones[7].evaluate("P.state.history.map(h => h.sales)")
                    phones[7].context.close()
                    again = browser.new_context(viewport={"width": 375, "height": 667})
                    phones[7] = again.new_page()
                    phones[7].goto(links[7])
                    wait_round(phones[7], 2)
                    assert phones[7].evaluate("P.state.seat") == seat_before
                    assert phones[7].evaluate("P.state.history.map(h => h.sales)") == sales_before
                    assert phones[7].locator("#who").inner_text() == "student 7"

            # the server's own record: 30 students x 3 rounds, each student their own seat
            token = links[0].rsplit("/", 1)[1]
            with urllib.request.urlopen(f"{base}/api/p/{token}?since=-1") as r:
                me = json.loads(r.read())
            assert [h["round"] for h in me["history"]] == [1, 2, 3]

            # bad input from a client changes nothing for anyone else
            status, body = post(f"{base}/api/p/forged-token/choose", {"style": 0.5})
            assert status == 404 and "unknown player" in body["error"]
            status, body = post(f"{base}/api/p/{token}/choose", {"style": 7})
            assert status == 400 and "out of range" in body["error"]
            status, body = post(f"{teacher_url.replace('/t/', '/api/t/')}x/run", {})
            assert status == 403
            status, body = post(f"{base}/api/join", {"name": "x", "room": "WRONG"})
            assert status == 403
            with urllib.request.urlopen(f"{base}/api/p/{token}?since=-1") as r:
                assert json.loads(r.read())["round"] == ROUNDS

            assert teacher.evaluate(NO_SCROLL), "the projector page scrolls at 1280x720"
            assert phones[1].evaluate(NO_SCROLL), "the student page scrolls at 375x667"
            shoot(teacher, "class_projector.png")
            shoot(phones[1], "class_student.png")
            teacher.click("#deb")
            teacher.locator("table.deb").wait_for(timeout=UI_TIMEOUT)
            assert teacher.evaluate(NO_SCROLL)
            shoot(teacher, "class_debrief.png")
        finally:
            browser.close()

        replay = subprocess.run(
            [*trustsim(), "class", "replay", str(out)], capture_output=True, text=True, cwd=ROOT
        )
        assert replay.returncode == 0, replay.stderr
        assert f"{ROUNDS} rounds, {STUDENTS * ROUNDS} student-rounds reproduced" in replay.stdout
