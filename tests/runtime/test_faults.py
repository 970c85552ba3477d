"""Fault injection: an output that cannot be created, a full disk (injected, and a real
small tmpfs), damaged sweep files, and a bug. Each ends with its documented exit status and
one line on stderr without a traceback, and nothing finished is lost; a damaged sweep
folder heals on resume to the table of an uninterrupted run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.analysis.sweep_helpers import (  # noqa: F401  (shared fixtures)
    GRID,
    assert_same_runs,
    cli,
    exp_path,
    experiment_text,
    reference,
    write,
)
from trustsim import cli as cli_module
from trustsim.analysis.sweep.chunks import check_chunk
from trustsim.analysis.sweep.driver import execute, load_runs, load_timeseries
from trustsim.analysis.sweep.load import load_experiment
from trustsim.cli import main
from trustsim.errors import (
    EXIT_BAD_INPUT,
    EXIT_CANNOT_CREATE,
    EXIT_INTERNAL,
    EXIT_IO,
    DamagedFile,
)
from trustsim.runtime.files import FAIL_WRITE

TEXT = experiment_text(GRID, extra="timeseries_every = 5\n")  # 12 runs, time series kept
BATCH = ["--workers", "1", "--batch", "3", "--quiet"]  # four batches of three runs
QUICK_RUN = ["--steps", "3", "--set", "population.n_customers=40", "--no-figure"]


def one_line(stderr: str) -> str:
    """The single line a failure printed (a warning line may precede it)."""
    lines = [ln for ln in stderr.splitlines() if not ln.startswith("warning: ")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr, stderr
    return lines[0]


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return cli(*args, env={**os.environ, **(env or {})})


# ----------------------------------------------------------------------------- --out


def test_run_out_on_an_existing_file(tmp_path):
    target = tmp_path / "results"
    target.write_text("my notes")
    proc = run_cli("run", *QUICK_RUN, "--out", str(target))
    assert proc.returncode == EXIT_CANNOT_CREATE
    line = one_line(proc.stderr)
    assert line.startswith(f"error: creating the run's output folder: cannot create {target}: ")
    assert "is a file, not a folder; nothing was computed or written; choose another --out" in line
    assert target.read_text() == "my notes"


def test_run_out_under_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    proc = run_cli("run", *QUICK_RUN, "--out", str(tmp_path / "f" / "sub"))
    assert proc.returncode == EXIT_CANNOT_CREATE
    assert f"{tmp_path / 'f'} is a file, not a folder" in one_line(proc.stderr)


@pytest.mark.parametrize(
    ("place", "cause"),
    [
        ("/proc/1/trustsim-out", "this place does not allow new files or folders"),
        ("/sys/trustsim-out", "the operating system does not allow it here"),
    ],
)
def test_run_out_in_an_uncreatable_place(place, cause):
    proc = run_cli("run", *QUICK_RUN, "--out", place)
    assert proc.returncode == EXIT_CANNOT_CREATE
    assert f"cannot create {place}: {cause}" in one_line(proc.stderr)


def test_sweep_out_on_a_file_and_under_a_file(exp_path, tmp_path):
    (tmp_path / "f").write_text("x")
    for out, cause in (
        (tmp_path / "f", "is a file, not a folder"),
        (tmp_path / "f" / "sub", f"{tmp_path / 'f'} is a file, not a folder"),
    ):
        proc = run_cli("sweep", str(exp_path), "--out", str(out), *BATCH)
        assert proc.returncode == EXIT_CANNOT_CREATE, proc.stderr
        assert cause in one_line(proc.stderr)
    assert (tmp_path / "f").read_text() == "x"


@pytest.mark.parametrize(
    ("where", "cause"),
    [("under a file", "is a file, not a folder"), ("/proc", "does not allow new files")],
)
def test_a_command_without_its_own_handling_gets_one_line(where, cause, tmp_path):
    """``animate`` writes through atomic_write: one line naming the file, the cause and that
    nothing else changed."""
    (tmp_path / "f").write_text("x")
    out = tmp_path / "f" / "a.gif" if where == "under a file" else Path("/proc/1/a.gif")
    proc = run_cli("animate", "baseline", "--steps", "2", "--out", str(out))
    assert proc.returncode == EXIT_CANNOT_CREATE
    line = one_line(proc.stderr)
    assert line.startswith(f"error: writing a.gif: cannot create {out}") and cause in line
    assert "nothing else was changed" in line


# ----------------------------------------------------------------------------- disk full


def test_run_disk_full_keeps_the_earlier_results(tmp_path):
    """Injected ENOSPC on the second file: the earlier run's files stay as they were (all
    or nothing), not a new time series beside an old run.json."""
    out = tmp_path / "run"
    assert run_cli("run", *QUICK_RUN, "--seed", "1", "--out", str(out)).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    proc = run_cli(
        "run", *QUICK_RUN, "--seed", "2", "--out", str(out), env={FAIL_WRITE: "ENOSPC:2"}
    )
    assert proc.returncode == EXIT_IO
    line = one_line(proc.stderr)
    assert line.startswith(f"error: saving the run: cannot write {out / 'run.json'}: no space left")
    assert "free space (or choose another --out) and run the same command again" in line
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no staging left behind


def test_sweep_disk_full_injected_then_resume(exp_path, reference, tmp_path):
    """ENOSPC on the 5th write (manifest, then ts+runs per batch: the 2nd batch's runs
    chunk): exit 74, the first batch kept, and the resumed table equals an uninterrupted run."""
    out = tmp_path / "sweep"
    proc = run_cli("sweep", str(exp_path), "--out", str(out), *BATCH, env={FAIL_WRITE: "ENOSPC:5"})
    assert proc.returncode == EXIT_IO, proc.stderr
    line = one_line(proc.stderr)
    assert line == (
        f"error: saving a finished batch (runs 3-5): cannot write "
        f"{out / 'chunks' / 'runs-000000003-000000005.parquet'}: no space left on the device; "
        f"3 of 12 runs are finished and kept in {out}; free space and run the same command "
        f"again to compute the rest"
    )
    assert len(load_runs(out)) == 3
    resumed = run_cli("sweep", str(exp_path), "--out", str(out), *BATCH)
    assert resumed.returncode == 0, resumed.stderr
    assert "12 runs (9 new, 3 kept)" in resumed.stdout
    assert_same_runs(load_runs(out), reference[0])
    pd.testing.assert_frame_equal(load_timeseries(out), reference[1], check_exact=True)


@pytest.fixture
def small_disk(tmp_path):
    """A real 40 KiB tmpfs (room for the manifest and about two batches of chunks)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=40k", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False)


