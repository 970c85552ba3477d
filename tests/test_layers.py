"""The package's layout: imports point one way (the import-linter contracts in
pyproject.toml), every package is installed, old import paths still work for one release,
and the numba cache key covers every source file, subpackages included."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import pytest

from tests.helpers import ROOT

LINT = Path(sys.executable).parent / "lint-imports"


def installed_tree(tmp: Path) -> Path:
    """The source laid out as the wheel installs it (trustsim/, trustsim/analysis/, ...),
    which is what import-linter reads: the editable install maps analysis/ by a finder
    that it cannot follow."""
    pkg = tmp / "trustsim"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "sim", pkg, ignore=ignore)
    shutil.copytree(ROOT / "analysis", pkg / "analysis", ignore=ignore)
    shutil.copytree(ROOT / "scenarios", pkg / "scenarios", ignore=ignore)
    return pkg


def lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        cwd=tree.parent,
        env={"PYTHONPATH": str(tree.parent), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_imports_keep_the_layer_contracts(tmp_path):
    proc = lint(installed_tree(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("core/step.py", "import trustsim.mesa_model.model", "Layers"),
        ("core/model.py", "import trustsim.analysis.sweep.driver", "Layers"),
        ("rules.py", "import trustsim.runtime.run", "Layers"),
        ("analysis/sweep/batch.py", "import trustsim.analysis.studies.run", "Analysis"),
        ("mesa_model/agents.py", "import trustsim.mesa_model.model", "circles"),
    ],
)
def test_a_wrong_import_breaks_a_contract(tmp_path, module, line, broken):
    pkg = installed_tree(tmp_path)
    path = pkg / module
    path.write_text(path.read_text() + f"\n{line}\n")
    proc = lint(pkg)
    assert proc.returncode != 0
    assert f"{broken}" in proc.stdout.split("Broken contracts")[1]


def test_every_package_folder_is_installed():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = set()
    for top, name in (("sim", "trustsim"), ("analysis", "trustsim.analysis")):
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top).parts
            found.add(".".join((name, *rel)))
    found.add("trustsim.scenarios")
    assert found == listed


MOVED = [
    ("trustsim.kernel", "CoreModel", "trustsim.core.model"),
    ("trustsim.kernel", "step_serial", "trustsim.core.step"),
    ("trustsim.model", "TrustModel", "trustsim.mesa_model.model"),
    ("trustsim.run", "simulate", "trustsim.runtime.run"),
    ("trustsim.run", "atomic_write", "trustsim.runtime.files"),
    ("trustsim.analysis.sweep", "run_sweep", "trustsim.analysis.sweep.driver"),
    ("trustsim.analysis.study", "load_studies", "trustsim.analysis.studies.spec"),
    ("trustsim.analysis.calibration", "calibrate", "trustsim.analysis.calibration.abc"),
]


@pytest.mark.parametrize(("old", "name", "new"), MOVED)
def test_an_old_import_path_works_and_says_where_the_name_moved(old, name, new):
    module = importlib.import_module(old)
    with pytest.warns(DeprecationWarning, match=rf"{old}\.{name} moved to {new}\.{name}"):
        found = getattr(module, name)
    assert found is getattr(importlib.import_module(new), name)


def test_the_new_subpackages_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        from trustsim.analysis.calibration import abc  # noqa: F401
        from trustsim.analysis.sweep import driver  # noqa: F401


def test_a_name_that_never_existed_is_still_an_attribute_error():
    import trustsim.kernel

    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        trustsim.kernel.nothing_here  # noqa: B018


def test_the_numba_cache_key_covers_files_in_subpackages(tmp_path):
    from trustsim import numba_cache_dir

    pkg = installed_tree(tmp_path)
    before = numba_cache_dir(pkg)
    assert numba_cache_dir(pkg) == before  # a key, not a random name
    step = pkg / "core" / "step.py"
    step.write_text(step.read_text() + "\n# a change in the core\n")
    assert numba_cache_dir(pkg) != before
