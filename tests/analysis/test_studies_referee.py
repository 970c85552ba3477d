"""What a referee needs from a study: manipulation checks, doses, a smallest effect of
interest, simultaneous intervals, and statistics that count every loss path with censoring.
Each statistic is checked on a constructed event log whose answer is known by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.analysis.study_helpers import write_study
from trustsim.analysis.measures import hypotheses as H
from trustsim.analysis.measures import statistics as registry
from trustsim.analysis.studies import stats as S
from trustsim.analysis.studies.run import run_studies
from trustsim.analysis.studies.spec import load_studies
from trustsim.cli import main
from trustsim.codes import CLOSED, INSIDER, OUTSIDER
from trustsim.metrics import EV_ENCOUNTER, EV_OFFER, EV_TURNOVER, LOG_COLUMNS

# ----------------------------------------------------------------------------- the rule


def test_negligible_needs_the_whole_interval_inside_the_sesoi():
    assert S.verdict(-0.1, 0.1, +1, sesoi=0.2) == "negligible"
    assert S.verdict(0.01, 0.05, +1, sesoi=0.1) == "negligible"  # never "supported" inside
    assert S.verdict(0.01, 0.3, +1, sesoi=0.1) == "supported"
    assert S.verdict(-0.1, 0.3, +1, sesoi=0.2) == "not detected"
    assert S.verdict(0.0, 0.0, +1, sesoi=0.0) == "not detected"  # no room inside ±0
    assert S.verdict(-0.1, 0.1, +1) == "not detected"  # no sesoi: no equivalence test


def test_a_failed_manipulation_overrides_the_outcome():
    assert S.study_verdict("supported", "failed") == "manipulation failed"
    assert S.study_verdict("negligible", "failed") == "manipulation failed"
    assert S.study_verdict("supported", "passed") == "supported"
    assert S.study_verdict("supported", None, check=True) == "check passed"
    assert S.study_verdict("reversed", None, check=True) == "check failed"


def test_simultaneous_level_and_paired_effect_size():
    assert S.family_level(1) == pytest.approx(0.95)
    assert S.family_level(14) == pytest.approx(1 - 0.05 / 14)
    rng = np.random.default_rng(3)
    shared = rng.normal(0, 5, 400)  # a large seed effect: pooled SD would hide the effect
    c = shared + rng.normal(0, 1, 400)
    t = shared + 0.5 + rng.normal(0, 1, 400)
    eff = S.estimate(c, t, paired=True)
    assert eff.effect_size == pytest.approx(0.5 / np.sqrt(2), abs=0.08)  # dz, not g
    assert S.hedges_g(c, t) < 0.2
    wide = S.estimate(c[:20], t[:20], paired=True, level=S.family_level(14))
    narrow = S.estimate(c[:20], t[:20], paired=True)
    assert wide.ci_low < narrow.ci_low and wide.ci_high > narrow.ci_high


def test_wilson_interval_and_dose_slope():
    low, high = S.wilson(0.5, 32)
    assert low == pytest.approx(0.336, abs=0.002) and high == pytest.approx(0.664, abs=0.002)
    assert np.isnan(S.wilson(float("nan"), 0)[0])
    rng = np.random.default_rng(5)
    x = np.tile([0.1, 0.3, 0.5, 0.7], (40, 1))
    y = 2.0 * x + rng.normal(0, 1, (40, 1)) + rng.normal(0, 0.3, x.shape)
    paired = S.dose_slope(x, y, True, 0, 0.95)
    pooled = S.dose_slope(x, y, False, 0, 0.95)
    assert paired.ci_low < 2.0 < paired.ci_high and paired.ci_low > 1.5
    assert pooled.ci_low < 2.0 < pooled.ci_high
    assert pooled.ci_high - pooled.ci_low > paired.ci_high - paired.ci_low  # seeds cancel


# ----------------------------------------------------------------------------- files


def errors(capsys, *argv) -> list[str]:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()


@pytest.mark.parametrize(
    "extra, words",
    [
        (
            '[manipulation]\nlatent = "stranger_trus"\ndirection = "increase"\n',
            ["manipulation.latent", "unknown statistic", "did you mean 'stranger_trust'"],
        ),
        ('[manipulation]\nlatent = "trades"\ndirection = "up"\n', ["manipulation.direction"]),
        ('[dose]\nparameter = "firms.quality"\nlevels = [0.4, 0.6]\n', ["dose.levels"]),
        ('[dose]\nparameter = "firms.qualty"\nlevels = [1, 2, 3]\n', ["dose.parameter", "did you"]),
        ('[dose]\nparameter = "firms.quality"\nlevels = [0.4, 0.6, 7.0]\n', ["dose.levels", "7"]),
        ('[dose]\nparameter = "mechanisms.gifts"\nlevels = [0, 1, 2]\n', ["numeric parameter"]),
    ],
)
def test_bad_manipulation_and_dose_tables_give_one_line(tmp_path, capsys, extra, words):
    path = write_study(tmp_path, extra=extra)
    lines = errors(capsys, "study", str(path), "--out", str(tmp_path / "o"))
    assert len(lines) == 1, lines
    assert str(path) in lines[0]
    for w in words:
        assert w in lines[0], lines[0]
    assert not (tmp_path / "o").exists()


def test_a_negative_sesoi_is_refused(tmp_path, capsys):
    path = write_study(tmp_path)
    path.write_text(path.read_text().replace('claim = "', 'sesoi = -1.0\nclaim = "'))
    (line,) = errors(capsys, "study", str(path))
    assert "study.sesoi" in line


BETWEEN_RUN = {"H8", "H9", "H10", "H11"}  # arms set one parameter to two values


def test_shipped_studies_name_sesoi_manipulation_and_dose():
    for s in load_studies([]):
        meta = s.spec.study
        assert meta.sesoi is not None and meta.sesoi > 0, s.id
        assert meta.sesoi_is.strip() or "sesoi" in meta.control_is, s.id
        if meta.hypothesis in BETWEEN_RUN:
            assert s.latent is not None, s.id
            assert s.spec.dose is not None and len(s.spec.dose.levels) >= 3, s.id
        names = s.robust_names
        assert "population.n_customers" in names, s.id  # at two or more market sizes
        assert any(n.startswith(("wom.", "elsewhere.", "turnover.")) for n in names), s.id
    h12 = next(s for s in load_studies(["h12_deeper_needs"]))
    assert h12.control["needs"]["value_base"] == 0.0  # the true null, not value_growth = 1
    h9 = load_studies(["h09_turnover_personal_trust"])[0]
    assert h9.dose_sign == -1  # faster org learning should lose fewer customers


# ----------------------------------------------------------------------------- statistics


def _log(rows: list[dict]) -> pd.DataFrame:
    """An event log from a few rows; unnamed columns take the engines' defaults."""
    default = dict.fromkeys(LOG_COLUMNS, 0) | dict.fromkeys(
        ("trust_before", "trust_after", "org_trust", "perf", "cost", "discount"), np.nan
    )
    default |= {"lost_salesperson": -1, "ring_before": OUTSIDER, "ring_after": OUTSIDER}
    return pd.DataFrame([default | r for r in rows], columns=list(LOG_COLUMNS))


