"""What a result records about where it came from: package, dependency and platform versions, git commit."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

from trustsim import __version__

DEPENDENCIES = ("mesa", "numba", "numpy", "networkx", "pandas", "pyarrow", "pydantic")


def git_commit() -> str | None:
    """The commit of the source tree, when it is a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            check=False,
            text=True,
            timeout=5,
        )
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def provenance() -> dict[str, object]:
    """Package, dependency and platform versions plus the git commit."""
    versions = {}
    for dist in DEPENDENCIES:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "trustsim": __version__,
        "python": platform.python_version(),
        "dependencies": versions,
        "git_commit": git_commit(),
    }
