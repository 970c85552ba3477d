"""Result files that can be checked and healed: Parquet files that carry the hash of the
experiment that made them and the run ids they claim, a checker that says in words what
is wrong with one, and the healing of a folder of chunks.

A folder that resumes work (a sweep, and the study and calibration folders built the same
way) calls :func:`heal` before it computes what is missing: every chunk that cannot be read,
holds other runs than it claims, or was made by another experiment is moved to
``DIR/damaged/`` with a warning naming it, and its runs count as not done. Whole-folder
tables (``runs.parquet``) are rebuilt from the healthy chunks; readers of those tables use
:func:`read_table` so a damaged one is named with the command that rebuilds it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from trustsim.errors import DamagedFile, output_errors, warn
from trustsim.runtime.files import atomic_write

META_KEY = b"trustsim"  # Parquet key-value metadata: {"experiment_sha256", "run_ids"}
DAMAGED = "damaged"


def write_table(path: Path, frame: pd.DataFrame, sha256: str, run_ids: Iterable[int]) -> None:
    """Write ``frame`` atomically as Parquet stamped with the experiment's hash and the
    run ids it holds, so a later session can tell a healthy file from a foreign one."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    stamp = json.dumps({"experiment_sha256": sha256, "run_ids": sorted(int(i) for i in run_ids)})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), META_KEY: stamp})
    atomic_write(path, lambda p: pq.write_table(table, p))


def cause_in_words(exc: BaseException) -> str:
    """Why a Parquet file could not be read, for a user rather than a developer."""
    text = str(exc)
    if any(sign in text for sign in ("magic bytes", "file footer", "Parquet file size is 0")):
        return "not a complete Parquet file (cut short or overwritten)"
    if isinstance(exc, FileNotFoundError):
        return "it is missing"
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"cannot be read ({exc.strerror})"
    first = text.splitlines()[0] if text else type(exc).__name__
    return f"cannot be read ({first})"


def read_stamped(path: Path) -> tuple[pd.DataFrame, dict | None]:
    """The table and its stamp (None for files written before stamps existed); raises
    whatever pyarrow raises on a damaged file."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(META_KEY)
    frame = table.to_pandas()
    return frame, (json.loads(raw) if raw else None)


def read_table(path: Path, remedy: str, sha256: str | None = None) -> pd.DataFrame:
    """Read a results table, or raise one line naming the file and ``remedy``; with
    ``sha256``, a table stamped by another experiment is refused the same way."""
    import pyarrow.parquet as pq

    try:
        frame = pd.read_parquet(path)
        raw = (pq.read_schema(path).metadata or {}).get(META_KEY) if sha256 else None
    except Exception as exc:  # pyarrow raises many kinds for a damaged file
        raise DamagedFile(f"{path}: {cause_in_words(exc)}; {remedy}") from None
    their = json.loads(raw).get("experiment_sha256") if raw else sha256
    if their != sha256:
        raise DamagedFile(f"{path}: belongs to another experiment (sha256 {their[:12]}); {remedy}")
    return frame


@dataclass
class Chunk:
    """One checked chunk: its runs (when healthy) or what is wrong with it."""

    path: Path
    frame: pd.DataFrame | None = None
    problem: str | None = None
    ids: set[int] = field(default_factory=set)


def check_chunk(path: Path, sha256: str) -> Chunk:
    """Readable, holds exactly the run ids it claims (in its stamp and its name
    ``<kind>-<first>-<last>``), and made by the experiment with hash ``sha256``."""
    try:
        frame, stamp = read_stamped(path)
    except Exception as exc:
        return Chunk(path, problem=cause_in_words(exc))
    if "run_id" not in frame:
        return Chunk(path, problem="has no run_id column (not a trustsim chunk)")
    ids = set(frame["run_id"].astype(int).tolist())
    if stamp is not None:
        their = stamp.get("experiment_sha256")
        if their != sha256:
            return Chunk(path, problem=f"belongs to another experiment (sha256 {str(their)[:12]})")
        if ids != set(stamp.get("run_ids", [])):
            return Chunk(path, problem="holds other runs than it claims (edited or cut short)")
    first, last = _name_range(path)
    if first is not None and ids and (min(ids), max(ids)) != (first, last):
        return Chunk(
            path, problem=f"holds runs {min(ids)}-{max(ids)}, its name says {first}-{last}"
        )
    return Chunk(path, frame, ids=ids)


def _name_range(path: Path) -> tuple[int | None, int | None]:
    parts = path.stem.split("-")
    try:
        return int(parts[-2]), int(parts[-1])
    except (IndexError, ValueError):
        return None, None


def set_aside(out: Path, paths: list[Path], reason: str, consequence: str) -> None:
    """Move damaged files to ``out/damaged/`` (never delete evidence) with one warning
    naming the first, its cause and what happens next."""
    moved = []
    for path in paths:
        target = out / DAMAGED / path.relative_to(out)
        with output_errors(f"moving the damaged {path.name} aside", target):
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                target = target.with_name(f"{target.stem}.{_free_suffix(target)}{target.suffix}")
            shutil.move(path, target)
        moved.append(target)
    also = f" (with {', '.join(p.name for p in paths[1:])})" if len(paths) > 1 else ""
    warn(f"{paths[0]}: {reason}; moved to {moved[0].parent}/{also}, {consequence}")


def _free_suffix(target: Path) -> int:
    n = 1
    while target.with_name(f"{target.stem}.{n}{target.suffix}").exists():
        n += 1
    return n


def heal(
    out: Path,
    runs_paths: list[Path],
    sha256: str,
    fits_plan: Callable[[pd.DataFrame], bool],
    partner: Callable[[Path], Path | None] = lambda p: None,
) -> dict[Path, Chunk]:
    """Check every runs chunk (and its partner, e.g. the time-series chunk of the same
    batch); set aside each damaged one with its partner; return the healthy ones.

    ``fits_plan(frame)`` says whether a chunk's rows are runs of this experiment's plan.
    A chunk that repeats run ids of an earlier healthy one is set aside too.
    """
    healthy: dict[Path, Chunk] = {}
    seen: set[int] = set()
    for path in runs_paths:
        chunk = check_chunk(path, sha256)
        problem = chunk.problem
        if problem is None and not fits_plan(chunk.frame):
            problem = "its runs are not runs of this experiment's plan (edited by hand?)"
        if problem is None and chunk.ids & seen:
            problem = "repeats runs that another chunk holds"
        twin = partner(path)
        if problem is None and twin is not None:
            other = check_chunk(twin, sha256) if twin.exists() else Chunk(twin, problem="missing")
            if other.problem is None and other.ids != chunk.ids:
                other.problem = "holds other runs than its runs chunk"
            if other.problem is not None:
                problem = f"its partner {twin.name}: {other.problem}"
        if problem is not None:
            first, last = _name_range(path)
            runs = f"runs {first}-{last}" if first is not None else "its runs"
            damaged = [path] + ([twin] if twin is not None and twin.exists() else [])
            set_aside(out, damaged, problem, f"{runs} will be computed again")
            continue
        seen |= chunk.ids
        healthy[path] = chunk
    return healthy
