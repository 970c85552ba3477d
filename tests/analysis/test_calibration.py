"""The calibration method on synthetic data: it recovers parameters it was not told, it
reports a target no parameter can move instead of fitting it, and it survives kill -9.

Reduced sizes (150 customers, 60 steps, metric statistics) keep each calibration to about
a minute; benchmarks/bench_calibration.py runs a fuller recovery.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.analysis.calibration_helpers import PRIORS, TRUTH, UNMOVABLE, observe_truth, targets_text
from tests.helpers import ROOT
from trustsim.analysis.calibration.abc import calibrate
from trustsim.analysis.calibration.posterior import weighted_quantile
from trustsim.loader import load_scenario

pytestmark = [pytest.mark.slow]
WAIT = 300.0


@pytest.fixture(scope="module")
def observed():
    return observe_truth()


@pytest.fixture(scope="module")
def recovery(observed, tmp_path_factory):
    """One calibration at a modest budget, one worker (so it is deterministic)."""
    folder = tmp_path_factory.mktemp("recovery")
    path = folder / "recovery.toml"
    path.write_text(targets_text(observed, UNMOVABLE, budget=700, population_size=24))
    return calibrate(path, folder / "out", workers=1, progress=False)


def test_the_90_percent_interval_covers_the_truth(recovery):
    post = recovery.posterior
    assert len(post) == 24 and np.isclose(post.weight.sum(), 1.0)
    narrower = 0
    for name, truth in TRUTH.items():
        lo, hi = (weighted_quantile(post[name], post.weight, q) for q in (0.05, 0.95))
        prior_lo, prior_hi = PRIORS[name]
        ratio = (hi - lo) / (0.9 * (prior_hi - prior_lo))
        if ratio < 0.8:  # identifiable: the interval must hold the truth
            assert lo <= truth <= hi, (name, lo, truth, hi)
        narrower += ratio < 0.5
    assert narrower >= 2, "the targets should pin down at least two parameters"


def test_the_budget_bounds_the_model_runs(recovery):
    summary = json.loads((recovery.out / "summary.json").read_text())
    assert summary["provenance"]["model_runs"] <= 700
    assert recovery.simulations * 2 + recovery.plan.check_runs <= 700
    assert summary["provenance"]["prior_check_runs"] <= recovery.plan.prior_check_runs


def test_a_target_no_parameter_moves_is_reported_not_fitted(recovery):
    assert recovery.screen["moves"]["movable"] is False
    assert all(recovery.screen[n]["movable"] for n in ("praise", "complaints", "cost"))
    report = (recovery.out / "report.md").read_text()
    assert "Not movable, not fitted" in report and "`moves`" in report
    fit = json.loads((recovery.out / "summary.json").read_text())["fit"]
    assert [r["fitted"].startswith("no") for r in fit] == [False, False, False, True]


def test_the_report_leads_with_what_the_model_cannot_reach(recovery):
    lines = [line for line in (recovery.out / "report.md").read_text().splitlines() if line]
    assert lines[0] == "# Calibration of recovery"
    assert lines[1].startswith("UNREACHABLE: moves observed 0.5")  # no run has a move
    assert "closest replicate mean 0 (z 5.0)" in lines[1]
    assert all(line.startswith("reachable: ") for line in lines[2:5])
    assert lines[5].startswith("**The model cannot reach 1 of 4 targets**")
    check = json.loads((recovery.out / "prior_check.json").read_text())
    assert [c["name"] for c in check["targets"] if not c["reachable"]] == ["moves"]


def test_the_report_shows_tolerance_acceptance_and_ess_per_generation(recovery):
    gens = json.loads((recovery.out / "summary.json").read_text())["generations"]
    assert len(gens) == recovery.generations >= 2
    eps = [g["tolerance"] for g in gens]
    assert eps == sorted(eps, reverse=True) and eps[-1] < eps[0]
    for g in gens:
        assert 0 < g["acceptance"] <= 1 and 1 <= g["ESS"] <= g["particles"] == 24
    report = (recovery.out / "report.md").read_text()
    assert "## Generations" in report and "| generation | tolerance | draws |" in report
    assert "**Stopped:** the budget of model runs was spent" in report


def test_outputs(recovery, tmp_path):
    out = recovery.out
    post = pd.read_parquet(out / "posterior.parquet")
    assert set(TRUTH) | {"weight", "generation"} <= set(post.columns)
    scenario = load_scenario(out / "calibrated.toml")
    for name in TRUTH:
        section, key = name.split(".")
        median = weighted_quantile(post[name], post.weight, 0.5)
        assert getattr(getattr(scenario, section), key) == pytest.approx(median, abs=1e-6)
    assert scenario.population.n_customers == 150  # the base scenario's reductions kept
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2 and 'src="pairs.png"' not in page
    for heading in ("Fit to each target", "Identifiability", "Provenance"):
        assert heading in page
    prov = json.loads((out / "summary.json").read_text())["provenance"]
    assert prov["mode"] == "full" and prov["budget_runs"] == 700 and prov["master_seed"] == 3
    assert prov["dependencies"]["pyabc"] and prov["wall_time_s"] > 0
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "trustsim.cli",
            "run",
            str(out / "calibrated.toml"),
            "--steps",
            "3",
            "--out",
            str(tmp_path / "run"),
            "--no-figure",
        ],
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert run.returncode == 0, run.stderr


def test_a_folder_of_another_targets_file_is_refused(recovery, observed, tmp_path, capsys):
    from trustsim.cli import main

    other = tmp_path / "other.toml"
    other.write_text(targets_text(observed, budget=701))
    assert main(["calibrate", str(other), "--out", str(recovery.out)]) == 2  # as for sweeps
    err = capsys.readouterr().err
    assert "another targets file" in err and "Traceback" not in err


# ----------------------------------------------------------------------------- kill -9


def generations(db: Path) -> int:
    """Finished generations in pyabc's database (0 while it cannot be read yet)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            (t,) = con.execute("select max(t) from populations").fetchone()
        return -1 if t is None else int(t) + 1
    except sqlite3.Error:
        return 0