def _trade(step, c, s, f=0, **kw):
    return {"step": step, "kind": EV_ENCOUNTER, "customer": c, "salesperson": s, "firm": f,
            "stage": CLOSED, **kw}  # fmt: skip


def _view(rows, last_step=100):
    ts = pd.DataFrame({"step": np.arange(1, last_step + 1)})
    return registry.RunView(ts, _log(rows))


def test_turnover_loss_counts_every_path_and_censors_late_moves():
    move = {"kind": EV_TURNOVER, "salesperson": 9, "firm": 0, "trust_before": 0.8}
    rows = [
        {**move, "step": 30, "customer": 1, "followed": 1, "org_trust": 0.5},  # followed
        {**move, "step": 30, "customer": 2, "org_trust": 0.6},  # stayed, never traded again
        {**move, "step": 30, "customer": 3, "org_trust": 0.7},  # stayed and kept
        _trade(40, 3, 4, f=0),
        {**move, "step": 30, "customer": 4, "org_trust": 0.7},  # traded, but at another firm
        _trade(41, 4, 5, f=1),
        {**move, "step": 90, "customer": 5, "org_trust": 0.7},  # horizon past the end
    ]
    v = _view(rows)
    assert registry.compute(["turnover_loss_share"], v)["turnover_loss_share"] == 0.75
    pmo = registry.compute(["personal_minus_org_trust_at_move"], v)
    assert pmo["personal_minus_org_trust_at_move"] == pytest.approx(
        np.mean([0.3, 0.2, 0.1, 0.1, 0.1])
    )


def test_insider_hazard_counts_every_exit_path_per_insider_week():
    up = {"ring_before": OUTSIDER, "ring_after": INSIDER}
    rows = [
        _trade(30, 1, 1, **up),
        _trade(40, 1, 1, ring_before=INSIDER, ring_after=OUTSIDER),  # fell: 10 weeks
        _trade(30, 2, 2, **up),
        {"step": 50, "kind": EV_OFFER, "customer": 2, "salesperson": 2, "switched": 1},  # 20
        _trade(30, 3, 3, **up),
        {"step": 35, "kind": EV_TURNOVER, "customer": 3, "salesperson": 3, "followed": 0},  # 5
        _trade(30, 4, 4, **up),
        _trade(45, 4, 7, lost_salesperson=4),  # a need met elsewhere took it: 15
        _trade(30, 5, 5, **up),  # kept to the end: 70 weeks, censored
        _trade(10, 6, 6, **up),  # became insider during the burn-in: left out
    ]
    v = _view(rows)
    hazard = registry.compute(["insider_loss_hazard"], v)["insider_loss_hazard"]
    assert hazard == pytest.approx(4 / (10 + 20 + 5 + 15 + 70))
    spells = H.insider_spells(v.events, 100).set_index("customer")
    assert not spells.loc[5, "lost"] and spells.loc[5, "end"] == 100


