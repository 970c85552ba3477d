"""Every Python block of docs/PYTHON.md runs, as a script, from a folder outside the
checkout (so it can only import the installed package)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow
PAGES = ["docs/PYTHON.md"]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def blocks() -> list[tuple[str, int, str]]:
    out = []
    for page in PAGES:
        for k, code in enumerate(BLOCK.findall((ROOT / page).read_text(encoding="utf-8"))):
            out.append((page, k + 1, code))
    return out


def test_the_pages_have_examples():
    assert len(blocks()) >= 5


@pytest.mark.parametrize(("page", "k", "code"), blocks(), ids=lambda v: str(v)[:20])
def test_example_runs_outside_the_checkout(tmp_path, page, k, code):
    script = tmp_path / f"example_{k}.py"
    script.write_text(code, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, f"{page} block {k}:\n{out.stderr[-3000:]}"
    assert out.stdout.strip(), f"{page} block {k} printed nothing"
