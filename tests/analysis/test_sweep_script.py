"""A script that runs a sweep with worker processes: the guard it needs, said at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.analysis.sweep_helpers import GRID, experiment_text, write

SCRIPT = """
import trustsim
{indent}runs = trustsim.run_sweep({exp!r}, {out!r}, workers=2)
{indent}print("runs", len(runs))
"""


def _script(tmp_path, guarded: bool) -> list[str]:
    exp = write(tmp_path, experiment_text(GRID, replicates=1))
    body = SCRIPT.format(indent="    " if guarded else "", exp=str(exp), out=str(tmp_path / "o"))
    if guarded:
        body = body.replace("import trustsim\n", 'import trustsim\nif __name__ == "__main__":\n')
    path = tmp_path / "sweep_script.py"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return [sys.executable, str(path)]


def test_without_the_main_guard_it_stops_at_once_saying_so(tmp_path):
    out = subprocess.run(_script(tmp_path, False), capture_output=True, text=True, timeout=300)
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert 'under `if __name__ == "__main__":`' in last and "sweep_script.py:3" in last
    assert "another sweep" not in out.stderr and "died" not in out.stderr
    assert not (tmp_path / "o").exists()  # nothing started


def test_with_the_guard_it_runs(tmp_path):
    out = subprocess.run(_script(tmp_path, True), capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "runs 6"


def test_progress_before_the_first_run_has_no_nan(capsys):
    from trustsim.analysis.sweep.progress import SweepProgress

    SweepProgress(10, 0, "sweep")  # not a terminal: a plain line at the start
    err = capsys.readouterr().err
    assert "nan" not in err and "ETA after the first runs" in err
