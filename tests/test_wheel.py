"""A wheel of trustsim works outside the checkout, from a folder whose own ``sim.py`` and
``analysis.py`` would shadow generic top-level names.

The wheel is built from this tree and installed without dependencies into a fresh venv;
the dependencies come from the test environment's site-packages through a ``.pth`` line
(plain paths: the editable install's finder there is not activated), so the test needs no
network and sees only what the wheel itself ships.
"""

from __future__ import annotations

import site
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            dist,
            ROOT,
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (path,) = dist.glob("trustsim-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed; returns its bin folder."""
    env = tmp_path_factory.mktemp("venv")
    venv.create(env, with_pip=True)
    py = env / "bin" / "python"
    purelib = subprocess.check_output(
        [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
    ).strip()
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()] + [
        sysconfig.get_paths()["purelib"]
    ]
    (Path(purelib) / "_test_dependencies.pth").write_text("\n".join(dict.fromkeys(deps)) + "\n")
    proc = subprocess.run(
        [py, "-m", "pip", "install", "--no-deps", "--no-index", wheel],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return env / "bin"


def test_the_wheel_ships_one_package_with_its_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.startswith("trustsim-")}
    assert tops == {"trustsim"}
    for needed in (
        "trustsim/py.typed",
        "trustsim/classroom/locale.toml",
        "trustsim/scenarios/baseline.toml",
        "trustsim/scenarios/experiments/ring_grid.toml",
        "trustsim/scenarios/lessons/01_repeated_trades.toml",
        "trustsim/analysis/sweep/driver.py",
        "trustsim/core/step.py",
        "trustsim/mesa_model/model.py",
        "trustsim/runtime/run.py",
    ):
        assert needed in names


@pytest.fixture()
def shadowing_folder(tmp_path) -> Path:
    (tmp_path / "sim.py").write_text("raise SystemExit('the user sim.py was imported')\n")
    (tmp_path / "analysis.py").write_text("raise SystemExit('the user analysis.py was imported')\n")
    return tmp_path


@pytest.mark.parametrize(
    "command",
    [
        ["trustsim", "run", "--steps", "3", "--out", "out3"],
        ["trustsim", "sweep", "ring_grid", "--dry-run"],
        ["trustsim", "lessons"],
        [
            "python",
            "-c",
            "import trustsim, trustsim.analysis.sweep.driver, trustsim.classroom.lessons",
        ],
    ],
    ids=["run", "sweep-dry-run", "lessons", "import"],
)
def test_installed_wheel_runs_from_any_folder(installed, shadowing_folder, command):
    proc = subprocess.run(
        [str(installed / command[0]), *command[1:]],
        cwd=shadowing_folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    if command[1] == "run":
        assert (shadowing_folder / "out3" / "timeseries.parquet").is_file()
    if command[1] == "lessons":
        assert "repeated_trades" in proc.stdout
    # the package in use is the installed one, not the checkout
    where = subprocess.check_output(
        [str(installed / "python"), "-c", "import trustsim; print(trustsim.__file__)"],
        cwd=shadowing_folder,
        text=True,
    )
    assert str(installed.parent) in where and str(ROOT) not in where
