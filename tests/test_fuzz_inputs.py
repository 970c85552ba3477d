"""Random bytes and random TOML for every file kind (scenario, experiment, study, targets,
lesson) and random values for every option of every command: each ends with exit status 0
or 2 and no traceback (an --out that cannot be created may also end with 73, its class); a
refusal says its problems in lines that begin with ``error:`` (no usage block) and leaves
no file or folder behind (the current folder is the test's own).

The work a command would start after its checks is replaced by a marker that ends the
command with status 0, so that each example costs milliseconds; each kind is bounded by
``max_examples`` and a per-example deadline.
"""

from __future__ import annotations

import argparse
import functools
import gc
import math
import os
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trustsim import cli
from trustsim.errors import TrustsimError
from trustsim.loader import SCENARIO_DIR, read_toml

FUZZ = settings(
    max_examples=25,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Reached(TrustsimError):
    """The command got past every check to its work: a success here."""

    exit_status = 0


def reached(*args, **kwargs):
    raise Reached("reached the work")


@pytest.fixture
def no_work(monkeypatch, tmp_path):
    """Every command's work replaced by :class:`Reached`; the current folder a fresh one."""
    import trustsim.analysis.calibration.abc as abc
    import trustsim.analysis.studies.run as study_run
    import trustsim.analysis.sweep.driver as driver
    import trustsim.classroom.animate as animate
    import trustsim.classroom.assets as assets
    import trustsim.runtime.drawer as drawer
    import trustsim.runtime.run as run

    monkeypatch.setattr(run, "simulate", reached)
    monkeypatch.setattr(drawer, "FigureDrawer", reached)
    monkeypatch.setattr(driver, "_session", reached)
    monkeypatch.setattr(abc, "_session", reached)
    monkeypatch.setattr(abc, "check_priors", reached, raising=False)
    monkeypatch.setattr(study_run, "run_loaded", reached)
    monkeypatch.setattr(animate, "frames", reached)
    monkeypatch.setattr(assets, "ensure", lambda log=print: [])
    monkeypatch.setattr(os, "execve", reached)
    monkeypatch.setattr(socket, "getaddrinfo", _numeric_only)  # a random --host: no DNS
    monkeypatch.chdir(tmp_path)
    # Speed, not behaviour: the parser is built once (it is the same every time), and the
    # objects alive before the examples are frozen out of the full collection the error
    # report runs (which otherwise walks every imported module's objects, ~0.2 s a call);
    # what a command makes is still collected as before.
    monkeypatch.setattr(cli, "build_parser", PARSER)
    gc.collect()  # the garbage of earlier tests, before the rest is frozen
    gc.freeze()
    yield tmp_path
    gc.unfreeze()


PARSER = functools.cache(cli.build_parser)
_getaddrinfo = socket.getaddrinfo


def _numeric_only(host, port, family=0, type=0, proto=0, flags=0):
    """getaddrinfo for numeric addresses only: a random name is refused here (as a name
    with no address is) instead of being looked up over the network, which took seconds
    and is traffic off 127.0.0.1."""
    return _getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def status_of(argv: list[str], capsys, allowed=(0, 2)) -> int:
    before = tree(Path.cwd())
    try:
        code = cli.main(argv)
    except SystemExit as stop:  # argparse
        code = stop.code
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, (argv, err)
    assert code in allowed, (argv, code, err)
    if code:  # refused: a line per problem, no usage block, no other output
        lines = err.splitlines()
        assert any(ln.startswith("error: ") for ln in lines), (argv, err)
        assert all(ln.startswith(("error: ", "warning: ")) for ln in lines), (argv, err)
        assert tree(Path.cwd()) == before, (argv, "a refused command left files", err)
    return code


# ----------------------------------------------------------------------------- TOML


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v == math.inf else "-inf" if v < 0 and
                                           math.isinf(v) else repr(v))  # fmt: skip
    if isinstance(v, str):
        return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}"
                             for c in v) + '"'  # fmt: skip
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def key(k: str) -> str:
    return toml_value(str(k))


def dumps(data: dict) -> str:
    """TOML of a dict whose values are scalars, lists, tables and lists of tables."""
    lines, tables = [], []
    for k, v in data.items():
        if isinstance(v, dict):
            tables.append((k, v))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            tables.extend((k, x, True) for x in v)  # type: ignore[misc]
        else:
            lines.append(f"{key(k)} = {toml_value(v)}")
    for item in tables:
        name, table = item[0], item[1]
        lines.append(f"[[{key(name)}]]" if len(item) == 3 else f"[{key(name)}]")
        lines.extend(f"{key(k)} = {toml_value(v)}" for k, v in table.items())
    return "\n".join(lines) + "\n"


