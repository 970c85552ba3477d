"""Errors a user can act on, the exit status each one ends with, and the words for
operating-system failures.

Library code raises these; only :mod:`trustsim.cli` turns them into a line on stderr and an
exit status. Keeping them here lets the analysis and classroom code raise them without
importing the CLI. Every command gets the same treatment for free: :func:`output_errors`
turns an ``OSError`` met while writing into an :class:`OutputError` that names what was
being done, the path, the cause in words, what was kept and how to go on.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

# Exit statuses (documented in the README, "When something goes wrong"); 70, 73 and 74
# follow BSD sysexits.h, 130 the shell's 128 + SIGINT.
EXIT_OK = 0
EXIT_FAILED = 1  # the work itself failed (e.g. a worker died); finished parts are kept
EXIT_BAD_INPUT = 2  # a wrong option, scenario, experiment or damaged input file
EXIT_INTERNAL = 70  # a bug in trustsim: an exception nobody expected
EXIT_CANNOT_CREATE = 73  # the output cannot be created (is a file, no permission, ...)
EXIT_IO = 74  # writing or reading failed part-way (disk full, quota, device error)
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM; finished parts are kept


class TrustsimError(Exception):
    """Base of the errors that end a command with one line and a known status."""

    exit_status = EXIT_FAILED


class ScenarioError(TrustsimError):
    """Bad input; ``problems`` holds one human-readable line per problem."""

    exit_status = EXIT_BAD_INPUT

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class UsageError(TrustsimError):
    """A bad command-line value that argparse itself cannot check."""

    exit_status = EXIT_BAD_INPUT


class MissingExtra(UsageError):
    """An optional part of trustsim whose packages are not installed."""


# Which optional-dependency group (pyproject ``[project.optional-dependencies]``) brings
# which top-level module; the message names the group to install.
EXTRAS = {
    "solara": "classroom",
    "imageio": "classroom",
    "segno": "classroom",
    "uvicorn": "classroom",
    "dask": "cluster",
    "distributed": "cluster",
    "playwright": "test",
    "pyabc": "calibration",
    "lifetimes": "data",
    "autograd": "data",
}


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise a one-line :class:`MissingExtra` naming the extra."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = (exc.name or module).split(".")[0]
        extra = EXTRAS.get(top) or EXTRAS.get(module.split(".")[0])
        if extra is None:
            raise
        raise MissingExtra(
            f"{purpose} needs the '{extra}' extra ({top} is not installed): "
            f"pip install 'trustsim[{extra}]'"
        ) from None


class DamagedFile(TrustsimError):
    """A result file that cannot be read back (truncated, garbage, written by something
    else); the message says which file and how to rebuild it."""

    exit_status = EXIT_BAD_INPUT


# errno -> the cause in words. Full-disk-like causes end with EXIT_IO, the rest (the place
# itself is wrong) with EXIT_CANNOT_CREATE.
CAUSES = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file grew larger than the file system allows",
    errno.EIO: "an input/output error on the device",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "the operating system does not allow it here",
    errno.ENOENT: "a folder on the way does not exist and cannot be made",
    errno.EEXIST: "is a file, not a folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "is a folder, not a file",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EMFILE: "too many files are open",
    errno.ENFILE: "too many files are open on this system",
    errno.ELOOP: "too many symbolic links on the way",
    errno.ENODEV: "no such device",
    errno.ENXIO: "no such device",
}
WRITE_FAILURES = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}
NEEDS_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def blocking_file(path: Path) -> Path | None:
    """The first part of ``path`` that exists as something other than a folder."""
    for part in [*reversed(path.parents), path]:
        if part.exists() and not part.is_dir():
            return part
        if not part.exists():
            return None
    return None


def describe_os_error(exc: OSError, path: Path | None = None) -> str:
    """The cause of an ``OSError`` in words a user can act on."""
    code = exc.errno
    if code in (errno.EEXIST, errno.ENOTDIR) and path is not None:
        block = blocking_file(Path(path))
        if block is not None:
            return (
                "is a file, not a folder" if block == path else f"{block} is a file, not a folder"
            )
    if code == errno.ENOENT and path is not None and Path(path).parent.is_dir():
        return "this place does not allow new files or folders"
    if code in CAUSES:
        return CAUSES[code]
    return exc.strerror or str(exc) or type(exc).__name__


def os_error_status(exc: OSError) -> int:
    return EXIT_IO if exc.errno in WRITE_FAILURES else EXIT_CANNOT_CREATE


class OutputError(TrustsimError):
    """An output could not be created or written. One line: what was being done, the
    path, the cause, what was kept and how to go on."""

    exit_status = EXIT_CANNOT_CREATE

    def __init__(
        self,
        doing: str,
        path: Path | str | None,
        cause: str,
        exit_status: int = EXIT_CANNOT_CREATE,
        kept: str | None = None,
        next_step: str | None = None,
    ) -> None:
        self.doing, self.path, self.cause = doing, path, cause
        self.exit_status = exit_status
        self.kept, self.next_step = kept, next_step
        super().__init__()

    @classmethod
    def from_os(
        cls,
        exc: OSError,
        doing: str,
        path: Path | str | None = None,
        kept: str | None = None,
        next_step: str | None = None,
    ) -> OutputError:
        target = Path(path) if path is not None else (Path(exc.filename) if exc.filename else None)
        return cls(
            doing,
            target,
            describe_os_error(exc, target),
            os_error_status(exc),
            kept,
            next_step,
        )

    def __str__(self) -> str:
        verb = "write" if self.exit_status == EXIT_IO else "create"
        where = f"cannot {verb} {self.path}" if self.path is not None else f"cannot {verb}"
        parts = [f"{self.doing}: {where}: {self.cause}"]
        parts.append(self.kept or "nothing else was changed")
        parts.append(self.next_step or self.default_next())
        return "; ".join(parts)

    def default_next(self) -> str:
        if self.exit_status == EXIT_IO:
            return "free space (or choose another --out) and run the same command again"
        return "choose another --out (a folder you may write to) and run the same command again"


@contextlib.contextmanager
def output_errors(
    doing: str,
    path: Path | str | None = None,
    kept: str | None = None,
    next_step: str | None = None,
) -> Iterator[None]:
    """Turn an ``OSError`` inside the block into an :class:`OutputError`. Nested blocks:
    the innermost names the path; what an outer block says (what was being done, what was
    kept, how to go on) replaces the inner, more generic words."""
    try:
        yield
    except OutputError as exc:
        exc.doing = doing or exc.doing
        exc.kept = kept or exc.kept
        exc.next_step = next_step or exc.next_step
        raise
    except OSError as exc:
        if isinstance(exc, BlockingIOError | InterruptedError | TimeoutError):
            raise
        raise OutputError.from_os(exc, doing, path, kept, next_step) from exc


@contextlib.contextmanager
def keeping(kept: Callable[[], str], again: str) -> Iterator[None]:
    """A failed write (a full disk, ...) inside the block after work was kept: the line
    says ``kept()`` (what the folder holds now, looked at then) instead of "nothing else
    was changed", and that the same command, run again, goes on (``again``)."""
    try:
        yield
    except OutputError as exc:
        exc.kept = kept()
        fix = "free space" if exc.exit_status == EXIT_IO else "fix that"
        exc.next_step = f"{fix} and run the same command again {again}"
        raise


