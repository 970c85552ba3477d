"""Debian's Chromium under Playwright, set up once for every browser test and benchmark.

``launch(playwright)`` starts headless /usr/bin/chromium (or the ``chromium`` on PATH)
with the arguments below: no sandbox (containers), no GPU, no QUIC and no background
network traffic (all test traffic stays on 127.0.0.1), and no throttling of background
tabs' timers (many contexts are open at once).
"""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-renderer-backgrounding",
    "--disable-background-timer-throttling",
]


def launch(playwright):
    """A headless Chromium browser (Playwright's sync or async API, as given)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
