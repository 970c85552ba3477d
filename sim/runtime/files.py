"""Writing results safely: atomic files, all-or-nothing folders, Parquet columns without pandas."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from trustsim.errors import output_errors


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def out_path(text: str) -> Path:
    """An ``--out`` value (argparse type): an empty one would silently mean the current
    folder, and one that is not valid UTF-8 cannot be written by pyarrow: both refused."""
    import argparse

    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path; name one (use . for this folder)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes the file system took but Parquet cannot name
        shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise argparse.ArgumentTypeError(
            f"{shown}: not valid UTF-8; choose a name in UTF-8 characters"
        ) from None
    return Path(text)


def make_folder(path: Path, doing: str = "creating the output folder") -> Path:
    """Create an output folder (and its parents) before any work that would be lost if it
    could not be; a failure is an :class:`~trustsim.errors.OutputError` naming ``path``."""
    path = Path(path)
    with output_errors(doing, path, kept="nothing was computed or written"):
        path.mkdir(parents=True, exist_ok=True)
    return path


# Fault injection for the tests: TRUSTSIM_FAIL_WRITE=<errno name>:<n> makes the n-th
# atomic_write of this process (1 = the first) fail with that error, e.g. ENOSPC:3.
FAIL_WRITE = "TRUSTSIM_FAIL_WRITE"


_writes = [0]  # atomic_write calls so far in this process


def _injected_fault(path: Path) -> None:
    spec = os.environ.get(FAIL_WRITE)
    if not spec:
        return
    _writes[0] += 1
    name, _, nth = spec.partition(":")
    if _writes[0] == int(nth or 1):
        code = getattr(errno, name)
        raise OSError(code, os.strerror(code), str(path))


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write via a temporary file in the same folder, then rename: never a half file.
    An operating-system failure becomes an OutputError naming ``path`` (not the temporary
    file); callers wrap it in :func:`~trustsim.errors.output_errors` to say what was kept."""
    path = Path(path)
    with output_errors(f"writing {path.name}", path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; results are for sharing
        try:
            _injected_fault(path)
            write(Path(tmp))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


def write_columns(columns: dict[str, np.ndarray], path: Path) -> None:
    """Columns of equal length as a Parquet file, the same as ``DataFrame.to_parquet``
    writes (NaN stored as null) but with pyarrow alone: pandas is slow to import. The file
    lacks only pandas' own schema note, which for a plain 0..n-1 index changes nothing
    that pandas or any other reader reads back."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = [_arrow_array(values) for values in columns.values()]
    pq.write_table(pa.Table.from_arrays(arrays, names=list(columns)), path)


def _arrow_array(values: np.ndarray):
    """A numeric array as an Arrow array with NaN as null. Built from its buffers because
    ``pyarrow.array`` imports pandas to check for pandas types."""
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    nulls = np.isnan(values) if values.dtype.kind == "f" else np.zeros(len(values), bool)
    valid = pa.py_buffer(np.packbits(~nulls, bitorder="little")) if nulls.any() else None
    return pa.Array.from_buffers(
        pa.from_numpy_dtype(values.dtype),
        len(values),
        [valid, pa.py_buffer(values)],
        null_count=int(nulls.sum()),
    )


STAGING = ".staging-"  # + the writer's pid + "-" + a random part


def remove_stale_staging(out: Path) -> None:
    """Remove the staging folders of writers that are gone (killed by kill -9, say); a
    live writer's (its pid still runs) is left alone."""
    for stage in Path(out).glob(f"{STAGING}*"):
        pid = stage.name.removeprefix(STAGING).split("-", 1)[0]
        if pid.isdigit() and pid != "0" and _alive(int(pid)):
            continue
        shutil.rmtree(stage, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def staged_write(
    out: Path,
    files: dict[str, tuple[Path, Callable[[Path], None]]],
    stale: tuple[str, ...] = (),
) -> dict[str, Path]:
    """Write several files of one folder all or nothing (see :func:`write_run`). Files
    named in ``stale`` that this write does not make (an earlier run's) are removed once
    the new files are complete; the last file of ``files`` is renamed into place last."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(out)
        stage = Path(tempfile.mkdtemp(dir=out, prefix=f"{STAGING}{os.getpid()}-"))
    except OSError as exc:
        exc.filename = str(out)  # the folder the user named, not a random staging name
        raise
    try:
        for target, write in files.values():
            tmp = stage / target.name
            try:
                _injected_fault(target)
                write(tmp)
                os.chmod(tmp, 0o666 & ~_umask())
            except OSError as exc:
                exc.filename = str(target)  # name the file the user asked for
                raise
        targets = [target for target, _ in files.values()]
        for target in targets[:-1]:
            os.replace(stage / target.name, target)
        for name in set(stale) - {t.name for t in targets}:
            (out / name).unlink(missing_ok=True)
        os.replace(stage / targets[-1].name, targets[-1])
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return {key: target for key, (target, _) in files.items()}