@pytest.mark.slow
def test_sweep_on_a_disk_that_fills_up_then_resume(exp_path, reference, small_disk):
    out = small_disk / "sweep"
    proc = run_cli("sweep", str(exp_path), "--out", str(out), *BATCH)
    assert proc.returncode == EXIT_IO, proc.stderr
    line = one_line(proc.stderr)
    assert ": no space left on the device; " in line
    assert "free space and run the same command again to compute the rest" in line
    kept = len(load_runs(out))
    assert 0 < kept < 12 and f"{kept} of 12 runs are finished and kept in {out}" in line
    sha = load_experiment(exp_path).sha256  # what was kept is whole and healthy
    assert all(check_chunk(p, sha).problem is None for p in (out / "chunks").glob("runs-*"))
    subprocess.run(["mount", "-o", "remount,size=4m", str(small_disk)], check=True)  # free space
    resumed = run_cli("sweep", str(exp_path), "--out", str(out), *BATCH)
    assert resumed.returncode == 0, resumed.stderr
    assert f"12 runs ({12 - kept} new, {kept} kept)" in resumed.stdout
    assert_same_runs(load_runs(out), reference[0])
    pd.testing.assert_frame_equal(load_timeseries(out), reference[1], check_exact=True)


# ----------------------------------------------------------------------------- damage


