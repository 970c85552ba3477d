"""Where batches run: in this process, a local process pool, or a dask.distributed cluster.

All three offer the same calls (submit, wait for some, result, stop), so the sweep loop
does not know which one it drives.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from trustsim.errors import UsageError, require

POLL_SECONDS = 0.5  # wake-up interval for the progress display and Ctrl-C
WARMUP = "trustsim.analysis.sweep.warmup"  # what the fork server loads before forking workers
# One BLAS thread per worker: a pool already runs one worker per core, so BLAS threads
# could only compete with the other workers, and OpenBLAS threads busy-wait after each
# call and at start-up. They must be set before numpy loads, i.e. in the new process's
# environment. A value the user set is kept.
SINGLE_THREADED_BLAS = {"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


CLUSTER_ADDRESS = r"(tcp|tls|ws|wss)://[^\s:/]+:\d+"


def machine_workers() -> int:
    """Cores this process may use (the default pool size)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class InProcess:
    """Runs each batch when it is waited for: one worker, no pickling, no start-up cost."""

    workers = 1
    window = 1

    def __init__(self) -> None:
        self._calls: dict[cf.Future, tuple[Callable, Any]] = {}

    def submit(self, fn: Callable, arg: Any) -> cf.Future:
        future: cf.Future = cf.Future()
        self._calls[future] = (fn, arg)
        return future

    def wait(self, pending: set) -> tuple[set, set]:
        future = next(f for f in self._calls if f in pending)  # submission order
        fn, arg = self._calls.pop(future)
        future.set_result(fn(arg))
        return {future}, pending - {future}

    def result(self, future: cf.Future) -> Any:
        return future.result()

    def stop(self, pending: Iterable) -> list:
        self._calls.clear()
        return []


@contextlib.contextmanager
def _worker_environment() -> Iterator[None]:
    """The environment a new worker process starts with: this one's, single-threaded BLAS."""
    added = {k: v for k, v in SINGLE_THREADED_BLAS.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def worker_context() -> multiprocessing.context.BaseContext:
    """How local workers start: forked from a fork server that has loaded the model and
    its compiled code once (:mod:`.warmup`), where the platform has one; else spawned.

    The fork server is a fresh interpreter that never starts numba's thread pool, so its
    forks carry no thread state (see trustsim.core.model.threads); the pool still never forks
    the sweep process itself, which may hold threads.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([WARMUP])
    return context


MAIN_GUARD = (
    "{where}: a script that runs a sweep with worker processes must start it under "
    '`if __name__ == "__main__":` (each worker imports the script again, and without the '
    "guard would start the sweep again); indent the call below that line, or use workers=1"
)


def check_main_guard() -> None:
    """Stop at once, with one line, when a script calls the sweep from its top level without
    the ``__main__`` guard (its workers would run the script again). Nothing to check in
    a notebook, an interactive session or ``python -c``."""
    import ast
    import sys

    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not path or not os.path.isfile(path):
        return
    frame = sys._getframe(1)
    while frame is not None and not (
        frame.f_globals is vars(main) and frame.f_code.co_name == "<module>"
    ):
        frame = frame.f_back
    if frame is None:
        return
    try:
        with open(path, encoding="utf-8") as source:
            tree = ast.parse(source.read())
    except (OSError, SyntaxError, UnicodeDecodeError):
        return
    line = frame.f_lineno
    if not any(
        _is_main_guard(node) and node.body[0].lineno <= line <= (node.end_lineno or line)
        for node in ast.walk(tree)
    ):
        raise UsageError(MAIN_GUARD.format(where=f"{path}:{line}"))


def _is_main_guard(node: object) -> bool:
    import ast

    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    parts = [node.test.left, *node.test.comparators]
    names = {p.id for p in parts if isinstance(p, ast.Name)}
    values = {p.value for p in parts if isinstance(p, ast.Constant)}
    return names == {"__name__"} and values == {"__main__"}


def start_workers_early() -> None:
    """Start the fork server now, so that it loads while this process is still importing
    and planning (it is shared by every pool of this process and lives as long as it)."""
    context = worker_context()
    if context.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        with _worker_environment():
            forkserver.ensure_running()


class LocalPool:
    """A process pool of workers forked from a warm fork server (or spawned, where there is
    none): never forks of the sweep process, so no forked numba or thread state."""

    def __init__(self, workers: int) -> None:
        from trustsim.analysis.sweep.batch import init_local_worker

        check_main_guard()
        self.workers = workers
        self.window = 3 * workers  # batches in flight: enough to keep every process busy
        start_workers_early()
        self._pool = cf.ProcessPoolExecutor(
            workers,
            mp_context=worker_context(),
            initializer=init_local_worker,
            initargs=(os.getpid(), dict(os.environ)),
        )

    def submit(self, fn: Callable, arg: Any) -> cf.Future:
        return self._pool.submit(fn, arg)

    def wait(self, pending: set) -> tuple[set, set]:
        done, rest = cf.wait(pending, timeout=POLL_SECONDS, return_when=cf.FIRST_COMPLETED)
        return set(done), set(rest)

    def result(self, future: cf.Future) -> Any:
        return future.result()

    def stop(self, pending: Iterable) -> list:
        """Drop queued batches, let running ones finish (they are short); return their results."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        return [
            f.result() for f in pending if f.done() and not f.cancelled() and f.exception() is None
        ]


class DaskCluster:
    """An existing dask.distributed scheduler; lost workers' batches are rerun by dask."""

    def __init__(self, address: str, timeout: float = 15.0) -> None:
        check_options(None, address)
        distributed = require("distributed", "--cluster")
        try:
            self._client = distributed.Client(address, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise UsageError(
                f"--cluster {address}: cannot reach a dask scheduler there ({exc})"
            ) from None
        self.workers = max(
            1, sum(w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values())
        )
        self.window = max(3 * self.workers, 16)  # workers may still be joining

    def submit(self, fn: Callable, arg: Any):
        return self._client.submit(fn, arg, pure=False)

    def wait(self, pending: set) -> tuple[set, set]:
        from distributed import wait

        try:
            done, rest = wait(list(pending), timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return set(), pending
        return set(done), set(rest)

    def result(self, future) -> Any:
        return future.result()

    def stop(self, pending: Iterable) -> list:
        """Cancel what has not finished; return the results of what has."""
        pending = list(pending)
        finished = [f.result() for f in pending if f.status == "finished"]
        rest = [f for f in pending if f.status != "finished"]
        if rest:
            self._client.cancel(rest)
        self._client.close()
        return finished


def check_options(workers: int | None = None, cluster: str | None = None) -> None:
    """Refuse bad ``--workers``/``--cluster`` values before a command touches its folder."""
    if cluster and workers is not None:
        raise UsageError(
            "--workers and --cluster exclude each other (a cluster has its own workers)"
        )
    if cluster and not re.fullmatch(CLUSTER_ADDRESS, cluster):
        raise UsageError(f"--cluster {cluster}: expected a scheduler address like tcp://HOST:PORT")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers {workers}: must be at least 1")


def open_executor(workers: int | None = None, cluster: str | None = None):
    """The executor for ``--workers``/``--cluster`` (default: a pool sized to the machine)."""
    check_options(workers, cluster)
    if cluster:
        return DaskCluster(cluster)
    workers = machine_workers() if workers is None else workers
    return InProcess() if workers == 1 else LocalPool(workers)
