"""The CDNOW bridge: the panel as published, the weeks 1-39 rule, one-line errors, BG/NBD
as published, the model's cohort, and a small `trustsim predict cdnow`."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trustsim.analysis.measures import statistics as S
from trustsim.analysis.measures.cohort import model_cohort, share_name, week_name
from trustsim.analysis.realdata import bgnbd, cdnow
from trustsim.analysis.realdata.targets import targets_text
from trustsim.cli import main

pytest.importorskip("lifetimes")

SAMPLE = cdnow.wheel_folder() / cdnow.FILES["sample"]


def errors(capsys, *argv) -> list[str]:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()


def folder_with(tmp_path: Path, lines: list[str], name: str = "CDNOW_sample.txt") -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / name).write_text("".join(lines), encoding="ascii")
    return folder


def sample_lines() -> list[str]:
    return SAMPLE.read_text(encoding="ascii").splitlines(keepends=True)


def test_the_sample_holds_the_published_panel():
    # Fader, Hardie & Lee 2005: 2,357 customers; calibration histogram 1411, 439, 214, ...
    panel = cdnow.load()
    cohort = panel.cohort()
    assert panel.customers == cohort.size == 2357
    assert cohort.histogram().tolist() == [1411, 439, 214, 100, 62, 38, 29, 64]
    weekly = cohort.weekly()
    assert weekly[:39].sum() == 2457 and weekly.sum() == 4339


def test_targets_come_from_weeks_1_to_39_only(tmp_path):
    from trustsim.analysis.calibration.targets import load_targets

    # The same file from the whole panel and from the panel cut at 30 September 1997.
    cut = [line for line in sample_lines() if line.split()[2] <= "19970930"]
    assert len(cut) < len(sample_lines())
    whole, short = tmp_path / "whole.toml", tmp_path / "cut.toml"
    assert main(["data", "cdnow", "--write-targets", str(whole)]) == 0
    folder = folder_with(tmp_path, cut)
    assert main(["data", "cdnow", "--data", str(folder), "--write-targets", str(short)]) == 0
    assert whole.read_text() == short.read_text()
    assert load_targets(whole).base.population.n_customers == 2000  # its base resolves
    # ...and a change inside weeks 1-39 does change it (the test can fail)
    moved = [cut[0].replace("19970101", "19970102"), *cut[1:]]
    (folder / "CDNOW_sample.txt").write_text("".join(moved), encoding="ascii")
    assert main(["data", "cdnow", "--data", str(folder), "--write-targets", str(short)]) == 0
    assert whole.read_text() != short.read_text()


@pytest.mark.parametrize(
    "model, name", [("trust", "cdnow"), ("heterogeneous", "cdnow_heterogeneous")]
)
def test_the_shipped_targets_file_is_what_the_command_writes(model, name):
    from trustsim.analysis.calibration.targets import TARGETS_DIR, load_targets

    shipped = TARGETS_DIR / f"{name}.toml"
    assert shipped.read_text(encoding="utf-8") == targets_text(cdnow.load(), shipped, model)
    t = load_targets(shipped)
    on = model == "heterogeneous"  # its mechanisms are on and their shapes free
    assert t.base.mechanisms.purchase_heterogeneity is on and t.base.mechanisms.leave_market is on
    assert ("buying.rate_shape" in [p.name for p in t.priors]) is on
    assert [x.statistic for x in t.targets][:2] == [share_name(0), share_name(1)]
    shares = [x for x in t.targets if x.statistic.startswith("cohort_share")]
    assert sum(x.observed for x in shares) == pytest.approx(1.0, abs=1e-5)
    assert shares[0].observed == pytest.approx(1411 / 2357, abs=1e-6)
    assert shares[0].sd == pytest.approx(np.sqrt(0.5986 * 0.4014 / 2357), rel=1e-3)


@pytest.mark.parametrize(
    "line, words",
    [
        (" 00004 0001 19971301  2   29.33\n", ["line 3", "date '19971301'"]),
        (" 00004 0001 19970101  2\n", ["line 3", "4 fields, expected 5"]),
        (" 0000x 0001 19970101  2   29.33\n", ["line 3", "master id '0000x'"]),
        (" 00004 00y1 19970101  2   29.33\n", ["line 3", "customer id '00y1'"]),
        (" 00004 0001 19970101  2.5 29.33\n", ["line 3", "count '2.5'"]),
        (" 00004 0001 19980701  2   29.33\n", ["line 3", "outside the panel"]),
        (" 00004 0001 19970101  2   lots\n", ["line 3", "amount 'lots' is not a number"]),
    ],
)
def test_a_damaged_line_is_one_error_naming_file_and_line(tmp_path, capsys, line, words):
    lines = sample_lines()
    folder = folder_with(tmp_path, [*lines[:2], line, *lines[3:]])
    (msg,) = errors(capsys, "data", "cdnow", "--data", str(folder))
    assert str(folder / "CDNOW_sample.txt") in msg
    assert all(w in msg for w in words), msg


def test_missing_folder_file_and_extra_are_one_line(tmp_path, capsys, monkeypatch):
    (msg,) = errors(capsys, "data", "cdnow", "--data", str(tmp_path / "nope"))
    assert "--data" in msg and "no such folder" in msg
    (msg,) = errors(capsys, "data", "cdnow", "--data", str(SAMPLE))
    assert "is a file, not a folder" in msg and "CDNOW_sample.txt" in msg
    (msg,) = errors(capsys, "data", "cdnow", "--data", str(tmp_path), "--master")
    assert "CDNOW_master.txt" in msg and "no such file" in msg
    out = tmp_path / "t.toml"
    (msg,) = errors(capsys, "data", "cdnow", "--model", "hetero", "--write-targets", str(out))
    assert msg == "error: --model hetero: no such model; choose one of trust, heterogeneous"
    assert not out.exists()
    assert main(["data", "cdnow", "--model", "heterogeneous"]) == 0  # a conflict: warned
    assert capsys.readouterr().err.splitlines() == [
        "warning: --model heterogeneous is read only with --write-targets; no targets file written"
    ]
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "lifetimes" else real(n, *a)
    )
    (msg,) = errors(capsys, "data", "cdnow")
    assert "pip install 'trustsim[data]'" in msg


def test_the_master_file_reads_with_its_header(tmp_path):
    master = cdnow.wheel_folder() / cdnow.FILES["master"]
    head = master.read_text(encoding="ascii").splitlines(keepends=True)[:200]
    folder = folder_with(tmp_path, head, "CDNOW_master.txt")
    panel = cdnow.load(folder, "master")
    assert len(panel.transactions) == 199  # the header is not a transaction
    shutil.rmtree(folder)


def test_bgnbd_on_weeks_1_to_39_gives_the_published_fit():
    fitted = bgnbd.predict(cdnow.load())
    for key, value in bgnbd.PUBLISHED.items():
        assert fitted.params[key] == pytest.approx(value, abs=6e-4)
    assert fitted.log_likelihood == pytest.approx(bgnbd.PUBLISHED_LOG_LIKELIHOOD, abs=0.05)
    assert fitted.histogram.sum() == pytest.approx(2357)
    assert np.all(np.diff(fitted.cumulative) > 0)


def trades(rows):
    return pd.DataFrame(rows, columns=["step", "customer", "firm"])


def test_the_model_cohort_is_the_first_quarter_of_the_focal_firm():
    frame = trades(
        [
            (3, 1, 0),
            (5, 1, 0),
            (5, 1, 0),  # the same week: one occasion
            (45, 1, 0),
            (2, 2, 1),  # another firm: not the focal firm's customer
            (13, 3, 0),  # first trade after week 12: not in the cohort
            (20, 3, 0),
            (12, 4, 0),
        ]
    )
    c = model_cohort(frame)
    assert sorted(c.first_week.index) == [1, 4]
    assert c.weekly().sum() == 2 and c.weekly()[4] == 1 and c.weekly()[44] == 1
    assert c.histogram().tolist() == [1, 1, 0, 0, 0, 0, 0, 0]
    cond = c.conditional()
    assert cond["mean"].iloc[1] == 1.0 and cond["mean"].iloc[0] == 0.0


def test_cohort_statistics_read_the_same_cohort():
    frame = trades([(1, 1, 0), (2, 1, 0), (3, 1, 0), (1, 2, 0)])
    events = frame.assign(kind=0, stage=5)  # stage 5: closed (trustsim.codes.CLOSED)
    from trustsim.codes import CLOSED

    events["stage"] = CLOSED
    view = S.RunView(pd.DataFrame({"step": [1, 2, 3]}), events)
    assert S.lookup(share_name(0))(view) == 0.5
    assert S.lookup(share_name(2))(view) == 0.5
    assert S.lookup(week_name(2))(view) == 0.5
    assert S.lookup(week_name(1))(view) == 0.0


SMALL = """[run]
steps = 78
seed = 3
[population]
n_customers = 400
n_salespeople = 16
n_firms = 4
"""


def test_predict_writes_the_tables_report_and_errors(tmp_path, capsys):
    scenario = tmp_path / "small.toml"
    scenario.write_text(SMALL)
    out = tmp_path / "out"
    code = main(
        ["predict", "cdnow", "--scenario", str(scenario), "--seeds", "2", "--out", str(out)]
    )
    assert code == 0, capsys.readouterr().err
    tracking = pd.read_csv(out / "tracking.csv")
    assert tracking.week.tolist() == list(range(1, 79))
    assert tracking.actual.iloc[38] == 2457 and tracking.actual.iloc[-1] == 4339
    cond = pd.read_csv(out / "conditional.csv")
    assert cond.n.tolist() == [1411, 439, 214, 100, 62, 38, 29, 64]
    hist = pd.read_csv(out / "histogram.csv")
    assert hist.model.sum() == pytest.approx(2357)  # scaled to the panel's cohort
    err = pd.read_csv(out / "errors.csv").set_index("predictor")
    holdout = tracking.iloc[39:]
    mape = (abs(holdout.model - holdout.actual) / holdout.actual).mean() * 100
    assert err.loc["model", "holdout_mape_pct"] == pytest.approx(mape)
    # every predictor's conditional MAE is taken over the classes the model fills
    filled = cond.model.notna()
    assert (err.conditional_classes == filled.sum()).all()
    gap = (cond.bgnbd - cond.actual).abs()[filled].mean()
    assert err.loc["BG/NBD (fitted)", "conditional_mae"] == pytest.approx(gap)
    assert "x" in capsys.readouterr().out
    page = (out / "report.html").read_text()
    assert "data:image/png;base64," in page and "BG/NBD (published)" in page


@pytest.mark.parametrize("seeds", ["0", "-3", "1001"])
def test_predict_refuses_a_seed_count_out_of_range(capsys, seeds):
    (msg,) = errors(capsys, "predict", "cdnow", "--seeds", seeds)
    assert f"--seeds {seeds}" in msg and "1 to 1000" in msg
