"""Start-up of the CLI: heavy libraries are imported only where a command uses them, so
`trustsim run` does not pay for plotting, statistics or the classroom it does not use."""

import subprocess
import sys

HEAVY = ("matplotlib", "networkx", "statsmodels", "SALib", "solara", "distributed", "rich")


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
