"""Experiment files: shipped ones load; bad ones fail with one clear line per problem
(file, key, what is allowed) and exit status 2 from the CLI."""

from __future__ import annotations

import pytest

from tests.analysis.sweep_helpers import GRID, experiment_text, write
from trustsim.analysis.sweep.design import plan
from trustsim.analysis.sweep.experiment import EXPERIMENT_DIR
from trustsim.analysis.sweep.load import load_experiment
from trustsim.cli import main
from trustsim.loader import ScenarioError

SHIPPED = sorted(p.stem for p in EXPERIMENT_DIR.glob("*.toml"))


def problems_of(tmp_path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        load_experiment(path)
    assert all(line.startswith(str(path)) for line in err.value.problems), err.value.problems
    return err.value.problems


def test_shipped_experiments_load_and_start_with_a_comment():
    assert len(SHIPPED) >= 2
    for name in SHIPPED:
        exp = load_experiment(name)
        assert exp.path.read_text().startswith("# "), f"{name} needs a comment saying what it shows"
        assert len(plan(exp)) >= exp.spec.runs.replicates


LHS = '[design]\nmethod = "lhs"\nsamples = 8\n[design.parameters]\n'

BAD = {
    "unknown table": (
        '[desing]\nmethod = "grid"\n',
        ["unknown key 'desing'; did you mean 'design'?"],
    ),
    "missing design": ("[runs]\nreplicates = 2\n", ["design is missing"]),
    "unknown method": (
        experiment_text(GRID.replace('"grid"', '"latin"')),
        ["design.method = 'latin' is not allowed: must be one of grid, lhs, sobol, morris"],
    ),
    "unknown parameter": (
        experiment_text(GRID.replace("ring_gradient", "ring_gradent")),
        [
            "design.parameters.'culture.ring_gradent': no such parameter; "
            "did you mean 'culture.ring_gradient'?"
        ],
    ),
    "grid value out of range": (
        experiment_text(GRID.replace("0.9]", "1.9]")),
        ["value 1.9 is not allowed: must be a number in [0, 1]"],
    ),
    "float for an integer": (
        experiment_text(
            '[design]\nmethod = "grid"\n[design.parameters]\n"population.n_firms" = [2, 2.5]\n'
        ),
        ["'population.n_firms': value 2.5 is not allowed: must be an integer in [1, 10000]"],
    ),
    "range outside the schema": (
        experiment_text(LHS + '"culture.ring_gradient" = [0.0, 1.5]\n'),
        ["bound 1.5 is not allowed: must be a number in [0, 1]"],
    ),
    "empty range": (
        experiment_text(LHS + '"culture.ring_gradient" = [0.6, 0.2]\n'),
        ["[0.6, 0.2] is not allowed: low must be below high"],
    ),
    "range is not a pair": (
        experiment_text(LHS + '"culture.ring_gradient" = [0.1, 0.5, 0.9]\n'),
        ["a lhs design needs a range [low, high]"],
    ),
    "switch in a sampled design": (
        experiment_text(LHS + '"mechanisms.gifts" = [false, true]\n'),
        ["a switch can only be varied in a grid design"],
    ),
    "word in a sampled design": (
        experiment_text(LHS + '"turnover.reassignment" = ["random", "best"]\n'),
        ["a word-valued parameter can only be varied in a grid design"],
    ),
    "unknown word in a grid": (
        experiment_text(
            '[design]\nmethod = "grid"\n[design.parameters]\n'
            '"turnover.reassignment" = ["random", "handoff"]\n'
        ),
        ["value 'handoff' is not allowed: must be one of 'random', 'best', 'known', 'handover'"],
    ),
    "seed varied": (
        experiment_text('[design]\nmethod = "grid"\n[design.parameters]\n"run.seed" = [1, 2]\n'),
        ["'run.seed': cannot be varied: every run's seed comes from runs.master_seed"],
    ),
    "samples missing": (
        experiment_text(LHS.replace("samples = 8\n", "") + '"firms.quality" = [0.2, 0.9]\n'),
        ["design.samples is missing: a lhs design needs an integer >= 1"],
    ),
    "sobol not a power of 2": (
        experiment_text(
            LHS.replace("lhs", "sobol").replace("8", "10") + '"firms.quality" = [0.2, 0.9]\n'
        ),
        ["design.samples = 10 is not allowed: a sobol design needs a power of 2 (e.g. 16)"],
    ),
    "levels in a grid": (
        experiment_text(GRID.replace('"grid"\n', '"grid"\nlevels = 4\n')),
        ["design.levels is only used by a morris design"],
    ),
    "zero replicates": (
        experiment_text(GRID, replicates=0),
        ["runs.replicates = 0 is not allowed: must be an integer in [1, 1000000]"],
    ),
    "string for a number": (
        experiment_text(GRID).replace("master_seed = 5", 'master_seed = "5"'),
        ["runs.master_seed = '5' is not allowed: must be an integer in [0, 2**63 - 1]"],
    ),
    "unknown metric": (
        experiment_text(GRID, metrics=("mean_trsut",)),
        ["output.metrics: unknown metric 'mean_trsut'; did you mean 'mean_trust'?"],
    ),
    "unknown base scenario": (
        experiment_text(GRID).replace('"baseline"', '"basline"'),
        ["base.scenario = 'basline': no such shipped scenario; did you mean 'baseline'?"],
    ),
    "bad base override": (
        experiment_text(GRID, base_set=["population.n_custmers=50"]),
        [
            "base.set: --set population.n_custmers=50: no such parameter; "
            "did you mean 'population.n_customers'?"
        ],
    ),
    "base override out of range": (
        experiment_text(GRID, base_set=["run.steps=0"]),
        ["run.steps = 0 is not allowed: must be an integer in [1, 1000000]"],
    ),
    "invalid design point": (
        experiment_text(
            '[design]\nmethod = "grid"\n[design.parameters]\n'
            '"rings.outsider_threshold" = [0.3, 0.7]\n'
        ),
        [
            "design point 1 (rings.outsider_threshold=0.7)",
            "rings.outsider_threshold (0.7) must be <= rings.insider_threshold (0.6)",
        ],
    ),
    "not TOML": ("[design\nmethod = grid", ["not valid TOML"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_experiment_names_file_key_and_what_is_allowed(tmp_path, case):
    text, expected = BAD[case]
    joined = "\n".join(problems_of(tmp_path, text))
    for fragment in expected:
        assert fragment in joined, f"{case}: {fragment!r} not in:\n{joined}"


def test_every_problem_is_reported_at_once(tmp_path):
    text = experiment_text(
        GRID.replace("ring_gradient", "ring_gradent"), replicates=0, metrics=("mean_trsut",)
    )
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1  # pydantic stops at the schema level: replicates first
    fixed = text.replace("replicates = 0", "replicates = 2")
    problems = problems_of(tmp_path, fixed)
    assert (
        len(problems) == 2
        and any("ring_gradent" in p for p in problems)
        and any("mean_trsut" in p for p in problems)
    )


def test_cli_exits_2_with_one_error_line_per_problem(tmp_path, capsys):
    path = write(
        tmp_path,
        experiment_text(GRID.replace("ring_gradient", "ring_gradent"), metrics=("mean_trsut",)),
    )
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith(f"error: {path}: ") for line in err)
    assert not (tmp_path / "out").exists()  # nothing is started for a bad file


def test_dry_run_counts_points_and_runs(tmp_path, capsys):
    path = write(tmp_path, experiment_text(GRID, replicates=3))
    assert main(["sweep", str(path), "--dry-run"]) == 0
    assert "6 points x 3 replicates = 18 runs" in capsys.readouterr().out


def test_base_scenario_path_is_relative_to_the_experiment_file(tmp_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "[population]\nn_customers = 77\n", "market.toml")
    text = experiment_text(GRID, base_set=["run.steps=5"]).replace('"baseline"', '"market.toml"')
    exp = load_experiment(write(tmp_path / "sub", text))
    assert exp.base.population.n_customers == 77 and exp.base.run.steps == 5


def test_dotted_and_quoted_parameter_names_mean_the_same(tmp_path):
    quoted = load_experiment(write(tmp_path, experiment_text(GRID), "a.toml"))
    bare = GRID.replace('"culture.ring_gradient"', "culture.ring_gradient")
    dotted = load_experiment(write(tmp_path, experiment_text(bare), "b.toml"))
    assert (
        quoted.names == dotted.names == ["culture.ring_gradient", "salespeople.instrumental_share"]
    )
    assert plan(quoted).equals(plan(dotted))


def test_a_word_valued_parameter_is_swept_in_a_grid(tmp_path):
    from trustsim.analysis.sweep.driver import execute, load_runs

    words = '[design]\nmethod = "grid"\n[design.parameters]\n"turnover.reassignment" = '
    exp = load_experiment(write(tmp_path, experiment_text(words + '["random", "handover"]\n')))
    done = execute(exp, tmp_path / "out", workers=1, progress=False)
    assert sorted(done.runs["turnover.reassignment"]) == ["handover"] * 2 + ["random"] * 2
    assert done.runs["mean_trust"].notna().all()
    stored = load_runs(tmp_path / "out")  # the words survive the table on disk and a resume
    assert sorted(stored["turnover.reassignment"]) == sorted(done.runs["turnover.reassignment"])
    assert execute(exp, tmp_path / "out", workers=1, progress=False).new_runs == 0
