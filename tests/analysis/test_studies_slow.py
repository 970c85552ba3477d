"""Studies can say no: a null study is not detected, every shipped hypothesis has a setting
where it is not supported, and an interrupted study resumes to the same summary."""

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
from trustsim.analysis.studies.spec import load_study, parse, shipped_ids

pytestmark = [pytest.mark.slow]

# For every shipped study: settings, applied to both arms, that put the hypothesis's
# mechanism at its null (a switch off, or a parameter where ODD §11 says the relation
# vanishes). The treatment also gets a survey-noise change the statistic cannot see, only
# so that the two arms are not refused as identical.
NULL = {
    "h01_insider_by_trades": ["mechanisms.ring_migration=false"],
    "h02_ability_then_character": ["mechanisms.age_shift=false"],
    "h03_cost_falls_with_trust": ["mechanisms.transaction_cost=false"],
    "h04_failure_response": ["mechanisms.forgiveness=false"],
    "h05_exit_barrier": ["mechanisms.exit_barrier=false"],
    "h06_breach_rebuild": [
        "breach.loss_instrumental=0.0",
        "breach.loss_emotional=0.0",
        "breach.scar=0.0",
    ],
    "h07_referral_converts": ["trust.referral_warmth=0.0"],
    "h08_transparency": ["mechanisms.transparency=false"],
    "h09_turnover_personal_trust": ["mechanisms.org_trust=false"],
    "h10_gifts_fast": ["mechanisms.gifts=false", "mechanisms.emotional_strategy=false"],
    "h10b_gifts_fragile": ["mechanisms.gifts=false", "mechanisms.emotional_strategy=false"],
    "h11_cold_start": ["mechanisms.ring_gradient=false"],
    "h11b_insider_loyalty": ["mechanisms.ring_gradient=false"],
    "h12_deeper_needs": ["needs.value_growth=1.0"],
}
INVISIBLE = "measurement.survey_noise=0.31"


def test_every_shipped_study_has_a_null_setting():
    assert sorted(NULL) == shipped_ids()


def _nulled(sid: str):
    study = load_study(sid)
    data = tomllib.loads(study.text)
    data.pop("robustness", None)
    data.pop("ablation", None)
    data["control"]["set"] = data["control"]["set"] + NULL[sid]
    data["treatment"]["set"] = data["treatment"]["set"] + NULL[sid] + [INVISIBLE]
    return parse(study.path, study.text + f"\n# null: {NULL[sid]}\n", data)


def test_falsifiability_every_hypothesis_can_come_out_not_supported(tmp_path):
    studies = [_nulled(sid) for sid in shipped_ids()]
    report = run_loaded(studies, tmp_path / "out", quick=True, workers=2)
    summary = report.summary.set_index("id")
    assert (summary.verdict != "supported").all(), summary[["effect", "ci_low", "ci_high"]]


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
