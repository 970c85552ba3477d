"""Start-up of the CLI: heavy libraries are imported only where a command uses them, so
`trustsim run` does not pay for plotting, statistics or the classroom it does not use, nor
for pandas (its results are written with pyarrow) or scipy.linalg (which numba imports to
look for BLAS unless :func:`trustsim.preload_blas_probe` ran first)."""

import subprocess
import sys

HEAVY = (
    "matplotlib",
    "networkx",
    "statsmodels",
    "SALib",
    "solara",
    "distributed",
    "rich",
    "pandas",
    "scipy.linalg",
)


def _loaded_after(code: str) -> set[str]:
    probe = (
        f"{code}\nimport sys; print('loaded:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("loaded:"), out.stdout
    return set(filter(None, last.removeprefix("loaded:").split(",")))


def test_building_the_command_line_imports_no_heavy_library():
    assert _loaded_after("from trustsim.cli import build_parser; build_parser()") == set()


def test_a_run_without_figure_never_loads_plotting_or_graphs(tmp_path):
    loaded = _loaded_after(
        "from trustsim.cli import main\n"
        f"main(['run', '--steps', '3', '--no-figure', '--out', {str(tmp_path / 'o')!r}])"
    )
    assert not loaded & {"matplotlib", "networkx", "statsmodels", "SALib", "solara"}
    assert not loaded & {"pandas", "scipy.linalg"}


def test_a_run_with_its_figure_loads_neither_pandas_nor_scipy_linalg(tmp_path):
    out = tmp_path / "o"
    loaded = _loaded_after(
        f"from trustsim.cli import main\nmain(['run', '--steps', '3', '--out', {str(out)!r}])"
    )
    assert (out / "trust.png").stat().st_size > 10_000
    assert not loaded & {"pandas", "scipy.linalg"}


def test_the_light_blas_probe_leaves_numba_and_scipy_linalg_whole():
    code = (
        "import sys, numpy as np, numba, trustsim\n"
        "trustsim.preload_blas_probe()\n"
        "from numba.core.registry import cpu_target\n"
        "cpu_target.target_context.refresh()\n"
        "assert 'scipy.linalg' not in sys.modules\n"
        "dot = numba.njit(lambda a, b: np.dot(a, b))\n"
        "assert dot(np.eye(2), np.array([1.0, 2.0])).tolist() == [1.0, 2.0]\n"
        "from scipy.linalg import cython_blas, solve\n"
        "assert cython_blas is sys.modules['scipy.linalg.cython_blas']\n"
        "assert solve(2 * np.eye(2), np.array([2.0, 4.0])).tolist() == [1.0, 2.0]\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
