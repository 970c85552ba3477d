"""The memory guard and the design-size guard: work that cannot fit is refused up front,
with exit 2 and one line naming the estimate, the limit and what to lower, and nothing
is built or allocated first."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.analysis.sweep_helpers import GRID, experiment_text, write
from trustsim.analysis.sweep import design
from trustsim.analysis.sweep.driver import execute
from trustsim.analysis.sweep.load import load_experiment
from trustsim.cli import main
from trustsim.core import layout as rellayout
from trustsim.errors import EXIT_BAD_INPUT, ScenarioError
from trustsim.loader import load_scenario
from trustsim.runtime import memory
from trustsim.runtime.memory import Sizes, TooLarge, check_run, check_runs, estimate, parse_size

MAXIMA = [
    "population.n_customers=5000000",
    "population.n_salespeople=1000000",
    "population.max_relationships=1000000",
]
TARGET = [
    "population.n_customers=1000000",
    "population.n_salespeople=40000",
    "population.n_firms=3",
    "run.steps=1000",
]


@pytest.fixture
def no_building(monkeypatch):
    """Fail the test if a world or a model is built: a refusal must come first."""

    def refuse(*args, **kwargs):
        raise AssertionError("the guard let the run start")

    monkeypatch.setattr("trustsim.population.build_world", refuse)
    monkeypatch.setattr("trustsim.runtime.run.make_model", refuse)
    monkeypatch.setattr("trustsim.analysis.sweep.batch.make_model", refuse)


def test_parse_size():
    assert parse_size("8G") == 8 * 2**30
    assert parse_size("512m") == 512 * 2**20
    assert parse_size("1.5GiB") == int(1.5 * 2**30)
    assert parse_size("2000") == 2000
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")


def test_estimate_counts_the_relationships_that_can_exist_and_grows_with_every_size():
    base = Sizes(1000, 40, 3, 200)
    parts = estimate(base).parts
    assert parts["relationships"] == rellayout.bound_bytes(1000, 40, 200, 32)
    # remembered salespeople, not customers x salespeople: 1,000 times the salespeople
    # (beyond the cap of 32) cost nothing more
    assert estimate(Sizes(1000, 40_000, 3, 200)).parts["relationships"] == parts["relationships"]
    # a short run cannot meet many: at most 1 + 3 per step
    assert estimate(Sizes(1000, 40, 3, 2)).parts["relationships"] < parts["relationships"]
    for bigger in (
        Sizes(2000, 40, 3, 200),
        Sizes(1000, 40, 3, 200, max_relationships=64),
        Sizes(1000, 40, 30, 200),
        Sizes(1000, 40, 3, 20_000),
        Sizes(1000, 40, 3, 200, history=True),
    ):
        assert estimate(bigger).total > estimate(base).total


def test_oversized_run_is_refused_with_one_line(no_building):
    sc = load_scenario("baseline", TARGET)
    with pytest.raises(TooLarge) as err:
        check_run(sc, max_memory="2G", what="target")
    line = str(err.value)
    assert "\n" not in line and err.value.exit_status == EXIT_BAD_INPUT
    assert line.startswith("target needs an estimated 7.4 GiB of memory")
    assert "above the 2.0 GiB limit (--max-memory)" in line
    assert "population.n_customers or population.max_relationships" in line


def test_schema_maxima_are_refused_on_this_machine(no_building):
    # 5e6 customers remembering up to 601 salespeople each: hundreds of GiB
    with pytest.raises(TooLarge, match=r"population\.n_customers"):
        check_run(load_scenario("baseline", MAXIMA))


def test_history_and_steps_are_named_when_they_dominate():
    sc = load_scenario("baseline", ["run.history=true", "run.steps=1000000"])
    with pytest.raises(TooLarge, match=r"turn run\.history off"):
        check_run(sc, max_memory="64G")


def test_small_run_passes_and_limit_never_exceeds_the_machine(monkeypatch):
    check_run(load_scenario("baseline"), max_memory="4G")
    available, _ = memory.machine_available()
    limit, source = memory.memory_limit(available * 4)
    assert limit == available and "--max-memory" not in source
    monkeypatch.setenv(memory.ENV_LIMIT, "1M")
    with pytest.raises(TooLarge, match=f"limit \\({memory.ENV_LIMIT}\\)"):
        check_run(load_scenario("baseline"))


def test_workers_multiply_the_estimate():
    sizes = Sizes(20_000, 200, 3, 100)
    per_run = estimate(sizes).total
    assert check_runs(sizes, 3, 3 * per_run + 1).total == per_run
    with pytest.raises(TooLarge, match=r"per run x 4 workers.*fewer --workers"):
        check_runs(sizes, 4, 3 * per_run + 1, what="this study")


def test_largest_takes_each_size_at_its_maximum():
    a, b = Sizes(10, 500, 2, 50), Sizes(900, 5, 3, 10, history=True)
    big = memory.largest([a, b])
    assert (big.n_customers, big.n_salespeople, big.n_firms, big.steps, big.history) == (
        900,
        500,
        3,
        50,
        True,
    )


def test_cli_run_refuses_with_exit_2_and_no_traceback(no_building, capsys):
    sets = [arg for s in MAXIMA for arg in ("--set", s)]
    status = main(["run", "--no-figure", *sets])
    err = capsys.readouterr().err
    assert status == EXIT_BAD_INPUT
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "needs an estimated" in err and "lower population.n_customers" in err


def test_cli_max_memory_refuses_a_normal_run(no_building, capsys):
    assert main(["run", "--no-figure", "--max-memory", "10M"]) == EXIT_BAD_INPUT
    assert "above the 10.0 MiB limit (--max-memory)" in capsys.readouterr().err


def test_cli_bad_size_is_a_usage_error():
    proc = subprocess.run(
        [sys.executable, "-m", "trustsim.cli", "run", "--max-memory", "lots"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "not a size" in proc.stderr and "Traceback" not in proc.stderr


def test_oversized_sweep_is_refused_before_its_folder_exists(tmp_path, no_building):
    text = experiment_text(GRID, base_set=["population.n_customers=20000", "run.steps=10"])
    exp = write(tmp_path, text)
    out = tmp_path / "sweep"
    with pytest.raises(TooLarge, match=r"this sweep needs .* per run x 2 workers"):
        execute(exp, out, workers=2, max_memory="100M")
    assert not out.exists()


def test_sweep_sizes_take_the_varied_maximum(tmp_path):
    grid = (
        '[design]\nmethod = "grid"\n[design.parameters]\n'
        '"population.n_customers" = [60, 3000]\n"population.n_salespeople" = [4, 50]\n'
    )
    exp = load_experiment(write(tmp_path, experiment_text(grid)))
    big = design.largest_run(exp, design.plan(exp))
    assert (big.n_customers, big.n_salespeople) == (3000, 50)


# ----------------------------------------------------------------------------- design size

SAMPLED = {
    "lhs": '[design]\nmethod = "lhs"\nsamples = {n}\n',
    "sobol": '[design]\nmethod = "sobol"\nsamples = {n}\n',
    "sobol2": '[design]\nmethod = "sobol"\nsamples = {n}\nsecond_order = true\n',
    "morris": '[design]\nmethod = "morris"\nsamples = {n}\nlevels = 4\n',
}
PARAMS = '[design.parameters]\n"firms.quality" = [0.2, 0.9]\n"gifts.size" = [0.0, 0.2]\n'


@pytest.mark.parametrize("method", list(SAMPLED))
def test_run_count_matches_the_built_plan(tmp_path, method):
    exp = load_experiment(
        write(tmp_path, experiment_text(SAMPLED[method].format(n=8) + PARAMS, replicates=3))
    )
    assert design.run_count(exp) == len(design.plan(exp))


def test_grid_run_count(tmp_path):
    exp = load_experiment(write(tmp_path, experiment_text(GRID, replicates=3)))
    assert design.run_count(exp) == len(design.plan(exp)) == 18


def test_huge_design_is_refused_before_it_is_built(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the design was built")

    monkeypatch.setattr(design, "raw_design", refuse)
    text = experiment_text(SAMPLED["lhs"].format(n=1_000_000_000) + PARAMS, replicates=1000)
    with pytest.raises(ScenarioError) as err:
        load_experiment(write(tmp_path, text))
    line = str(err.value)
    assert "plans 1,000,000,000,000 runs (1,000,000,000 design points x 1,000 replicates)" in line
    assert f"limit of {design.MAX_RUNS:,} runs" in line


def test_cli_sweep_refuses_a_huge_design_with_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(design, "raw_design", lambda *a: pytest.fail("the design was built"))
    text = experiment_text(SAMPLED["morris"].format(n=600_000_000) + PARAMS)
    status = main(["sweep", str(write(tmp_path, text)), "--dry-run"])
    assert status == EXIT_BAD_INPUT
    assert "more than the limit" in capsys.readouterr().err
