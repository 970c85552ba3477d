"""Hypothesis studies: file validation, the statistics, the interval's honesty, the report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.analysis.study_helpers import study_text, write_study
from trustsim.analysis.measures import statistics as registry
from trustsim.analysis.studies import stats as S
from trustsim.analysis.studies.report import TABLE, fmt, summary_from_markdown
from trustsim.analysis.studies.run import run_studies
from trustsim.analysis.studies.spec import MAX_RUNS_PER_STUDY, load_studies, shipped_ids
from trustsim.analysis.sweep.batch import Batch, run_batch
from trustsim.cli import main
from trustsim.loader import load_scenario
from trustsim.runtime.run import simulate

# ----------------------------------------------------------------------------- statistics


@pytest.mark.parametrize("paired", [False, True])
def test_interval_covers_a_known_effect_at_about_the_nominal_rate(paired):
    """200 synthetic studies with true effect 0.3: the 95 % interval covers it 90-99 %."""
    rng = np.random.default_rng(8)
    covered = 0
    for i in range(200):
        shared = rng.normal(0, 1, 20)  # a seed's own level, common to both arms when paired
        c = shared + rng.normal(0, 0.5, 20) if paired else rng.normal(1.0, 1.0, 20)
        t = shared + 0.3 + rng.normal(0, 0.5, 20) if paired else rng.normal(1.3, 1.0, 20)
        eff = S.estimate(c, t, paired=paired, seed=i)
        covered += eff.ci_low <= 0.3 <= eff.ci_high
    assert 0.90 <= covered / 200 <= 0.99


def test_verdict_rule():
    assert S.verdict(0.1, 0.5, +1) == "supported"
    assert S.verdict(-0.5, -0.1, +1) == "reversed"
    assert S.verdict(-0.5, -0.1, -1) == "supported"
    assert S.verdict(-0.1, 0.5, +1) == "not detected"
    assert S.verdict(0.0, 0.0, +1) == "not detected"  # an exact null is not an effect
    assert S.verdict(float("nan"), float("nan"), +1) == "not detected"


def test_degenerate_bootstrap_falls_back_and_nans_are_dropped():
    const = S.estimate([1.0] * 5, [2.0] * 5, paired=True)
    assert (const.ci_low, const.ci_high, const.effect) == (1.0, 1.0, 1.0)
    assert const.interval == "t-paired"
    few = S.estimate([1.0, np.nan, np.nan], [2.0, 3.0, 4.0])
    assert few.n_control == 1 and np.isnan(few.ci_low)  # too few values: no interval
    assert S.verdict(few.ci_low, few.ci_high, 1) == "not detected"


def test_hedges_g_and_holm():
    rng = np.random.default_rng(1)
    c, t = rng.normal(0, 1, 400), rng.normal(0.5, 1, 400)
    assert S.hedges_g(c, t) == pytest.approx(0.5, abs=0.12)
    p = np.array([0.01, 0.04, np.nan, 0.03])
    h = S.holm(p)
    assert np.isnan(h[2]) and (h[~np.isnan(p)] >= p[~np.isnan(p)]).all()
    assert h[0] == pytest.approx(0.03)  # smallest of 3 tests times 3


def test_robust_share_counts_only_measured_points():
    share, n = S.robust_share([0.2, -0.1, np.nan, 0.3], +1)
    assert (share, n) == (pytest.approx(2 / 3), 3)


def test_every_named_statistic_is_listed_with_one_line(capsys):
    assert main(["study", "--list-statistics"]) == 0
    out = capsys.readouterr().out
    for name, _ in registry.describe():
        assert name in out
    assert all("\n" not in help for _, help in registry.describe())


def test_worker_statistics_equal_a_direct_computation():
    """A batch computes registry statistics next to the run, with the event log switched
    on only for statistics that need it; values equal simulate() + compute()."""
    sets = ["population.n_customers=100", "population.n_firms=2", "run.steps=40"]
    sc = load_scenario("baseline", sets)
    names = ("cold_first_close_rate", "follow_share", "trades", "rebuild_slower_share")
    batch = Batch(
        sc.model_dump(), "test", (({"run_id": 0, "point_id": 3, "replicate": 0, "seed": 5}, {}),),
        (), 20, 0, ((3, names, 10),),
    )  # fmt: skip
    row = run_batch(batch).runs.iloc[0]
    ref = simulate(load_scenario("baseline", [*sets, "run.history=true"]), "core", 5)
    view = registry.RunView(ref.timeseries, ref.events, ref.model.world, 10)
    expected = registry.compute(names, view)
    for name in names:
        assert row[name] == pytest.approx(expected[name], nan_ok=True)
    assert not registry.needs_events(["follow_share", "trades"])
    assert registry.needs_events(["cold_first_close_rate"])


# ----------------------------------------------------------------------------- files


def test_shipped_studies_load_and_cover_every_hypothesis():
    studies = load_studies([])
    assert {s.spec.study.hypothesis for s in studies} >= {f"H{i}" for i in range(1, 13)}
    assert len(shipped_ids()) == len(studies)
    for s in studies:
        assert s.spec.study.control_is.strip()
        assert s.spec.study.classification != "unclassified"
        assert len(s.robust_names) >= 4


def errors(capsys, *argv) -> list[str]:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()


@pytest.mark.parametrize(
    "kw, words",
    [
        ({"extra": "[bogus]\nx = 1\n"}, ["unknown key 'bogus'"]),
        ({"statistic": "trade"}, ["study.statistic", "unknown statistic", "did you mean 'trades'"]),
        ({"direction": "up"}, ["study.direction", "increase or decrease"]),
        ({"treatment": ["salespeople.competense=0.9"]}, ["treatment.set", "no such parameter"]),
        ({"treatment": ["salespeople.competence=0.3"]}, ["[control] and [treatment]", "same"]),
        ({"replicates": 5000}, ["runs.replicates", "[2, 1000]"]),
        ({"control": ["run.seed=3"]}, ["control.set", "run.seed", "cannot be set"]),
    ],
)
def test_bad_study_files_give_one_line_naming_file_and_key(tmp_path, capsys, kw, words):
    path = write_study(tmp_path, **kw)
    lines = errors(capsys, "study", str(path), "--out", str(tmp_path / "o"))
    assert len(lines) == 1, lines
    assert str(path) in lines[0]
    for w in words:
        assert w in lines[0], lines[0]
    assert not (tmp_path / "o").exists()  # refused before anything was planned or written


def test_absurd_run_counts_are_refused_before_planning(tmp_path, capsys):
    extra = (
        "[robustness]\nsamples = 1000\nreplicates = 1000\n[robustness.parameters]\n"
        '"firms.quality" = [0.4, 0.9]\n"salespeople.integrity" = [0.6, 1.0]\n'
        '"population.propensity_mean" = [0.3, 0.7]\n"culture.ring_gradient" = [0.2, 0.9]\n'
    )
    path = write_study(tmp_path, extra=extra)
    (line,) = errors(capsys, "study", str(path))
    assert str(path) in line and f"limit of {MAX_RUNS_PER_STUDY}" in line
    ok = write_study(tmp_path, name="ok")
    (line,) = errors(capsys, "study", str(ok), "--replicates", "9999")
    assert "--replicates 9999" in line


def test_every_problem_of_several_files_is_reported(tmp_path, capsys):
    a = write_study(tmp_path, name="a", statistic="nope")
    b = write_study(tmp_path, name="b", direction="sideways")
    lines = errors(capsys, "study", str(a), str(b))
    assert len(lines) == 2 and str(a) in lines[0] and str(b) in lines[1]


def test_robustness_parameters_are_checked(tmp_path, capsys):
    extra = (
        '[robustness]\n[robustness.parameters]\n"salespeople.competence" = [0.1, 0.9]\n'
        '"firms.qualty" = [0.4, 0.9]\n'
    )
    lines = errors(capsys, "study", str(write_study(tmp_path, extra=extra)))
    text = "\n".join(lines)
    assert (
        "at least 4" in text and "set by an arm" in text and "did you mean 'firms.quality'" in text
    )


# ----------------------------------------------------------------------------- report


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("studies")
    a = write_study(folder, name="comp", robustness=True)
    b = write_study(
        folder, name="null", statistic="trades", control=["measurement.survey_noise=0.05"],
        treatment=["measurement.survey_noise=0.5"], common_seeds=False,
    )  # fmt: skip
    return run_studies([str(a), str(b)], folder / "out", workers=1)


def test_report_files_and_columns(tiny_report):
    out = tiny_report.out
    for name in (
        "summary.csv",
        "studies.parquet",
        "replicates.parquet",
        "report.md",
        "report.html",
    ):
        assert (out / name).is_file(), name
    required = [
        "id",
        "hypothesis",
        "statistic",
        "direction",
        "n_control",
        "n_treatment",
        "control_mean",
        "treatment_mean",
        "effect",
        "ci_low",
        "ci_high",
        "effect_size",
        "p_holm",
        "verdict",
        "ablation_effect",
        "ablation_ci_low",
        "ablation_ci_high",
        "robust_share",
    ]
    assert set(required) <= set(pd.read_parquet(out / "studies.parquet").columns)
    reps = pd.read_parquet(out / "replicates.parquet")
    assert len(reps[(reps.study == "comp") & (reps.role == "control")]) == 6
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and 'src="figures' not in page  # self-contained
    summary = tiny_report.summary.set_index("id")
    assert summary.loc["comp", "verdict"] == "supported"  # more competent sellers sell more
    assert summary.loc["comp", "robust_points"] == 4


def test_report_summary_table_equals_summary_csv(tiny_report):
    md = summary_from_markdown((tiny_report.out / "report.md").read_text(encoding="utf-8"))
    csv = pd.read_csv(tiny_report.out / "summary.csv", keep_default_na=False, na_values=[""])
    assert len(md) == len(csv)
    for col, header in TABLE:
        expected = [fmt(v) if not (isinstance(v, str) and v == "") else "—" for v in csv[col]]
        assert md[header].tolist() == expected, col


def test_rerun_in_a_finished_folder_computes_nothing(tiny_report, tmp_path):
    folder = tiny_report.out.parent
    again = run_studies(
        [str(folder / "comp.toml"), str(folder / "null.toml")], tiny_report.out, workers=1
    )
    assert again.meta["new_runs"] == 0
    pd.testing.assert_frame_equal(again.summary, tiny_report.summary)


def test_a_folder_of_other_studies_is_refused(tiny_report, capsys):
    folder = tiny_report.out.parent
    lines = errors(capsys, "study", str(folder / "comp.toml"), "--out", str(tiny_report.out))
    assert "holds runs of other studies than these" in lines[0]
    assert "null.toml is left out" in lines[0]  # names what differs, not a made-up path
    assert len(lines) == 1


def test_study_text_helper_is_valid():
    assert "[study]" in study_text()


def test_arms_that_differ_by_a_word_valued_parameter_run(tmp_path):
    # a reassignment policy is a word: a study comparing two policies must run as any other
    study = write_study(
        tmp_path, name="words", base=["turnover.rate=0.05"], replicates=2,
        control=["turnover.reassignment=random"], treatment=["turnover.reassignment=handover"],
    )  # fmt: skip
    report = run_studies([str(study)], tmp_path / "out", workers=1)
    reps = report.replicates
    assert sorted(reps["role"].value_counts().to_dict().items()) == [
        ("control", 2),
        ("treatment", 2),
    ]
    assert np.isfinite(reps["value"]).all()