def test_median_trades_to_insider_is_kaplan_meier_with_censoring():
    rows = []
    # six pairs met after the burn-in: four cross at trades 2, 3, 4, 4; two never do
    # (censored after 5 trades). The mean of the crossers says 3.25; KM: S(4) = 1/3.
    for c, at in enumerate([2, 3, 4, 4, None, None]):
        for n in range(1, 6):
            ring = INSIDER if at is not None and n >= at else OUTSIDER
            before = INSIDER if at is not None and n > at else OUTSIDER
            rows.append(_trade(30 + n, c, c, n_trades=n, ring_before=before, ring_after=ring))
    v = _view(rows)
    assert registry.compute(["median_trades_to_insider"], v)["median_trades_to_insider"] == 4
    lifelines_free = H.trades_to_cross(v.events)
    assert lifelines_free.crossed.sum() == 4 and lifelines_free.trades.max() == 5


def test_durability_and_shock_losses_against_a_matched_honest_trade():
    rows = [
        _trade(30, 1, 1, n_trades=1, trust_before=0.3, trust_after=0.5),
        _trade(34, 1, 1, n_trades=2, trust_before=0.46, trust_after=0.6),  # 0.01/week decay
        _trade(30, 2, 2, n_trades=1, trust_before=0.3, trust_after=0.4, failed=1),
        _trade(30, 3, 3, n_trades=2, trust_before=0.5, trust_after=0.2, breach=1, failed=1),
    ]
    v = _view(rows)
    got = registry.compute(
        ["trust_decay_per_week", "failure_loss_vs_honest", "breach_loss_vs_honest"], v
    )
    assert got["trust_decay_per_week"] == pytest.approx(0.01)
    assert got["failure_loss_vs_honest"] == pytest.approx(0.2 - 0.1)  # honest +0.2 at age 1
    assert got["breach_loss_vs_honest"] == pytest.approx(0.14 + 0.3)  # honest +0.14 at age 2


# ----------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def referee_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("referee")
    comp = ["salespeople.competence=0.3"], ["salespeople.competence=0.9"]
    manip = write_study(
        folder, name="manip", control=comp[0], treatment=comp[1],
        extra='[manipulation]\nlatent = "trades"\ndirection = "decrease"\n',
    )  # fmt: skip
    zero = write_study(
        folder, name="zero", control=["measurement.survey_noise=0.05"],
        treatment=["measurement.survey_noise=0.5"],
    )  # fmt: skip
    zero.write_text(zero.read_text().replace('claim = "', 'sesoi = 5.0\nclaim = "'))
    dose = write_study(
        folder,
        name="dose",
        extra='[dose]\nparameter = "salespeople.competence"\nlevels = [0.3, 0.5, 0.7, 0.9]\n',
    )
    return run_studies([str(manip), str(zero), str(dose)], folder / "out", workers=1)


def test_holdout_kinds_get_their_verdicts(referee_report):
    summary = referee_report.summary.set_index("id")
    # More competent sellers sell more: the named latent rises, not falls as the file says.
    assert summary.loc["manip", "manipulation"] == "failed"
    assert summary.loc["manip", "outcome"] == "supported"  # the outcome alone would pass
    assert summary.loc["manip", "verdict"] == "manipulation failed"
    assert summary.loc["zero", "effect"] == 0 and summary.loc["zero", "verdict"] == "negligible"
    assert summary.loc["dose", "dose_ci_low"] > 0 and summary.loc["dose", "dose_verdict"] == (
        "supported"
    )
    assert summary.loc["dose", "ci_level"] == pytest.approx(1 - 0.05 / 3)
    reps = referee_report.replicates
    assert len(reps[(reps.study == "dose") & (reps.role == "dose")]) == 4 * 6
    text = (referee_report.out / "report.md").read_text(encoding="utf-8")
    assert "**Manipulation check.**" in text and "**Dose.**" in text
    assert (referee_report.out / "figures" / "dose_dose.png").is_file()


def test_median_trades_to_rebuild_censors_pairs_not_yet_back():
    rows = []
    for c, back in enumerate([1, 2, 3, None, None]):  # trades after the breach to regain
        rows.append(_trade(30, c, c, n_trades=1, trust_before=0.5, trust_after=0.6))
        rows.append(_trade(31, c, c, n_trades=2, trust_before=0.6, trust_after=0.2, breach=1))
        for k in range(1, 4):
            regained = back is not None and k >= back
            after = 0.65 if regained else 0.3
            rows.append(_trade(31 + k, c, c, n_trades=2 + k, trust_before=0.3, trust_after=after))
    rows.append(_trade(10, 9, 9, n_trades=1, trust_before=0.6, trust_after=0.1, breach=1))
    v = _view(rows)  # pair 9 was breached in the burn-in: left out
    # KM over 1, 2, 3 and two censored at 3: S(3) = 3/5 * 2/3 = 0.4, so the median is 3
    got = registry.compute(["median_trades_to_rebuild"], v)["median_trades_to_rebuild"]
    assert got == 3
