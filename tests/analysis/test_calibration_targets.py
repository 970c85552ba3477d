"""Targets files and the calibrate command's bad input: exit 2, one line per problem
naming the file and the key, never a traceback; the optional extra's one-liner."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from tests.analysis.calibration_helpers import targets_text
from trustsim.analysis.calibration.targets import TARGETS_DIR, load_targets
from trustsim.analysis.measures import statistics as S
from trustsim.cli import main

OBSERVED = {"praise": (2.0, 0.3), "complaints": (0.2, 0.05), "cost": (0.95, 0.04)}


def errors(capsys, *argv) -> list[str]:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "t.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_recovery_file_is_valid(tmp_path):
    t = load_targets(write(tmp_path, targets_text(OBSERVED)))
    assert [p.name for p in t.priors] == [
        "wom.positive_prob",
        "failures.complaint_prob",
        "costs.trust_saving",
    ]
    assert [x.name for x in t.targets] == ["praise", "complaints", "cost"]


def test_a_folder_belongs_to_the_method_too_not_only_to_the_file(tmp_path):
    """Two loads of one text have one fingerprint; a changed code default (here the
    proposal kernel's width, which the text does not state) gives another, so a folder
    made with the old method is not resumed with the new one."""
    text = targets_text(OBSERVED)
    assert "transition_scaling" not in text
    t = load_targets(write(tmp_path, text))
    assert load_targets(write(tmp_path, text)).sha256 == t.sha256
    other = t.settings.model_copy(update={"transition_scaling": 1.0})
    assert dataclasses.replace(t, settings=other).sha256 != t.sha256


def test_the_shipped_targets_are_valid_and_cite_their_sources():
    for path in TARGETS_DIR.glob("*.toml"):
        t = load_targets(path)
        assert len(t.priors) >= 5
        assert all(x.source and x.sd > 0 for x in t.targets)
        # every shipped statistic is defined on the event log or the metrics
        assert all(S.lookup(x.statistic) for x in t.targets)


@pytest.mark.parametrize("quick", [False, True], ids=["full", "quick"])
def test_the_shipped_calibrations_afford_their_most_replicates_and_say_when_they_stop(quick):
    from dataclasses import replace

    from trustsim.analysis.calibration.plan import make_plan

    t = load_targets("stylized_facts")
    s = t.settings
    assert s.max_replicates and s.max_replicates > s.replicates
    assert s.minimum_epsilon > 0 and 0 < s.min_acceptance_rate < 0.1
    worst = replace(make_plan(t, None, quick), replicates=s.max_replicates)
    assert worst.budget >= worst.minimum


@pytest.mark.parametrize(
    "old, new, words",
    [
        (
            'statistic = "wom_positive"',
            'statistic = "wom_positve"',
            [
                "targets[1] (praise)",
                "statistic = 'wom_positve'",
                "no such statistic",
                "did you mean 'wom_positive'",
            ],
        ),
        (
            '"wom.positive_prob" = [0.05, 0.9]',
            '"wom.positive_prob" = [0.05, 1.5]',
            [
                "priors.'wom.positive_prob'",
                "1.5",
                "outside the schema's range",
                "a number in [0, 1]",
            ],
        ),
        (
            '"wom.positive_prob" = [0.05, 0.9]',
            '"wom.postive_prob" = [0.05, 0.9]',
            ["priors.'wom.postive_prob'", "no such parameter", "did you mean 'wom.positive_prob'"],
        ),
        (
            '"wom.positive_prob" = [0.05, 0.9]',
            '"population.n_firms" = [1, 3]',
            ["priors.'population.n_firms'", "only float parameters"],
        ),
        ("sd = 0.3\n", "sd = 0\n", ["targets[1] (praise).sd = 0", "must be a number > 0"]),
        ("sd = 0.3\n", "sd = -1.0\n", ["targets[1] (praise).sd = -1.0"]),
        (
            "replicates = 2",
            "replicates = 0",
            ["calibration.replicates = 0", "an integer in [1, 1000]"],
        ),
        (
            'scenario = "baseline"',
            'scenario = "baselin"',
            ["calibration.scenario", "no such shipped scenario"],
        ),
        (
            "master_seed = 3",
            "master_seed = 3\ntransition_scaling = 0",
            ["calibration.transition_scaling = 0", "a number in (0, 10]"],
        ),
        (
            "master_seed = 3",
            "master_seed = 3\nbudgett = 5",
            ["unknown key 'calibration.budgett'", "did you mean 'budget'"],
        ),
    ],
)
def test_each_bad_entry_is_one_line_naming_file_and_key(tmp_path, capsys, old, new, words):
    text = targets_text(OBSERVED)
    assert old in text
    f = write(tmp_path, text.replace(old, new, 1))
    (line,) = errors(capsys, "calibrate", f)
    assert f in line
    for w in words:
        assert w in line, (w, line)


def test_no_targets(tmp_path, capsys):
    text = targets_text(OBSERVED)
    f = write(tmp_path, text[: text.index("[[targets]]")])
    (line,) = errors(capsys, "calibrate", f)
    assert f in line and "targets" in line and "no [[targets]] table" in line


def test_several_problems_give_several_lines(tmp_path, capsys):
    text = (
        targets_text(OBSERVED).replace("sd = 0.3\n", "sd = 0\n").replace('"wom_positive"', '"nope"')
    )
    lines = errors(capsys, "calibrate", write(tmp_path, text))
    assert len(lines) == 2 and all(line.startswith("error: ") for line in lines)


@pytest.mark.parametrize(
    "budget, words",
    [("0", "must be a number of model runs"), ("50", "too small"), ("100000000000", "must be")],
)
def test_absurd_budget(tmp_path, capsys, budget, words):
    f = write(tmp_path, targets_text(OBSERVED))
    (line,) = errors(capsys, "calibrate", f, "--budget", budget, "--out", str(tmp_path / "o"))
    assert "--budget" in line and words in line
    assert not (tmp_path / "o").exists()


def test_absurd_budget_in_the_file(tmp_path, capsys):
    f = write(tmp_path, targets_text(OBSERVED, budget=10))
    (line,) = errors(capsys, "calibrate", f, "--out", str(tmp_path / "o"))
    assert f in line and "calibration.budget = 10" in line and "too small" in line


def test_missing_file_and_missing_argument(tmp_path, capsys):
    (line,) = errors(capsys, "calibrate", str(tmp_path / "none.toml"))
    assert "none.toml" in line and "no such file" in line
    (line,) = errors(capsys, "calibrate")
    assert "name a targets file" in line


def test_list_statistics(capsys):
    assert main(["calibrate", "--list-statistics"]) == 0
    out = capsys.readouterr().out
    for name in ("departure_sales_drop", "complaint_share", "stranger_trust"):
        assert name in out


def test_listing_the_statistics_does_not_load_the_compiled_core():
    """A listing is text: it must not pay numba's import (a second or more cold)."""
    code = (
        "import contextlib, io, sys\n"
        "from trustsim.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    code = main(['calibrate', '--list-statistics'])\n"
        "print(code, 'numba' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.split() == ["0", "False"], proc.stderr


def test_without_pyabc_the_command_names_the_extra(tmp_path):
    blocker = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'pyabc':\n"
        "            raise ModuleNotFoundError(\"No module named 'pyabc'\", name='pyabc')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from trustsim.cli import main\n"
        f"sys.exit(main(['calibrate', {write(tmp_path, targets_text(OBSERVED))!r}]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", blocker], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "'calibration' extra" in line and "pip install 'trustsim[calibration]'" in line
