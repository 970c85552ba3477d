"""Drawing a run's figure in a second process while the run computes.

Importing matplotlib and drawing the figure take about half of `trustsim run`'s start-up
on one core. :class:`FigureDrawer` starts a worker process before the run; it imports
matplotlib and lays out the panels (:func:`trustsim.runtime.report.figure_frame`) while the run
computes, then plots the data it is sent. The worker only ever saves time: whatever goes
wrong with it, the figure is drawn in-process by :func:`trustsim.runtime.report.save_figure`, the
same figure byte for byte, with the same errors.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from trustsim.errors import UsageError
from trustsim.runtime.report import figure_data, figure_frame, plot_figure, save_figure

if TYPE_CHECKING:
    from trustsim.runtime.run import RunResult

# The second process of FigureDrawer: lays out the frame, then draws what arrives on stdin.
WORKER = "from trustsim.runtime.drawer import figure_worker; figure_worker()"
DRAWN = b"drawn\n"  # what the worker says once the figure is saved
WORKER_TIMEOUT = 120  # s after the data was sent; drawing takes well under one
FIGURE_WORKER = "TRUSTSIM_FIGURE_WORKER"  # 1: always use it, 0: never, unset: if a core is free


class FigureDrawer:
    """Draws a run's figure in a second process, started before the run: it imports
    matplotlib and lays out the panels while this process computes, so on a machine with
    two cores the figure costs `trustsim run` little more than drawing the lines.

    The worker only ever saves time: if it cannot start, dies, or fails in any way,
    :meth:`finish` draws the figure here, with the same result and the same errors as
    :func:`save_figure`. Call :meth:`close` when done (or use a context manager): a
    worker that was sent nothing, because the run failed or was interrupted, then ends
    without drawing.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._worker = _start_worker()
        self._result: RunResult | None = None

    def send(self, result: RunResult) -> None:
        """Hand ``result`` to the worker, which draws while this process goes on."""
        self._result = result
        worker = self._worker
        if worker is not None:
            data = {**figure_data(result), "path": str(self.path.absolute())}
            try:
                pickle.dump(data, worker.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                worker.stdin.flush()  # it reads exactly one pickle: no need to close
            except OSError:  # it died before reading all: finish() draws here
                self.close()

    def finish(self) -> Path:
        """The figure of the result sent, saved at ``path`` once this returns."""
        worker = self._worker
        if worker is not None:
            try:
                said, _ = worker.communicate(timeout=WORKER_TIMEOUT)
                if worker.returncode == 0 and said == DRAWN:
                    return self.path
            except subprocess.TimeoutExpired:  # stuck: draw here
                worker.kill()
            finally:
                self.close()
        return save_figure(self._result, self.path)

    def close(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            _end(worker)

    def __enter__(self) -> FigureDrawer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _start_worker() -> subprocess.Popen | None:
    """The worker process, or None where it cannot help: no core to spare, or a test that
    counts this process's writes (TRUSTSIM_FAIL_WRITE). TRUSTSIM_FIGURE_WORKER=1 or 0
    decides instead of :func:`spare_core` (for tests and benchmarks)."""
    from trustsim.runtime.files import FAIL_WRITE

    wanted = os.environ.get(FIGURE_WORKER, "")
    if wanted not in ("0", "1", ""):
        raise UsageError(
            f"{FIGURE_WORKER}={wanted!r}: use 1 (draw the figure in a second process), 0 (in "
            "this one) or leave it unset (a second process when a core is free)"
        )
    if not wanted:
        wanted = "1" if spare_core() else "0"
    if wanted == "0" or os.environ.get(FAIL_WRITE) or not sys.executable:
        return None
    try:
        return subprocess.Popen(
            [sys.executable, "-c", WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # its failures are drawn again here, where they show
        )
    except OSError:
        return None


def spare_core() -> bool:
    """Whether a core is free for the figure's worker besides this process. Where all
    cores are busy the worker only takes time from the run (measured on 2 cores with one
    taken by another job: 2.05 s with it against 1.74 s without), so the figure is then
    drawn here. Judged by the tasks running right now, not the load average, which lags a
    minute behind (a benchmark's own earlier runs would count); a wrong guess costs time,
    never a different figure."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:  # "0.52 0.58 0.59 2/191 4242": 2 tasks runnable now, this process included
        others = int(Path("/proc/loadavg").read_text().split()[3].split("/")[0]) - 1
    except (OSError, ValueError, IndexError):
        others = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return (cpus or 1) - others >= 2


def _end(worker: subprocess.Popen) -> None:
    """End of input: a worker still waiting exits without drawing."""
    with contextlib.suppress(OSError):
        worker.stdin.close()
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
    worker.stdout.close()


def figure_worker() -> None:
    """Lay out the frame, then plot the data :class:`FigureDrawer` sends on stdin, save
    it and say so; exit quietly when stdin ends without data (the run failed)."""
    from trustsim.runtime.files import atomic_write  # noqa: F401  (loaded now, not after the data came)

    fig = figure_frame()
    try:
        data = pickle.load(sys.stdin.buffer)
    except EOFError:
        return
    plot_figure(fig, data, Path(data["path"]))
    sys.stdout.buffer.write(DRAWN)
