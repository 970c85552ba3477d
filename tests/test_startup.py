"""Start-up of `trustsim run`: the figure is drawn by a helper process forked before the run,
so that loading matplotlib overlaps the simulation; the result must be the same figure."""

import subprocess
import sys

from trustsim.loader import load_scenario


def test_fresh_cli_run_draws_its_figure_in_the_helper(tmp_path):
    """`trustsim run` in a fresh process forks a figure helper; the PNG is the same size as
    one drawn in-process."""
    from matplotlib.image import imread

    from trustsim.report import save_figure
    from trustsim.run import simulate

    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "trustsim.cli", "run", "--steps", "20", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    here = save_figure(simulate(load_scenario("baseline", ["run.steps=20"])), tmp_path / "h.png")
    assert imread(out / "trust.png").shape == imread(here).shape