@pytest.fixture(scope="module")
def finished(exp_path, tmp_path_factory) -> Path:
    """A finished sweep in four chunks, copied by each test before it damages it."""
    out = tmp_path_factory.mktemp("finished") / "sweep"
    execute(exp_path, out, workers=1, batch=3)
    return out


@pytest.fixture(scope="module")
def foreign(tmp_path_factory) -> Path:
    """A finished sweep of another experiment (another master seed), same chunk names."""
    directory = tmp_path_factory.mktemp("foreign")
    other = write(directory, experiment_text(GRID, master_seed=9, extra="timeseries_every = 5\n"))
    execute(other, directory / "sweep", workers=1, batch=3)
    return directory / "sweep"


CHUNK = "chunks/runs-000000003-000000005.parquet"
TS_CHUNK = "chunks/ts-000000006-000000008.parquet"


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:300])


def _garbage(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 8)


FAULTS = {
    # name: (damage(folder, foreign folder), file named in the warning, moved aside, new runs)
    "truncated chunk": (lambda d, f: _truncate(d / CHUNK), CHUNK, CHUNK, 3),
    "garbage chunk": (lambda d, f: _garbage(d / CHUNK), CHUNK, CHUNK, 3),
    "chunk of another experiment": (
        lambda d, f: shutil.copy(f / CHUNK, d / CHUNK),
        CHUNK,
        CHUNK,
        3,
    ),
    "damaged time-series chunk": (
        lambda d, f: _garbage(d / TS_CHUNK),
        "chunks/runs-000000006-000000008.parquet",
        TS_CHUNK,
        3,
    ),
    "deleted runs.parquet": (lambda d, f: (d / "runs.parquet").unlink(), None, None, 0),
    "damaged runs.parquet": (
        lambda d, f: _truncate(d / "runs.parquet"),
        "runs.parquet",
        "runs.parquet",
        0,
    ),
    "damaged timeseries.parquet": (
        lambda d, f: _garbage(d / "timeseries.parquet"),
        "timeseries.parquet",
        "timeseries.parquet",
        0,
    ),
    "damaged manifest": (
        lambda d, f: (d / "manifest.json").write_text('{"experiment'),
        "manifest.json",
        "manifest.json",
        0,
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_damaged_sweep_heals_on_resume(
    fault, exp_path, reference, finished, foreign, tmp_path, capsys
):
    damage, named, aside, new = FAULTS[fault]
    out = tmp_path / "sweep"
    shutil.copytree(finished, out)
    damage(out, foreign)
    capsys.readouterr()
    report = execute(exp_path, out, workers=1, batch=3)
    err = capsys.readouterr().err
    assert report.new_runs == new
    if named:
        assert f"warning: {out / named}: " in err, err
        assert (out / "damaged" / aside).exists()
    else:
        assert err == ""
    assert_same_runs(report.runs, reference[0])
    assert_same_runs(load_runs(out), reference[0])
    pd.testing.assert_frame_equal(load_timeseries(out), reference[1], check_exact=True)
    again = execute(exp_path, out, workers=1, batch=3)  # healed: nothing more to do
    assert again.new_runs == 0 and capsys.readouterr().err == ""


def test_warning_words_for_a_foreign_and_a_truncated_chunk(
    exp_path, finished, foreign, tmp_path, capsys
):
    out = tmp_path / "sweep"
    shutil.copytree(finished, out)
    shutil.copy(foreign / CHUNK, out / CHUNK)
    _truncate(out / "chunks/runs-000000009-000000011.parquet")
    execute(exp_path, out, workers=1, batch=3)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f"warning: {out / CHUNK}: belongs to another experiment (sha256 ")
    assert lines[0].endswith(
        f"moved to {out / 'damaged' / 'chunks'}/ (with ts-000000003-000000005.parquet), "
        f"runs 3-5 will be computed again"
    )
    assert lines[1] == (
        f"warning: {out / 'chunks/runs-000000009-000000011.parquet'}: not a complete Parquet "
        f"file (cut short or overwritten); moved to {out / 'damaged' / 'chunks'}/ (with "
        f"ts-000000009-000000011.parquet), runs 9-11 will be computed again"
    )


def test_plot_names_a_damaged_runs_table_and_how_to_rebuild_it(exp_path, finished, tmp_path):
    out = tmp_path / "sweep"
    shutil.copytree(finished, out)
    _truncate(out / "runs.parquet")
    proc = run_cli("plot", str(out))
    assert proc.returncode == EXIT_BAD_INPUT
    assert one_line(proc.stderr) == (
        f"error: {out / 'runs.parquet'}: not a complete Parquet file (cut short or "
        f"overwritten); run `trustsim sweep {exp_path} --out {out}` again: it rebuilds the "
        f"file from the finished chunks (and recomputes the runs of damaged ones)"
    )
    assert run_cli("sweep", str(exp_path), "--out", str(out), *BATCH).returncode == 0
    assert run_cli("plot", str(out)).returncode == 0


def test_plot_of_an_unfinished_sweep_names_a_damaged_chunk(exp_path, finished, tmp_path):
    out = tmp_path / "sweep"
    shutil.copytree(finished, out)
    (out / "runs.parquet").unlink()
    _garbage(out / CHUNK)
    proc = run_cli("plot", str(out))
    assert proc.returncode == EXIT_BAD_INPUT
    line = one_line(proc.stderr)
    assert line.startswith(f"error: {out / CHUNK}: not a complete Parquet file (cut short or ")
    assert line.endswith(
        f"run `trustsim sweep {exp_path} --out {out}` again: it moves the chunk to "
        f"{out}/damaged/ and computes its runs again"
    )


def test_plot_refuses_a_runs_table_of_another_experiment(exp_path, finished, foreign, tmp_path):
    out = tmp_path / "sweep"
    shutil.copytree(finished, out)
    shutil.copy(foreign / "runs.parquet", out / "runs.parquet")
    proc = run_cli("plot", str(out))
    assert proc.returncode == EXIT_BAD_INPUT
    line = one_line(proc.stderr)
    assert line.startswith(f"error: {out / 'runs.parquet'}: belongs to another experiment")
    assert line.endswith("(and recomputes the runs of damaged ones)")


def test_plot_after_runs_parquet_was_deleted_reads_the_chunks(finished, tmp_path):
    out = tmp_path / "sweep"
    shutil.copytree(finished, out)
    (out / "runs.parquet").unlink()
    proc = run_cli("plot", str(out), "--metric", "trades")
    assert proc.returncode == 0, proc.stderr
    assert (out / "figures" / "trades.png").stat().st_size > 0


def test_plot_names_a_damaged_manifest(finished, tmp_path):
    out = tmp_path / "sweep"
    shutil.copytree(finished, out)
    (out / "manifest.json").write_text("{")
    proc = run_cli("plot", str(out))
    assert proc.returncode == EXIT_BAD_INPUT
    assert one_line(proc.stderr).startswith(
        f"error: {out / 'manifest.json'}: damaged (not valid JSON); run `trustsim sweep "
        f"EXPERIMENT --out {out}` again with the experiment that made it"
    )


def test_a_tiny_file_is_called_incomplete(tmp_path):
    (tmp_path / "x.parquet").write_bytes(b"x\n")
    assert check_chunk(tmp_path / "x.parquet", "").problem == (
        "not a complete Parquet file (cut short or overwritten)"
    )


def test_reading_a_damaged_timeseries_names_it(finished, tmp_path):
    out = tmp_path / "sweep"
    shutil.copytree(finished, out)
    _garbage(out / "timeseries.parquet")
    with pytest.raises(
        DamagedFile, match=r"timeseries.parquet: not a complete Parquet file .*rebuilds"
    ):
        load_timeseries(out)


MORRIS = experiment_text(
    '[design]\nmethod = "morris"\nsamples = 4\nlevels = 4\n[design.parameters]\n'
    '"culture.ring_gradient" = [0.1, 0.9]\n"salespeople.instrumental_share" = [0.0, 1.0]\n',
    replicates=1,
)


@pytest.mark.slow
def test_sensitivity_heals_the_sweep_it_resumes(tmp_path):
    exp = write(tmp_path, MORRIS, "morris.toml")
    out = tmp_path / "sens"
    assert run_cli("sensitivity", str(exp), "--out", str(out), *BATCH).returncode == 0
    healthy = pd.read_csv(out / "sensitivity.csv")
    chunk = sorted((out / "chunks").glob("runs-*.parquet"))[1]
    _truncate(chunk)
    _truncate(out / "runs.parquet")
    proc = run_cli("sensitivity", str(exp), "--out", str(out), *BATCH)
    assert proc.returncode == 0, proc.stderr
    assert f"warning: {chunk}: not a complete Parquet file" in proc.stderr
    assert f"warning: {out / 'runs.parquet'}: not a complete Parquet file" in proc.stderr
    assert "it is rebuilt from the chunks" in proc.stderr
    pd.testing.assert_frame_equal(pd.read_csv(out / "sensitivity.csv"), healthy)


# ----------------------------------------------------------------------------- bugs


def _boom(*args, **kwargs):
    return {}["no such key"]  # a bug: KeyError


def test_an_unexpected_exception_is_one_line_and_a_distinct_status(monkeypatch, capsys):
    monkeypatch.delenv("TRUSTSIM_DEBUG", raising=False)
    monkeypatch.setattr(cli_module, "load_scenario", _boom)
    assert main(["validate", "baseline"]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    line = one_line(err)
    assert line.startswith("internal error: KeyError: 'no such key' (traceback in ")
    assert line.endswith("; run again with --debug for the traceback, and please report it")
    log = Path(line.split("(traceback in ", 1)[1].split(")", 1)[0])
    assert "KeyError" in log.read_text() and "_boom" in log.read_text()
    log.unlink()


@pytest.mark.parametrize(
    "argv", [["--debug", "validate", "baseline"], ["validate", "baseline", "--debug"]]
)
def test_debug_shows_the_traceback(argv, monkeypatch, capsys):
    monkeypatch.delenv("TRUSTSIM_DEBUG", raising=False)
    monkeypatch.setattr(cli_module, "load_scenario", _boom)
    assert main(argv) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert "in _boom" in err
    assert err.splitlines()[-1] == (
        "internal error: KeyError: 'no such key' (traceback above); please report it"
    )


def test_debug_environment_variable_shows_the_traceback(monkeypatch, capsys):
    monkeypatch.setenv("TRUSTSIM_DEBUG", "1")
    monkeypatch.setattr(cli_module, "load_scenario", _boom)
    assert main(["validate", "baseline"]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "Traceback" in err and "(traceback above)" in err


def test_an_untranslated_os_error_is_one_line(monkeypatch, capsys):
    """An OSError a command did not translate still gives one line with words, not 70."""

    def unreadable(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/somewhere/scenario.toml")

    monkeypatch.setattr(cli_module, "load_scenario", unreadable)
    assert main(["validate", "baseline"]) == EXIT_CANNOT_CREATE
    assert one_line(capsys.readouterr().err) == (
        "error: trustsim validate: /somewhere/scenario.toml: permission denied"
    )


def test_the_traceback_of_a_bug_in_a_subprocess_is_hidden(tmp_path):
    """End to end, in a fresh interpreter: a bug inside a command (a scenario whose loading
    crashes is simulated by breaking the loader's reader)."""
    script = tmp_path / "crash.py"
    script.write_text(
        "import sys\nfrom trustsim import cli\n"
        "cli.load_scenario = lambda *a, **k: 1 / 0\n"
        "sys.exit(cli.main(sys.argv[1:]))\n"
    )
    proc = subprocess.run(
        [sys.executable, str(script), "validate", "baseline"], capture_output=True, text=True
    )
    assert proc.returncode == EXIT_INTERNAL
    line = one_line(proc.stderr)
    assert line.startswith("internal error: ZeroDivisionError: division by zero (traceback in ")
    log = Path(line.split("(traceback in ", 1)[1].split(")", 1)[0])
    assert "ZeroDivisionError" in log.read_text()
    log.unlink()
