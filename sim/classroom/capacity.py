"""How many browser sessions one classroom server takes, and turning the rest away.

Every browser gets its own model, so each one costs memory and a share of the CPU on
every step. Past the limit a visitor gets a page that says the room is full (see
``Full`` in :mod:`trustsim.classroom.app`) instead of a page that never finishes loading.
"""

from __future__ import annotations

import os
import threading

import psutil

PER_CORE = 20  # sessions per CPU core: 30 stepping at once kept clicks under 1 s on 2 cores
SESSION_MB = 60  # generous memory of one session (model of 200-1000 customers, widgets)
ENV = "TRUSTSIM_MAX_SESSIONS"


def default_max_sessions() -> int:
    """Sessions this machine can serve: by CPU cores, lowered if memory is short."""
    by_cpu = PER_CORE * (os.cpu_count() or 1)
    by_memory = int(psutil.virtual_memory().available / 2**20 / 2 / SESSION_MB)
    return max(1, min(by_cpu, by_memory))


class Admission:
    """A thread-safe count of live sessions against a limit (read from the environment)."""

    def __init__(self, limit: int | None = None):
        self._lock = threading.Lock()
        self._live: set[int] = set()
        self._next = 0
        self._limit = limit

    @property
    def limit(self) -> int:
        if self._limit is None:
            value = os.environ.get(ENV, "")
            self._limit = int(value) if value.isdigit() else default_max_sessions()
        return self._limit

    def enter(self) -> int | None:
        """A ticket for a new session, or None when the room is full."""
        with self._lock:
            if len(self._live) >= self.limit:
                return None
            self._next += 1
            self._live.add(self._next)
            return self._next

    def leave(self, ticket: int | None) -> None:
        with self._lock:
            self._live.discard(ticket)  # type: ignore[arg-type]

    @property
    def live(self) -> int:
        with self._lock:
            return len(self._live)


__all__ = ["ENV", "Admission", "default_max_sessions"]
