"""Shared test helpers: the shipped scenarios, a small scenario, comparing two outputs."""

from pathlib import Path

import numpy as np
import pandas as pd

from trustsim.loader import SCENARIO_DIR, load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def small(name: str = "baseline", *overrides: str):
    """A shipped scenario shrunk for fast tests (same mechanisms, fewer agents/steps)."""
    return load_scenario(
        name,
        ["population.n_customers=120", "population.n_salespeople=6", "run.steps=40", *overrides],
    )


def assert_frames_equal(a: pd.DataFrame, b: pd.DataFrame, atol: float = 1e-12) -> None:
    """Same columns; integers equal; floats equal to ``atol``; NaN where the other is NaN."""
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for col in a.columns:
        x, y = a[col].to_numpy(), b[col].to_numpy()
        if np.issubdtype(x.dtype, np.integer):
            assert np.array_equal(x, y), f"{col} differs"
        else:
            ok = np.isclose(x, y, rtol=0, atol=atol) | (np.isnan(x) & np.isnan(y))
            bad = np.flatnonzero(~ok)
            assert bad.size == 0, (
                f"{col} differs first at row {bad[:1]}: {x[bad[:1]]} vs {y[bad[:1]]}"
            )


def disk_full_at(monkeypatch, module, name: str) -> None:
    """``module``'s atomic_write of the file called ``name`` fails as on a full disk: a real
    ENOSPC raised inside the real atomic_write after part of the file was written."""
    import errno
    import os

    real = module.atomic_write

    def atomic_write(path, write):
        def half_then_full(tmp: Path) -> None:
            tmp.write_bytes(b"half a file")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        return real(path, half_then_full if Path(path).name == name else write)

    monkeypatch.setattr(module, "atomic_write", atomic_write)
