"""`trustsim run` writes what it promises, and a run is reproducible from its run.json."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from trustsim.cli import main
from trustsim.loader import validate
from trustsim.metrics import METRICS, RUN_METRICS
from trustsim.params import iter_fields
from trustsim.runtime.run import simulate


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    d = tmp_path_factory.mktemp("run")
    assert (
        main(
            [
                "run",
                "classroom",
                "--steps",
                "12",
                "--seed",
                "5",
                "--engine",
                "mesa",
                "--set",
                "population.n_customers=137",
                "--history",
                "--out",
                str(d),
            ]
        )
        == 0
    )
    return d


def test_run_writes_timeseries_events_json_and_figure(out):
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert list(ts.columns) == list(METRICS) and len(ts) == 12
    assert ts.step.tolist() == list(range(1, 13))
    ev = pd.read_parquet(out / "events.parquet")
    assert len(ev) == ts.encounters.sum() + ts.offers.sum() + ts.followed.sum() + ts.stayed.sum()
    assert (out / "trust.png").stat().st_size > 10_000


def test_run_json_holds_parameters_seed_engine_and_versions(out):
    meta = json.loads((out / "run.json").read_text())
    assert meta["seed"] == 5 and meta["engine"] == "mesa" and meta["steps"] == 12
    assert meta["parameters"]["population"]["n_customers"] == 137
    assert meta["scenario_file"].endswith("classroom.toml")
    assert meta["trustsim"] and meta["dependencies"]["mesa"].startswith("3.5")
    assert meta["dependencies"]["numba"] and meta["python"] and meta["wall_time_s"] >= 0
    assert "git_commit" in meta
    ts = pd.read_parquet(out / "timeseries.parquet")
    weeks = (1.0 + meta["parameters"]["measurement"]["discount_rate"]) ** (-ts.step / 52)
    clv = (ts.revenue * weeks).sum() / 137
    assert clv > 0 and meta["run_metrics"]["clv_mean"] == pytest.approx(clv, rel=1e-12)


def test_a_run_is_reproduced_from_its_run_json(out):
    meta = json.loads((out / "run.json").read_text())
    scenario = validate(meta["parameters"], "run.json")
    again = simulate(scenario, "core", seed=meta["seed"]).timeseries  # the other engine, too
    pd.testing.assert_frame_equal(
        again, pd.read_parquet(out / "timeseries.parquet"), check_exact=False, rtol=0, atol=1e-12
    )


def test_default_is_baseline_into_out_baseline(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--steps", "3", "--no-figure"]) == 0
    meta = json.loads((tmp_path / "out" / "baseline" / "run.json").read_text())
    assert meta["scenario_file"].endswith("baseline.toml") and meta["steps"] == 3


def test_params_lists_every_parameter_once(capsys):
    assert main(["params"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" = ")[0] for line in lines] == [f"{s}.{k}" for s, k, _ in iter_fields()]


def test_metrics_lists_every_metric(capsys):
    assert main(["metrics"]) == 0
    names = [line.split(":")[0] for line in capsys.readouterr().out.splitlines()]
    assert names == list(METRICS[1:]) + list(RUN_METRICS)  # per step, then one per run


def test_validate_accepts_every_shipped_scenario(capsys):
    from tests.helpers import SCENARIOS

    for name in SCENARIOS:
        assert main(["validate", name]) == 0
    assert capsys.readouterr().out.count(": ok") == len(SCENARIOS)


@pytest.mark.parametrize(
    ("blocked", "argv", "extra"),
    [
        ("solara", ["app"], "classroom"),
        (
            "distributed",
            ["sweep", "ring_grid", "--cluster", "tcp://127.0.0.1:9", "--out", "sw"],
            "cluster",
        ),
    ],
)
def test_a_missing_extra_is_one_line_naming_it(blocked, argv, extra, tmp_path):
    code = (
        f"import sys; sys.modules[{blocked!r}] = None\n"
        f"from trustsim.cli import main; sys.exit(main({argv!r}))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"trustsim[{extra}]" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