SCALARS = st.one_of(
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", "baseline", "../..", "/", "a/b", "x" * 300, "section.key=1"]),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=6), SCALARS, max_size=2),
)


@st.composite
def mutated(draw, original: dict) -> dict:
    """A real file's TOML with some values replaced, keys dropped or added."""
    data = {k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v)
            for k, v in original.items()}  # fmt: skip
    for _ in range(draw(st.integers(1, 4))):
        tables = [k for k, v in data.items() if isinstance(v, dict)]
        action = draw(st.sampled_from(["replace", "drop", "add", "table"]))
        if action == "table" or not tables:
            data[draw(st.sampled_from([*data, "extra"]))] = draw(VALUES)
            continue
        table = data[draw(st.sampled_from(tables))]
        if action == "add" or not table:
            table[draw(st.text(max_size=8))] = draw(VALUES)
        elif action == "drop":
            table.pop(draw(st.sampled_from(sorted(table))))
        else:
            table[draw(st.sampled_from(sorted(table)))] = draw(VALUES)
    return data


# one shipped file of each kind, and the command that reads such a file without running it
KINDS = {
    "scenario": (SCENARIO_DIR / "baseline.toml", lambda f, tmp: ["validate", f]),
    "experiment": (
        SCENARIO_DIR / "experiments" / "ring_grid.toml",
        lambda f, tmp: ["sweep", f, "--dry-run"],
    ),
    "study": (
        sorted((SCENARIO_DIR / "studies").glob("*.toml"))[0],
        lambda f, tmp: ["study", f, "--dry-run"],
    ),
    "targets": (
        sorted((SCENARIO_DIR / "targets").glob("*.toml"))[0],
        lambda f, tmp: ["calibrate", f, "--out", str(tmp / "cal"), "--workers", "1"],
    ),
    "lesson": (
        sorted((SCENARIO_DIR / "lessons").glob("*.toml"))[0],
        lambda f, tmp: ["animate", f, "--out", str(tmp / "a.gif")],
    ),
}


def _write(folder: Path, kind: str, content: bytes) -> str:
    path = folder / f"fuzz_{kind}.toml"
    path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_shipped_file_passes_its_checks(kind, no_work, capsys):
    source, argv = KINDS[kind]
    assert status_of(argv(str(source), no_work), capsys, allowed=(0,)) == 0


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_random_bytes(kind, no_work, capsys):
    argv = KINDS[kind][1]

    @FUZZ
    @given(content=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
    def check(content):
        status_of(argv(_write(no_work, kind, content), no_work), capsys)

    check()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_random_toml(kind, no_work, capsys):
    source, argv = KINDS[kind]
    original = read_toml(source)
    if kind == "lesson":  # a copy elsewhere must still find its scenario
        base = original.get("scenario", {})
        if isinstance(base, dict) and "base" in base:
            base["base"] = str((source.parent / base["base"]).resolve())

    @FUZZ
    @given(data=mutated(original))
    def check(data):
        status_of(argv(_write(no_work, kind, dumps(data).encode()), no_work), capsys)

    check()


# ----------------------------------------------------------------------------- options

OPTION_TEXT = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=10),
    st.integers(-(2**65), 2**65).map(str),
    st.floats().map(str),
    st.sampled_from(["", "0", "-1", "1e9", "nan", "x=y", "run.steps=0", "1G", "tcp://"]),
)
COMMANDS = {
    "run": [],
    "validate": ["baseline"],
    "sweep": ["ring_grid"],
    "sensitivity": ["morris_screening"],
    "calibrate": [str(sorted((SCENARIO_DIR / "targets").glob("*.toml"))[0])],
    "study": [str(sorted((SCENARIO_DIR / "studies").glob("*.toml"))[0])],
    "animate": ["baseline", "--out", "a.gif"],
    "app": [],
}
SKIP = {"--help", "--version", "--debug", "--cluster"}  # --cluster would dial out


def options(command: str) -> list[argparse.Action]:
    parser = PARSER()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return [
        a
        for a in sub.choices[command]._actions
        if a.option_strings and not SKIP & set(a.option_strings)
    ]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_random_option_values(command, no_work, capsys):
    acts = options(command)

    @FUZZ
    @given(picks=st.lists(st.tuples(st.sampled_from(acts), OPTION_TEXT), min_size=1, max_size=3))
    def check(picks):
        argv = [command, *COMMANDS[command]]
        outs = False
        for action, text in picks:
            flag = action.option_strings[-1]
            outs |= flag == "--out"
            argv += [flag] if action.nargs == 0 else [flag, text]
        busy = outs or command == "app"  # a place or a port that cannot be had: 73
        status_of(argv, capsys, allowed=(0, 2, 73) if busy else (0, 2))

    check()
