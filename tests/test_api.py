"""The Python API: the names a script needs, from the top level, loaded on first use."""

from __future__ import annotations

import subprocess
import sys

import pytest

import trustsim


@pytest.mark.parametrize("name", sorted(trustsim.API))
def test_each_top_level_name_is_the_object_of_its_module(name):
    import importlib

    assert getattr(trustsim, name) is getattr(importlib.import_module(trustsim.API[name]), name)
    assert name in dir(trustsim) and name in trustsim.__all__


def test_importing_trustsim_loads_none_of_the_heavy_libraries():
    heavy = ("pandas", "mesa", "numba", "matplotlib", "pydantic", "trustsim.runtime.run")
    code = f"import sys, trustsim; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.check_output([sys.executable, "-c", code], text=True)
    assert out.strip() == "[]"


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'simulat'"):
        trustsim.simulat  # noqa: B018


def test_all_lists_every_api_name():
    assert set(trustsim.API) <= set(trustsim.__all__)


def test_python_m_trustsim_is_the_command_line():
    out = subprocess.run(
        [sys.executable, "-m", "trustsim", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.strip() == f"trustsim {trustsim.__version__}"


def test_help_opens_with_a_whole_plain_sentence():
    from trustsim.cli import build_parser

    text = build_parser().format_help()
    description = text.split("\n\n")[1].replace("\n", " ")
    assert description.endswith(".") and "``" not in description
    assert "sweeps" in description


def test_a_run_result_shows_as_one_short_line():
    from trustsim.runtime.run import simulate

    scenario = trustsim.Scenario.model_validate({"population": {"n_customers": 20}})
    result = simulate(scenario, "mesa", 1, 2)
    text = repr(result)
    assert "\n" not in text and len(text) < 200
    assert text.startswith("RunResult(engine='mesa', seed=1, steps=2, 20 customers")


def test_errors_from_python_name_overrides_not_the_cli_option():
    from trustsim.errors import ScenarioError

    with pytest.raises(ScenarioError) as bad:
        trustsim.load_scenario("baseline", ["population.n_customer=5"])
    assert "--set" not in str(bad.value)
    assert str(bad.value).startswith("override 'population.n_customer=5': no such parameter")
    with pytest.raises(ScenarioError) as bad:
        trustsim.load_scenario("baseline", ["population.n_customers=1"])
    assert "--set" not in str(bad.value) and "with overrides: population.n_customers" in str(
        bad.value
    )


def test_the_command_line_still_says_set(capsys):
    from trustsim.cli import main

    assert main(["validate", "baseline", "--set", "population.n_customer=5"]) == 2
    assert "error: --set population.n_customer=5: no such parameter" in capsys.readouterr().err
