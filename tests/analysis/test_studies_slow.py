"""Studies can say no: a null study is not detected, a setting the report names as one
where a finding vanishes really gives the other answer, and an interrupted study resumes
to the same summary."""

from __future__ import annotations

import os
import signal
import time
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from tests.analysis.study_helpers import write_study
from tests.analysis.sweep_helpers import cli, cli_process
from trustsim.analysis.studies.run import run_loaded, run_studies
from trustsim.analysis.studies.spec import load_study, parse

pytestmark = [pytest.mark.slow]

FALSIFIED = ["h10_gifts_fast", "h11_cold_start"]  # ranges reach where the mechanism fades


def _at(study, settings: list[str], replicates: int):
    """The study's main contrast alone, on its base with ``settings`` applied."""
    data = tomllib.loads(study.text)
    for table in ("robustness", "ablation", "dose", "manipulation"):
        data.pop(table, None)
    data["base"]["set"] = data["base"].get("set", []) + settings
    data["runs"]["replicates"] = replicates
    return parse(study.path, study.text + f"\n# at: {settings}\n", data)


def test_a_named_falsifying_setting_really_gives_the_other_answer(tmp_path):
    """The report names, for a finding, a sampled setting where the effect vanished or
    reversed. Run there with more replicates, the study must not come out supported."""
    studies = [load_study(sid) for sid in FALSIFIED]
    found = run_loaded(studies, tmp_path / "search", quick=True, workers=2).summary
    named = found.set_index("id").falsifier.fillna("")
    named = named[named != ""]
    assert len(named) >= 1, found[["id", "robust_share", "falsifier_tried", "falsifier_outcome"]]
    again = []
    for sid, text in named.items():
        settings = [item.strip() for item in text.split(",")]
        again.append(_at(load_study(sid), settings, replicates=12))
    rerun = run_loaded(again, tmp_path / "rerun", quick=True, workers=2).summary
    assert (rerun.outcome != "supported").all(), rerun[["id", "effect", "ci_low", "ci_high"]]


def test_a_null_study_is_not_detected_in_most_seeds(tmp_path):
    """Survey noise cannot change trades; with independent seeds the arms differ by chance
    alone, so the 95 % interval should exclude 0 in about 1 study in 20."""
    paths = [
        write_study(
            tmp_path,
            name=f"null_{seed}",
            statistic="trades",
            control=["measurement.survey_noise=0.05"],
            treatment=["measurement.survey_noise=0.5"],
            replicates=8,
            master_seed=seed,
            common_seeds=False,
        )
        for seed in range(10)
    ]
    report = run_studies([str(p) for p in paths], tmp_path / "out", workers=2)
    assert (report.summary.verdict == "not detected").sum() >= 8, report.summary


def _kill_group(proc) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)


def test_resume_after_kill_9_gives_the_same_summary(tmp_path):
    study = write_study(tmp_path, replicates=40, robustness=True)
    reference = run_studies([str(study)], tmp_path / "ref", workers=1)
    out = tmp_path / "out"
    proc = cli_process("study", str(study), "--out", str(out), "--workers", "2", "--quiet")
    chunks = out / "sweep" / "chunks"
    deadline = time.monotonic() + 120
    while len(list(chunks.glob("runs-*.parquet")) if chunks.exists() else []) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    _kill_group(proc)
    assert not (out / "summary.csv").exists()
    done = cli("study", str(study), "--out", str(out), "--workers", "2", "--quiet", timeout=300)
    assert done.returncode == 0, done.stderr
    assert (out / "summary.csv").read_text() == (reference.out / "summary.csv").read_text()
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "replicates.parquet"),
        pd.read_parquet(reference.out / "replicates.parquet"),
    )  # and the same table on 2 workers as on 1


def test_quick_mode_is_said_in_the_report(tmp_path):
    study = write_study(tmp_path, replicates=8)
    report = run_studies([str(study)], tmp_path / "out", quick=True, workers=1)
    text = Path(report.out / "report.md").read_text(encoding="utf-8")
    assert "mode: **quick" in text
    assert report.summary.n_control.iloc[0] == 6  # quick caps replicates
