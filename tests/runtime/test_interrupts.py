"""`trustsim run` stopped by Ctrl-C or SIGTERM at fixed points, a staging folder left by
kill -9, and a new run into a folder of an earlier run: one line and exit 130, nothing half
written, and a folder that holds one run."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import ROOT

WAIT = 300.0
SMALL = ["--steps", "3", "--set", "population.n_customers=40", "--no-figure"]
# A run of several seconds on the core engine (the numba cache is warm after the first).
LONG = ["--steps", "400", "--set", "population.n_customers=20000", "--no-figure"]


def trustsim(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "trustsim.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=WAIT,
        **kw,
    )


@contextlib.contextmanager
def as_foreground_job():
    """Children started inside get Ctrl-C's default, as in a terminal's foreground job: a
    suite started in the background of a shell (``cmd &``) has SIGINT ignored, an ignored
    signal stays ignored across exec, and a Python started so keeps ignoring it (as
    ``nohup`` wants). A handler, unlike SIG_IGN, is reset to the default at exec."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_run_interrupted_while_it_computes(tmp_path, sig):
    """The signal lands in the compiled loop (the folder is made just before the run
    starts): exit 130 and one line, not an internal error or a silent 143."""
    assert trustsim("run", *SMALL, "--out", str(tmp_path / "warm")).returncode == 0
    out = tmp_path / "run"
    with as_foreground_job():
        proc = subprocess.Popen(
            [sys.executable, "-m", "trustsim.cli", "run", *LONG, "--out", str(out)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    deadline = time.monotonic() + WAIT
    while not out.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(1.0)  # well inside the run (which takes several seconds)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == [
        f"interrupted: nothing of this run was written to {out}; "
        f"the same command gives the same results"
    ]
    assert list(out.iterdir()) == []


def test_a_staging_folder_left_by_kill_9_is_removed_by_the_next_run(tmp_path):
    out = tmp_path / "run"
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = out / f".staging-{gone.pid}-abc123"
    dead.mkdir(parents=True)
    (dead / "events.parquet").write_bytes(b"x" * 1000)
    live = out / f".staging-{os.getpid()}-def456"  # a writer that still runs: left alone
    live.mkdir()
    proc = trustsim("run", *SMALL, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert not dead.exists() and live.exists()
    assert sorted(p.name for p in out.iterdir()) == [live.name, "run.json", "timeseries.parquet"]


@pytest.mark.slow
def test_a_new_run_into_an_old_runs_folder_leaves_one_run(tmp_path):
    out = tmp_path / "run"
    first = trustsim("run", "--steps", "5", "--set", "population.n_customers=60", "--history",
                     "--out", str(out))  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert {"events.parquet", "trust.png"} <= {p.name for p in out.iterdir()}
    (out / "my notes.txt").write_text("mine")
    second = trustsim("run", *SMALL, "--out", str(out))
    assert second.returncode == 0, second.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "my notes.txt",  # not a file of a run: kept
        "run.json",
        "timeseries.parquet",
    ]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the drop
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupt_python_drops_in_a_finalizer_still_ends_the_work(sig):
    """A signal whose KeyboardInterrupt is raised inside ``__del__`` (or a weakref callback)
    is printed as "Exception ignored" and dropped; the calibration's handler remembers it,
    so the next check between generations stops the work instead of running on."""
    from trustsim.errors import RememberedInterrupts

    class Finalizer:
        def __del__(self):
            signal.raise_signal(sig)  # its handler runs here, inside __del__

    before = signal.getsignal(sig)
    with RememberedInterrupts() as signals:
        signals.check()  # nothing received yet: no interrupt
        Finalizer()  # deleted at once; the KeyboardInterrupt it raises is dropped
        with pytest.raises(KeyboardInterrupt):
            signals.check()
    assert signal.getsignal(sig) is before  # the handler it replaced is back


def test_an_interrupt_that_lands_in_a_weakref_callback_is_remembered_not_printed(monkeypatch):
    """Python drops an exception raised in a weakref callback or finalizer and hands it to
    sys.unraisablehook, whose default prints "Exception ignored" and a traceback; a signal
    that lands there must end the work at the next check and reach no hook (a calibration
    printed such a traceback under load)."""
    import weakref

    from trustsim.errors import RememberedInterrupts

    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)  # what would be printed

    class Thing:
        pass

    with RememberedInterrupts() as signals:
        thing = Thing()
        ref = weakref.ref(thing, lambda _: os.kill(os.getpid(), signal.SIGINT))
        del thing  # the callback runs now, and the handler raises inside it
        assert ref() is None and signals.received == [signal.SIGINT]
        with pytest.raises(KeyboardInterrupt):
            signals.check()
    assert reported == []
    assert sys.unraisablehook == reported.append  # put back
