"""Sweep progress on stderr: a live bar (runs done, rate, ETA) in a terminal, a plain line
every few seconds in a log file or CI."""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

LOG_EVERY_SECONDS = 10.0


class RateColumn(ProgressColumn):
    """Runs per second over this session's runs (resumed ones do not count)."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f} runs/s" if speed else "-- runs/s", style="progress.data.speed")


class SweepProgress:
    """``advance(n)`` after each finished batch; ``close()`` at the end."""

    def __init__(self, total: int, done: int, label: str, enabled: bool = True) -> None:
        self.total, self.done, self.start_done = total, done, done
        self.enabled = enabled
        self.console = Console(stderr=True)
        self.start = self.last_log = time.perf_counter()
        self.live = enabled and self.console.is_terminal
        if self.live:
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("runs"),
                RateColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
            )
            self.task = self.bar.add_task(label, total=total, completed=done)
            self.bar.start()
        elif enabled:
            self._log(label)

    def rate(self) -> float:
        elapsed = time.perf_counter() - self.start
        return (self.done - self.start_done) / elapsed if elapsed > 0 else 0.0

    def _log(self, label: str = "") -> None:
        rate = self.rate()
        eta = (
            f"ETA {(self.total - self.done) / rate:.0f} s"
            if rate > 0
            else "ETA after the first runs"
        )
        print(
            f"{label + ': ' if label else ''}{self.done}/{self.total} runs, {rate:.1f} runs/s, "
            f"{eta}",
            file=sys.stderr,
            flush=True,
        )

    def advance(self, n: int) -> None:
        self.done += n
        if self.live:
            self.bar.update(self.task, advance=n)
        elif self.enabled and time.perf_counter() - self.last_log >= LOG_EVERY_SECONDS:
            self.last_log = time.perf_counter()
            self._log()

    def close(self) -> None:
        if self.live:
            self.bar.stop()
        elif self.enabled:
            self._log()
