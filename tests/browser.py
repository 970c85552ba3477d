"""Debian's Chromium under Playwright, set up once for every browser test and benchmark.

``launch(playwright)`` starts headless /usr/bin/chromium (or the ``chromium`` on PATH)
with the arguments below: no sandbox (containers), no GPU, no QUIC and no background
network traffic (all test traffic stays on 127.0.0.1), and no throttling of background
tabs' timers (many contexts are open at once).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

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


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def trustsim() -> list[str]:
    """The ``trustsim`` command of this environment."""
    script = Path(sys.executable).with_name("trustsim")
    return [str(script)] if script.exists() else [sys.executable, "-m", "trustsim.cli"]


@dataclass
class ClassServer:
    base: str  # http://127.0.0.1:PORT
    teacher: str  # the projector's link
    room: str  # the room code
    out: Path  # the session file
    pid: int


@contextlib.contextmanager
def class_server(folder: Path, *args: str, timeout: float = 400):
    """``trustsim class`` on a free loopback port, stopped after; the first start compiles
    the model's core, hence the long ``timeout``."""
    port = free_port()
    log, out = folder / "server.log", folder / "session.parquet"
    with log.open("w") as fh:
        cmd = [*trustsim(), "class", "--port", str(port), "--out", str(out), *args]
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + timeout
        while "room code" not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"trustsim class did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        text = log.read_text()
        teacher = re.search(r"projector: (\S+)", text).group(1)
        room = re.search(r"room code (\w+)", text).group(1)
        yield ClassServer(f"http://127.0.0.1:{port}", teacher, room, out, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
