"""Exit classes and messages of every command, as the README's table gives them: a bad
option or setting is exit 2 with one line before any work starts; a place that cannot be
created is 73; a refused command leaves no trace; conflicting inputs are said."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pandas as pd
import pytest

from tests.analysis.study_helpers import write_study
from tests.helpers import ROOT, disk_full_at
from trustsim.cli import main

SMALL = ["--steps", "3", "--set", "population.n_customers=40", "--no-figure"]


def trustsim(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "trustsim.cli", *args],
        cwd=ROOT,
        capture_output=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def one_line(stderr: bytes | str) -> str:
    text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else stderr
    lines = [ln for ln in text.splitlines() if not ln.startswith("warning: ")]
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


def test_a_usage_error_is_one_line(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["run", "--seed", "x"])
    assert stop.value.code == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("error: trustsim run: argument --seed: invalid int value: 'x'")
    assert line.endswith("(see `trustsim run --help`)")


@pytest.mark.parametrize("command", ["run", "sweep", "calibrate", "study", "animate"])
def test_an_empty_out_is_refused(command, capsys):
    first = {"run": [], "animate": ["baseline"]}.get(command, ["x"])
    with pytest.raises(SystemExit) as stop:
        main([command, *first, "--out", ""])
    assert stop.value.code == 2
    assert "--out: an empty path" in one_line(capsys.readouterr().err)


def test_an_environment_limit_is_checked_like_its_option(tmp_path):
    proc = trustsim(
        "run", *SMALL, "--out", str(tmp_path / "r"), env={"TRUSTSIM_MAX_MEMORY": "lots"}
    )
    assert proc.returncode == 2
    assert one_line(proc.stderr).startswith("error: TRUSTSIM_MAX_MEMORY='lots': ")
    assert not (tmp_path / "r").exists()


def test_a_refusal_by_the_users_own_limit_blames_that_limit(tmp_path, capsys):
    assert main(["run", *SMALL, "--max-memory", "1M", "--out", str(tmp_path / "r")]) == 2
    line = one_line(capsys.readouterr().err)
    assert "raise the limit (--max-memory) you set" in line
    assert "free memory on the machine" not in line


def test_a_path_that_is_not_utf8_is_refused_in_one_line(tmp_path):
    """pyarrow cannot name such a file, and the error handler could not log the path."""
    out = os.fsencode(tmp_path) + b"/r\xff"
    proc = subprocess.run(
        [sys.executable, "-m", "trustsim.cli", "run", *SMALL, "--out", out],
        cwd=ROOT,
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert "r\\xff: not valid UTF-8" in one_line(proc.stderr)
    assert not os.path.exists(out)


def test_study_out_on_a_file_is_73(tmp_path, capsys):
    study = write_study(tmp_path)
    (tmp_path / "f").write_text("mine")
    assert main(["study", str(study), "--out", str(tmp_path / "f"), "--quiet"]) == 73
    assert "is a file, not a folder" in one_line(capsys.readouterr().err)


def test_a_refused_sweep_or_study_leaves_no_trace(tmp_path, capsys):
    study = write_study(tmp_path)
    out = tmp_path / "s"
    assert main(["study", str(study), "--out", str(out), "--workers", "0", "--quiet"]) == 2
    assert "--workers 0: must be at least 1" in one_line(capsys.readouterr().err)
    assert not out.exists()


def test_quick_with_explicit_replicates_is_said(tmp_path, capsys):
    study = write_study(tmp_path)
    assert main(["study", str(study), "--quick", "--replicates", "3", "--dry-run"]) == 0
    assert "--replicates 3 wins over --quick's replicates" in capsys.readouterr().err


@pytest.mark.parametrize("port", ["70000", "-5"])
def test_app_port_out_of_range_is_2(port, capsys):
    pytest.importorskip("solara")
    assert main(["app", "--port", port]) == 2
    assert f"--port {port}: must be in 1..65535" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize("command", ["app", "class"])
def test_a_servers_busy_port_is_73(command, capsys):
    pytest.importorskip("solara" if command == "app" else "uvicorn")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main([command, "--port", str(port)]) == 73  # before the class's model is made
    line = one_line(capsys.readouterr().err)
    assert f"cannot create 127.0.0.1:{port}: another program listens there" in line
    assert "choose another --port" in line


@pytest.mark.parametrize("where", ["a folder", "under a file"])
def test_a_class_session_file_that_cannot_be_written_is_73_before_it_starts(
    where, tmp_path, monkeypatch, capsys
):
    pytest.importorskip("uvicorn")
    import trustsim.classroom.market as market

    (tmp_path / "f").write_text("mine")
    out = tmp_path if where == "a folder" else tmp_path / "f" / "class.parquet"
    monkeypatch.setattr(market, "Market", None)  # building the market would fail the test
    assert main(["class", "--port", "0", "--out", str(out)]) == 73
    line = one_line(capsys.readouterr().err)
    assert f"cannot create {out}" in line and "nothing was started" in line
    assert "is a folder, not a file" in line or "is a file, not a folder" in line


def test_app_sessions_setting_is_checked_like_its_option(monkeypatch, capsys):
    pytest.importorskip("solara")
    monkeypatch.setenv("TRUSTSIM_MAX_SESSIONS", "many")
    assert main(["app", "--port", "0"]) == 2
    assert "TRUSTSIM_MAX_SESSIONS='many'" in one_line(capsys.readouterr().err)


def test_a_study_folder_of_other_studies_names_the_edited_file(tmp_path, capsys):
    study = write_study(tmp_path, replicates=2)
    out = tmp_path / "s"
    assert main(["study", str(study), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    capsys.readouterr()
    study.write_text(study.read_text().replace('claim = "a test study"', 'claim = "edited"'))
    assert main(["study", str(study), "--out", str(out), "--workers", "1", "--quiet"]) == 2
    line = one_line(capsys.readouterr().err)
    assert f"{study} was edited since" in line and "studies.json" not in line


def test_a_full_disk_after_the_studys_runs_says_they_are_kept(tmp_path, monkeypatch, capsys):
    import json

    import trustsim.analysis.studies.run as study_run

    study = write_study(tmp_path, replicates=2)
    out = tmp_path / "s"
    args = ["study", str(study), "--out", str(out), "--workers", "1", "--quiet"]
    with monkeypatch.context() as patch:
        disk_full_at(patch, study_run, "summary.csv")
        assert main(args) == 74
    line = one_line(capsys.readouterr().err)
    assert "nothing else was changed" not in line and f"cannot write {out / 'summary.csv'}" in line
    runs = len(pd.read_parquet(out / "sweep" / "runs.parquet"))
    assert (
        f"all {runs} runs are kept in {out / 'sweep'}; "
        "free space and run the same command again (it reuses the runs)"
    ) in line
    assert not list(out.glob(".summary.csv.*"))  # no half file
    assert main(args) == 0
    assert json.loads((out / "provenance.json").read_text())["new_runs"] == 0


def test_the_readme_exit_table_covers_every_command():
    """Every command is named in the row that lists them all, and 130 holds for all of
    them (the servers included)."""
    from trustsim.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    rows = {
        cells[1].strip(): cells[3].strip()
        for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| ") and len(cells := line.split("|")) > 4
    }
    listed = rows["2"].removeprefix("all (").removesuffix(")").split(", ")
    assert sorted(listed) == sorted(sub.choices)
    assert rows["130"] == "all"
