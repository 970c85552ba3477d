"""Bad input: exit status 2, one line per problem naming the file or option, the key and
what is allowed, and never a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trustsim.cli import main
from trustsim.loader import ScenarioError, load_scenario, validate
from trustsim.params import Scenario, iter_fields


def errors(capsys, *argv) -> list[str]:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()


def write(tmp_path: Path, text: str, name="s.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_unknown_key_names_file_key_and_allowed_keys(tmp_path, capsys):
    f = write(tmp_path, "[population]\nn_custmers = 10\n")
    (line,) = errors(capsys, "validate", f)
    assert f in line and "population.n_custmers" in line and "n_customers" in line


def test_unknown_table(tmp_path, capsys):
    f = write(tmp_path, "[populaton]\nn_customers = 10\n")
    (line,) = errors(capsys, "validate", f)
    assert "[populaton]" in line and "did you mean 'population'" in line


def test_wrong_type_and_out_of_range_each_get_a_line(tmp_path, capsys):
    f = write(tmp_path, '[population]\nn_customers = "many"\n[culture]\nring_gradient = 1.5\n')
    lines = errors(capsys, "validate", f)
    assert len(lines) == 2
    assert "population.n_customers" in lines[0] and "an integer in [2, 5000000]" in lines[0]
    assert "culture.ring_gradient" in lines[1] and "a number in [0, 1]" in lines[1]


@pytest.mark.parametrize(
    "text, words",
    [
        (
            "[breach]\nscheduled_step = 5\nscheduled_salesperson = 99\n",
            ["breach.scheduled_salesperson = 99", "< population.n_salespeople (20)"],
        ),
        ("[turnover]\nscheduled_step = 0\n", ["turnover.scheduled_step = 0", "use -1 for none"]),
        (
            "[needs]\ndepth_outsider = 4\ndepth_insider = 3\n",
            ["needs.depth_outsider <= needs.depth_insider <= needs.depth_family"],
        ),
    ],
)
def test_checks_across_tables(tmp_path, capsys, text, words):
    f = write(tmp_path, text)
    (line,) = errors(capsys, "validate", f)
    assert f in line and all(w in line for w in words)


def test_cross_field_rule_is_explained(tmp_path, capsys):
    f = write(tmp_path, "[rings]\ninsider_threshold = 0.3\noutsider_threshold = 0.5\n")
    (line,) = errors(capsys, "validate", f)
    assert "outsider_threshold" in line and "insider_threshold" in line


@pytest.mark.parametrize(
    "text, expect",
    [
        ("", "empty"),
        ("   \n# only a comment\n", "empty"),
        ("[run\nsteps=1", "not valid TOML"),
        ("run = 5\n", "must be a table"),
    ],
)
def test_broken_files(tmp_path, capsys, text, expect):
    f = write(tmp_path, text)
    (line,) = errors(capsys, "validate", f)
    assert f in line and expect in line


def test_missing_file_and_directory(tmp_path, capsys):
    (line,) = errors(capsys, "run", str(tmp_path / "nope.toml"))
    assert "nope.toml" in line and "no such file" in line
    (line,) = errors(capsys, "validate", str(tmp_path))
    assert "directory" in line


def test_set_that_names_nothing_or_is_malformed(capsys):
    lines = errors(
        capsys,
        "run",
        "classroom",
        "--set",
        "population.n_custmers=3",
        "--set",
        "novalue",
        "--set",
        "run.steps=0",
    )
    assert len(lines) == 3
    assert lines[0].startswith("error: --set population.n_custmers=3") and "n_customers" in lines[0]
    assert "expected KEY=VALUE" in lines[1]
    assert "run.steps" in lines[2] and "[1, 1000000]" in lines[2]


def test_real_console_script_exits_2_without_traceback(tmp_path):
    f = write(tmp_path, "[trust]\nlearn_emotional = -1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "trustsim.cli", "run", f], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "trust.learn_emotional" in proc.stderr


# ------------------------------------------------------------------ fuzzing the loader

sections = list(Scenario.model_fields)
keys = [f"{s}.{k}" for s, k, _ in iter_fields()]
values = st.one_of(
    st.integers(-(10**7), 10**7),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=200, deadline=None)
@given(
    data=st.dictionaries(
        st.one_of(st.sampled_from(sections), st.text(min_size=1, max_size=8)),
        st.one_of(
            st.dictionaries(
                st.one_of(
                    st.sampled_from([k.split(".")[1] for k in keys]),
                    st.text(min_size=1, max_size=8),
                ),
                values,
                max_size=4,
            ),
            values,
        ),
        max_size=4,
    )
)
def test_loader_accepts_or_explains_any_structure(data):
    try:
        scenario = validate(data, "fuzz.toml")
    except ScenarioError as exc:
        assert exc.problems and all(p.startswith("fuzz.toml") for p in exc.problems)
    else:
        assert isinstance(scenario, Scenario)


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=80))
def test_loader_accepts_or_explains_any_text(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "f.toml"
    path.write_text(text, encoding="utf-8")
    try:
        load_scenario(path)
    except ScenarioError as exc:
        assert all(str(path) in p for p in exc.problems)


@settings(max_examples=100, deadline=None)
@given(key=st.sampled_from(keys), value=values)
def test_any_single_override_is_validated_against_the_schema(key, value):
    text = repr(value).lower() if isinstance(value, bool) else repr(value)
    try:
        sc = load_scenario("baseline", [f"{key}={text}"])
    except ScenarioError as exc:
        assert any(key in p or "--set" in p for p in exc.problems)
    else:
        section, name = key.split(".")
        assert getattr(getattr(sc, section), name) == value


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("TRUSTSIM_THREADS", "two", "a whole number of threads, 1 or more"),
        ("TRUSTSIM_THREADS", "0", "a whole number of threads, 1 or more"),
        ("TRUSTSIM_FIGURE_WORKER", "yes", "use 1 (draw the figure in a second process), 0"),
    ],
)
def test_a_bad_environment_setting_is_one_line(tmp_path, capsys, monkeypatch, name, value, says):
    monkeypatch.setenv(name, value)
    err = errors(capsys, "run", "--set", "run.steps=2", "--out", str(tmp_path / "out"))
    assert len(err) == 1 and f"{name}={value!r}" in err[0] and says in err[0]