def calibrate_cmd(path: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "trustsim.cli",
        "calibrate",
        str(path),
        "--out",
        str(out),
        "--workers",
        "2",
        "--quiet",
    ]


def start(path: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        calibrate_cmd(path, out),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_a_damaged_database_is_moved_aside_with_one_warning(observed, tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(targets_text(observed))
    out = tmp_path / "out"
    out.mkdir()
    (out / "abc.db").write_bytes(b"this is not a database" * 100)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "trustsim.cli",
            "calibrate",
            str(path),
            "--out",
            str(out),
            "--quick",
            "--budget",
            # the first generation accepts about half its draws (its tolerance is the
            # prior sample's median), and with two workers which draws finish first
            # varies: the budget leaves room for a first generation that accepts few
            "240",
            "--workers",
            "2",
            "--quiet",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert warnings[0].startswith("warning: --budget 240 wins over --quick's budget")
    warnings = warnings[1:]  # the conflict of --quick and --budget is said first
    assert len(warnings) == 1 and "damaged" in warnings[0] and "starts again" in warnings[0]
    (moved,) = (out / "damaged").iterdir()
    assert moved.read_bytes().startswith(b"this is not a database")
    assert len(pd.read_parquet(out / "posterior.parquet")) == 8


@pytest.mark.cluster
def test_on_a_dask_cluster(cluster, observed, tmp_path):
    """On a real loopback cluster the calibration gives the posterior of one local worker:
    its draws are taken in index order, whichever dask worker finishes first."""
    path = tmp_path / "t.toml"
    path.write_text(targets_text(observed, budget=300, population_size=8))
    o = calibrate(path, tmp_path / "out", cluster=cluster[0], progress=False)
    assert o.generations >= 1 and len(o.posterior) == 8
    assert np.isclose(o.posterior.weight.sum(), 1.0)
    assert (tmp_path / "out" / "report.html").exists()
    local = calibrate(path, tmp_path / "local", workers=1, progress=False)
    assert (o.generations, o.simulations) == (local.generations, local.simulations)
    pd.testing.assert_frame_equal(o.posterior, local.posterior)


def test_a_shipped_scenario_says_how_it_was_made_over_the_calibrated_file(recovery):
    """What scripts/calibrate_*.py ship: the calibrated.toml of the folder (resumed: the
    finished calibration is not run again) under a header naming the command."""
    from trustsim.analysis.calibration.shipped import calibrated_text

    o, text = calibrated_text(recovery.targets.path, recovery.out, 1, False, "make.py", "why")
    header, body = text.split("\n# Calibrated by", 1)
    assert header.startswith("# Made by make.py on ") and header.endswith("\n# why")
    assert "min wall time this session" in header and "load average" in header
    assert "# Calibrated by" + body == (recovery.out / "calibrated.toml").read_text()
    assert o.generations == recovery.generations and o.simulations == recovery.simulations
