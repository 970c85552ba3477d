"""The two servers, ``trustsim app`` and ``trustsim class``, started for real on a free
loopback port and stopped by SIGTERM as a service manager would: one line on stderr, exit
130 as every other command, no temporary file left, a played round kept whole."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser import free_port, trustsim

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
START = 400.0  # s: the first class start compiles the model's core


def start(folder: Path, *args: str, ready: str) -> tuple[subprocess.Popen, Path, Path]:
    """A server command in ``folder`` (its working folder too) once it printed ``ready``."""
    out, err = folder / "stdout.log", folder / "stderr.log"
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.Popen([*trustsim(), *args], stdout=o, stderr=e, cwd=folder)
    deadline = time.monotonic() + START
    while ready not in out.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"{args[0]} did not start:\n{out.read_text()}\n{err.read_text()}")
        time.sleep(0.2)
    return proc, out, err


def stop(proc: subprocess.Popen, err: Path) -> list[str]:
    """SIGTERM; the lines said on stderr after it (a first start also says it compiles)."""
    before = len(err.read_text())
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail("the server did not stop within 60 s of SIGTERM")
    assert proc.returncode == 130, err.read_text()
    return err.read_text()[before:].strip().splitlines()


def test_sigterm_stops_the_classroom_page_with_one_line(tmp_path):
    port = free_port()
    proc, _, err = start(tmp_path, "app", "--port", str(port), "--lang", "en", ready="classroom:")
    assert stop(proc, err) == [
        f"stopped: the classroom page at http://127.0.0.1:{port}/ is closed (its sessions "
        "keep nothing); `trustsim app` serves it again"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stderr.log", "stdout.log"]


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_sigterm_stops_a_class_and_keeps_its_rounds(tmp_path):
    session = tmp_path / "session.parquet"
    port = free_port()
    args = ["class", "--port", str(port), "--seats", "2", "--weeks", "1"]
    proc, out, err = start(tmp_path, *args, "--out", str(session), ready="room code")
    said = out.read_text()
    teacher = re.search(r"projector: (\S+)", said).group(1)
    code = re.search(r"room code (\w+)", said).group(1)
    post(f"http://127.0.0.1:{port}/api/join", {"name": "a student", "room": code})
    post(teacher.replace("/t/", "/api/t/") + "/run", {})
    assert stop(proc, err) == [
        f"stopped: the class is closed; every finished round is in {session}"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "session.parquet",
        "stderr.log",
        "stdout.log",
    ]
    from trustsim.classroom.sessionfile import read

    _, rows = read(session)  # whole: it reads
    assert [(row["round"], row["name"]) for row in rows] == [(1, "a student")]


def test_a_class_stopped_before_a_round_says_none_was_played(tmp_path):
    from types import SimpleNamespace

    from trustsim.classroom.playcmd import stopped_line

    assert (
        stopped_line(SimpleNamespace(saved=""))
        == "stopped: the class is closed; no round was played"
    )
