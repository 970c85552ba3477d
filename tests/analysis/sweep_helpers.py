"""Helpers shared by the sweep, dask, sensitivity and plot tests (no tests in here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from trustsim.analysis.sweep.driver import execute, load_timeseries

ROOT = Path(__file__).resolve().parents[2]
# A tiny market: a run takes a few milliseconds, so sweeps of hundreds of runs stay quick.
SMALL = [
    "population.n_customers=60",
    "population.n_salespeople=4",
    "population.n_firms=2",
    "run.steps=20",
]


def experiment_text(
    design: str,
    *,
    replicates: int = 2,
    master_seed: int = 5,
    metrics: tuple[str, ...] = ("mean_trust", "trades", "insider_share"),
    base_set: list[str] = SMALL,
    extra: str = "",
) -> str:
    """An experiment file around ``design`` (the [design] tables, as TOML text)."""
    quoted = ", ".join(f'"{s}"' for s in base_set)
    names = ", ".join(f'"{m}"' for m in metrics)
    return (
        f'[base]\nscenario = "baseline"\nset = [{quoted}]\n\n{design}\n'
        f"[runs]\nreplicates = {replicates}\nmaster_seed = {master_seed}\n\n"
        f"[output]\nmetrics = [{names}]\n{extra}"
    )


GRID = (
    '[design]\nmethod = "grid"\n[design.parameters]\n'
    '"culture.ring_gradient" = [0.1, 0.5, 0.9]\n"salespeople.instrumental_share" = [0.0, 1.0]\n'
)


def write(directory: Path, text: str, name: str = "exp.toml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def sorted_table(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values("run_id").reset_index(drop=True)


def assert_same_runs(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal content after sorting by run id: same columns, dtypes and exact values."""
    pd.testing.assert_frame_equal(sorted_table(a), sorted_table(b), check_exact=True)


def cli(*args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    """``trustsim ARGS`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "trustsim.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        **kw,
    )


def cli_process(*args: str) -> subprocess.Popen:
    """``trustsim ARGS`` started in its own process group (so a test can signal it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "trustsim.cli", *args],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env={**os.environ, "COLUMNS": "120"},
    )


@pytest.fixture(scope="module")
def exp_path(request, tmp_path_factory) -> Path:
    """The requesting module's experiment (its module-level TEXT), written to a file."""
    return write(tmp_path_factory.mktemp("exp"), request.module.TEXT)


@pytest.fixture(scope="module")
def reference(exp_path, tmp_path_factory):
    """An uninterrupted in-process sweep of ``exp_path``: (runs table, time series)."""
    out = tmp_path_factory.mktemp("ref") / "sweep"
    return execute(exp_path, out, workers=1).runs, load_timeseries(out)
