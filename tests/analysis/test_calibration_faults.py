"""A calibration folder is as safe as a sweep folder: a generation is stored wholly or not
at all, a resumed calibration gives the posterior of an uninterrupted one (interrupted by
SIGINT, SIGTERM or kill -9 at fixed points), two workers give the posterior of one, the
folder's owner is checked even when calibration.json is damaged or missing, and a second
calibration is refused."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.analysis.calibration_helpers import observe_truth, targets_text
from tests.analysis.test_calibration import generations
from tests.helpers import ROOT, disk_full_at
from trustsim.analysis.calibration.abc import PAUSE, WORK_NAME, calibrate
from trustsim.analysis.calibration.plan import make_plan
from trustsim.analysis.calibration.targets import load_targets
from trustsim.errors import ScenarioError, UsageError

pytestmark = [pytest.mark.slow]
WAIT = 300.0
SIZES = {"budget": 260, "population_size": 8}  # 4 generations of 8 particles, 2 replicates


@pytest.fixture(scope="module")
def observed():
    return observe_truth()


@pytest.fixture(scope="module")
def targets(observed, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("targets") / "t.toml"
    path.write_text(targets_text(observed, **SIZES))
    return path


@pytest.fixture(scope="module")
def reference(targets, tmp_path_factory):
    """An uninterrupted calibration with one worker."""
    out = tmp_path_factory.mktemp("reference") / "out"
    outcome = calibrate(targets, out, workers=1, progress=False)
    assert outcome.generations >= 3, "too few generations to interrupt between"
    return outcome


def assert_same_posterior(out: Path, reference) -> None:
    post = pd.read_parquet(out / "posterior.parquet")
    pd.testing.assert_frame_equal(post, reference.posterior.reset_index(drop=True))
    assert generations(out / "abc.db") == generations(reference.out / "abc.db")


def cli_cmd(path: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "trustsim.cli", "calibrate", str(path), "--out", str(out)] + [
        "--workers",
        "1",
        "--quiet",
    ]


def interrupt_after(path: Path, out: Path, stored: int, sig: int) -> subprocess.CompletedProcess:
    """Start a calibration, wait until ``stored`` generations are in abc.db (0: until the
    movability check is running, before abc.db exists), then send ``sig``."""
    env = {**os.environ, PAUSE: str(stored)}  # it waits there: the signal's point is fixed
    proc = subprocess.Popen(
        cli_cmd(path, out),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + WAIT
    ready = ((out / "calibration.json").exists) if stored == 0 else None
    while not (ready() if ready else generations(out / "abc.db") >= stored):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.01)
    os.kill(proc.pid, sig)
    stdout, stderr = proc.communicate(timeout=WAIT)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


@pytest.mark.parametrize(
    ("sig", "stored"),
    [(signal.SIGKILL, 0), (signal.SIGINT, 1), (signal.SIGTERM, 2), (signal.SIGKILL, 1)],
    ids=["kill-9-while-screening", "ctrl-c-after-1", "sigterm-after-2", "kill-9-after-1"],
)
def test_resume_after_an_interruption_gives_the_uninterrupted_posterior(
    targets, reference, tmp_path, sig, stored, capsys
):
    from trustsim.cli import main

    out = tmp_path / "out"
    stopped = interrupt_after(targets, out, stored, sig)
    assert not (out / "posterior.parquet").exists()
    if sig != signal.SIGKILL:
        assert stopped.returncode == 130, stopped.stderr
        lines = stopped.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("interrupted: "), stopped.stderr
        assert not (out / WORK_NAME).exists()  # the unfinished generation's copy is gone
    # The same command resumes it, in this process: a second start of Python and pyabc
    # would cost seconds and check nothing more.
    code = main(cli_cmd(targets, out)[3:])
    said = capsys.readouterr()
    assert code == 0, said.err
    assert "Traceback" not in said.err
    if stored:  # a generation was kept: the session says it went on from it
        assert "(resumed)" in said.out
        state = json.loads((out / "calibration.json").read_text())
        assert state["sessions"][-1]["resumed"] is True
    assert_same_posterior(out, reference)


def test_two_workers_give_the_one_worker_posterior(targets, reference, tmp_path):
    """A generation takes its candidates in draw order, whichever worker finishes first:
    the particles, the draw count and every stored generation are those of one worker."""
    out = tmp_path / "out"
    outcome = calibrate(targets, out, workers=2, progress=False)
    assert outcome.simulations == reference.simulations
    assert_same_posterior(out, reference)


def test_an_interruption_while_pyabc_stores_a_generation_loses_only_that_one(
    targets, reference, tmp_path, monkeypatch
):
    """KeyboardInterrupt raised inside the store step after 3 particles were written (what
    a Ctrl-C there does): abc.db keeps only whole generations, and the resumed calibration
    ends as an uninterrupted one."""
    from pyabc.storage.history import History

    original = History._save_to_population_db
    calls = []

    def interrupted_store(self, t, eps, n, particles, *args, **kwargs):
        calls.append(t)
        if len(calls) == 2:  # the second generation: store part of it, then stop
            original(self, t, eps, n, {m: p[:3] for m, p in particles.items()}, *args, **kwargs)
            raise KeyboardInterrupt
        return original(self, t, eps, n, particles, *args, **kwargs)

    out = tmp_path / "out"
    monkeypatch.setattr(History, "_save_to_population_db", interrupted_store)
    with pytest.raises(KeyboardInterrupt, match="the finished generations are kept"):
        calibrate(targets, out, workers=1, progress=False)
    monkeypatch.setattr(History, "_save_to_population_db", original)
    assert generations(out / "abc.db") == 1
    calibrate(targets, out, workers=1, progress=False)
    assert_same_posterior(out, reference)
    assert not (out / "damaged").exists()


# ----------------------------------------------------------------------------- the owner


def another_file(observed, tmp_path: Path) -> Path:
    path = tmp_path / "other.toml"
    path.write_text(targets_text(observed, **{**SIZES, "budget": 261}))
    return path


@pytest.mark.parametrize("state", ["missing", "damaged"])
def test_a_folder_of_another_file_is_refused_without_calibration_json(
    reference, observed, tmp_path, state, capsys
):
    from trustsim.cli import main

    out = tmp_path / "out"
    shutil.copytree(reference.out, out)
    if state == "missing":
        (out / "calibration.json").unlink()
    else:
        (out / "calibration.json").write_bytes(b'{"targets_sha256": "ab')
    before = (out / "abc.db").read_bytes()
    assert main(["calibrate", str(another_file(observed, tmp_path)), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    line = [ln for ln in err.splitlines() if not ln.startswith("warning: ")]
    assert len(line) == 1 and "another targets file" in line[0] and str(out) in line[0], err
    assert (out / "abc.db").read_bytes() == before
    if state == "damaged":
        assert "calibration.json: damaged" in err
        assert (out / "damaged" / "calibration.json").exists()


def test_its_own_folder_resumes_without_calibration_json(reference, targets, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(reference.out, out)
    (out / "calibration.json").unlink()
    o = calibrate(targets, out, workers=1, progress=False)
    assert o.resumed
    assert_same_posterior(out, reference)
    assert json.loads((out / "calibration.json").read_text())["targets_file"] == str(targets)


def test_a_second_calibration_in_the_folder_is_refused(targets, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running calibration holds it
        with pytest.raises(UsageError, match="another calibration is writing to this folder"):
            calibrate(targets, out, workers=1, progress=False)
    assert [p.name for p in out.iterdir()] == [".lock"]


def test_a_refused_calibration_leaves_no_trace(targets, tmp_path):
    out = tmp_path / "new"
    with pytest.raises(UsageError, match="--workers 0"):
        calibrate(targets, out, workers=0, progress=False)
    assert not out.exists()


# ----------------------------------------------------------------------------- the file


def test_an_id_that_is_not_a_plain_name_is_refused(observed, tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(targets_text(observed).replace('id = "recovery"', 'id = "../../elsewhere"'))
    with pytest.raises(ScenarioError, match=r"calibration\.id"):
        load_targets(path)


def test_conflicting_inputs_are_said(observed, tmp_path, capsys):
    path = tmp_path / "t.toml"
    text = targets_text(observed).replace("window = 30", "window = 90")
    path.write_text(text.replace('"run.steps=60"', '"run.steps=60", "wom.positive_prob=0.3"'))
    t = load_targets(path)
    err = capsys.readouterr().err
    assert "priors.'wom.positive_prob' and calibration.set both give" in err
    assert "the prior wins" in err
    assert "calibration.window = 90 is longer than the run (60 steps)" in err
    make_plan(t, 400, quick=True)
    assert "--budget 400 wins over --quick's budget (300)" in capsys.readouterr().err
    make_plan(t, None, quick=True)
    assert capsys.readouterr().err == ""


def test_a_full_disk_at_the_end_says_the_generations_are_kept(
    reference, targets, tmp_path, monkeypatch, capsys
):
    import trustsim.analysis.calibration.report as report
    from trustsim.cli import main

    out = tmp_path / "out"
    shutil.copytree(reference.out, out)
    disk_full_at(monkeypatch, report, "report.html")
    assert main(["calibrate", str(targets), "--out", str(out), "--workers", "1", "--quiet"]) == 74
    err = capsys.readouterr().err
    assert "nothing else was changed" not in err and f"cannot write {out / 'report.html'}" in err
    n = reference.generations
    assert (
        f"{n} finished generations are kept in {out / 'abc.db'}; "
        "free space and run the same command again to go on"
    ) in err
    assert not list(out.glob(".report.html.*"))


def test_a_full_disk_before_a_generation_says_none_is_kept(targets, tmp_path, monkeypatch, capsys):
    import trustsim.analysis.calibration.prior_check as prior_check
    from trustsim.cli import main

    out = tmp_path / "out"
    disk_full_at(monkeypatch, prior_check, "prior_check.json")
    assert main(["calibrate", str(targets), "--out", str(out), "--workers", "1", "--quiet"]) == 74
    err = capsys.readouterr().err
    assert (
        "nothing else was changed" not in err and f"cannot write {out / 'prior_check.json'}" in err
    )
    assert "no generation was finished and nothing of this calibration was kept" in err
    assert not (out / "abc.db").exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_to_the_group_with_two_workers_gives_one_line_and_no_worker_traceback(
    targets, tmp_path, sig
):
    """Ctrl-C in a terminal (or a batch system's SIGTERM) signals the whole process group,
    the pool's workers too, while they compute pyabc's draws: the calibration says what is
    kept in one line, exit 130, and no worker prints a traceback of its own."""
    out = tmp_path / "out"
    cmd = cli_cmd(targets, out)
    cmd[cmd.index("--workers") + 1] = "2"
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's job has
    )
    deadline = time.monotonic() + WAIT
    # the generations have begun (abc.db is made just before them) on the pool's workers
    while len(workers_of(proc.pid)) < 2 or not (out / "abc.db").exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no workers"
        time.sleep(0.01)
    time.sleep(0.3)  # they are computing draws
    os.killpg(proc.pid, sig)
    _, stderr = proc.communicate(timeout=WAIT)
    assert proc.returncode == 130, stderr
    assert stderr.splitlines() == [
        f"interrupted: the finished generations are kept in {out / 'abc.db'}; "
        "run the same command again to go on"
    ]


def workers_of(pid: int) -> list:
    """The calibration's pool workers: its descendants that run the worker entry point."""
    import psutil

    try:
        found = psutil.Process(pid).children(recursive=True)
        return [p for p in found if "spawn_main" in " ".join(p.cmdline()) or p.ppid() != pid]
    except psutil.NoSuchProcess:
        return []
