"""`trustsim run` draws its figure in a second process that loads matplotlib while the run
computes (trustsim.runtime.drawer.FigureDrawer): the figure is the very one drawn in-process, a
failing worker costs time but never the figure, and a failed run leaves no figure and no
worker behind."""

import json
import os
import subprocess
import sys

import pytest

from trustsim.cli import main
from trustsim.errors import EXIT_INTERRUPTED
from trustsim.runtime import drawer, report

RUN = ["run", "--steps", "8", "--set", "population.n_customers=60"]


def test_the_worker_draws_the_figure_the_run_would_draw_itself(tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    assert main([*RUN, "--no-figure", "--out", str(here)]) == 0
    code = (
        "import sys\nfrom trustsim.cli import main\n"
        f"assert main({[*RUN, '--out', str(there)]!r}) == 0\n"
        "print('matplotlib' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, drawer.FIGURE_WORKER: "1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False"  # drawn by the worker, not here
    result = _result_of(here)
    report.save_figure(result, here / "trust.png")
    assert (there / "trust.png").read_bytes() == (here / "trust.png").read_bytes()


def _result_of(folder):
    """The run saved in ``folder`` as a RunResult (enough of it for the figure)."""
    import pyarrow.parquet as pq

    from trustsim.loader import validate
    from trustsim.runtime.run import RunResult

    meta = json.loads((folder / "run.json").read_text())
    table = pq.read_table(folder / "timeseries.parquet")
    columns = {name: table[name].to_numpy(zero_copy_only=False) for name in table.column_names}
    return RunResult(
        validate(meta["parameters"], "run.json"), meta["engine"], meta["seed"], columns
    )


@pytest.mark.parametrize("worker", ["import sys; sys.exit(3)", "import time; time.sleep(1)"])
def test_a_failing_worker_costs_time_not_the_figure(worker, tmp_path, monkeypatch):
    monkeypatch.setenv(drawer.FIGURE_WORKER, "1")
    monkeypatch.setattr(drawer, "WORKER", worker)
    assert main([*RUN, "--out", str(tmp_path)]) == 0
    assert (tmp_path / "trust.png").stat().st_size > 10_000


def test_a_failed_run_ends_its_worker_and_draws_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(drawer.FIGURE_WORKER, "1")
    workers = []
    start = drawer._start_worker
    monkeypatch.setattr(drawer, "_start_worker", lambda: workers.append(start()) or workers[-1])

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("trustsim.runtime.run.simulate", interrupted)
    assert main([*RUN, "--out", str(tmp_path)]) == EXIT_INTERRUPTED
    assert workers and workers[0] is not None and workers[0].poll() == 0
    assert not (tmp_path / "trust.png").exists()