class FileError(TrustsimError):
    """An ``OSError`` no command translated (reading or writing, we do not know which):
    the command, the path and the cause in words."""

    def __init__(self, text: str, exit_status: int) -> None:
        super().__init__(text)
        self.exit_status = exit_status

    @classmethod
    def from_os(cls, exc: OSError, doing: str) -> FileError:
        path = Path(exc.filename) if exc.filename else None
        blocked = path is not None and exc.errno in (errno.EEXIST, errno.ENOTDIR)
        if blocked and blocking_file(path) is not None:
            cause = describe_os_error(exc, path)  # "is a file, not a folder"
        else:
            cause = NEUTRAL.get(exc.errno) or describe_os_error(exc, path)
        where = f"{path}: " if path is not None else ""
        return cls(f"{doing}: {where}{cause}", os_error_status(exc))


NEUTRAL = {errno.ENOENT: "does not exist", errno.EEXIST: "already exists"}


def interrupt_in(exc: BaseException | None) -> bool:
    """Whether ``exc`` is, or was caused by, Ctrl-C or SIGTERM: compiled numba code turns a
    KeyboardInterrupt raised as it returns into a SystemError, and a database library may
    turn it into an error of its own (a rolled-back session, a locked database)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


@contextlib.contextmanager
def sigterm_as_interrupt():
    """SIGTERM ends every command as Ctrl-C does: its ``finally`` blocks remove temporary
    files, finished work is kept, one line, exit 130 (a sweep's own handler, which first
    saves the running batches, takes over while it runs; the classroom servers use it
    too)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class RememberedInterrupts:
    """Ctrl-C and SIGTERM raise KeyboardInterrupt where they land, and are remembered: one
    that lands in a finalizer or weakref callback, where Python prints "Exception ignored"
    and drops it, still ends the work at the next :meth:`check` (a long job calls it between
    its steps). Only the main thread may set handlers; elsewhere this does nothing."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: list[int] = []
        self._previous: dict = {}
        self._previous_hook = sys.unraisablehook

    def _handle(self, signum, frame) -> None:
        self.received.append(signum)
        raise KeyboardInterrupt

    def _unraisable(self, info) -> None:
        """A remembered interrupt that Python drops (in a finalizer or weakref callback) is
        not printed as "Exception ignored" with a traceback: the next check ends the work
        with the command's one line. Anything else goes to the hook as before."""
        if self.received and issubclass(info.exc_type, KeyboardInterrupt):
            return
        self._previous_hook(info)

    def check(self) -> None:
        if self.received:
            raise KeyboardInterrupt

    def __enter__(self) -> RememberedInterrupts:
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._handle) for sig in self.SIGNALS}
            self._previous_hook, sys.unraisablehook = sys.unraisablehook, self._unraisable
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        if self._previous:
            sys.unraisablehook = self._previous_hook


def warn(message: str) -> None:
    """One ``warning:`` line on stderr (a fault that was repaired; the work goes on)."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


def debug_wanted() -> bool:
    """Tracebacks on: ``--debug`` or ``TRUSTSIM_DEBUG=1`` (the CLI sets the variable)."""
    return os.environ.get("TRUSTSIM_DEBUG", "").strip().lower() not in ("", "0", "false", "no")
