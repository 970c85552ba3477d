"""The documents as a user meets them: every example runs, every command exists, every
path named is there, and docs/PERFORMANCE.md shows what its results files hold.

- Each ```python block of README.md and docs/*.md is run, the blocks of one document in
  order in one namespace, in a fresh interpreter whose working folder is outside the
  checkout: only the installed ``trustsim`` can be imported, as after ``pip install``.
  A block that is deliberately not runnable carries ``<!-- not run: why -->`` on the line
  before it; the test reports it as skipped with that reason.
- Each ``trustsim``/``./dev`` command line in a shell or text block is parsed by the
  command line's own parser: its command and every option must exist and take the value
  given.
- Each repository path named in the documents (``sim/...``, ``tests/...``, ...) exists.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.M | re.S,
)
NOT_RUN = re.compile(r"<!--\s*not run:\s*(?P<why>.+?)\s*-->\s*$")
SHELL = {"bash", "sh", "shell", "console", "text"}
CLI = re.compile(r"^(?:\$\s+)?(?P<cmd>\./dev|trustsim|\.venv/bin/trustsim)\s+(?P<args>.*)$")


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def blocks(doc: Path) -> list[tuple[str, int, str, str | None]]:
    """(language, line of the opening fence, dedented body, reason if marked not run)."""
    text = doc.read_text(encoding="utf-8")
    found = []
    for m in FENCE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marked = NOT_RUN.search(before)
        body = textwrap.dedent(m.group("body"))
        found.append((m.group("lang"), line, body, marked and marked.group("why")))
    return found


def python_docs() -> list[Path]:
    return [d for d in DOCS if any(lang == "python" for lang, *_ in blocks(d))]


RUNNER = """
import sys, json
blocks = json.load(open(sys.argv[1], encoding="utf-8"))
ns = {"__name__": "__main__"}
for name, source in blocks:
    exec(compile(source, name, "exec"), ns)
"""


@pytest.mark.slow
@pytest.mark.parametrize("doc", python_docs(), ids=rel)
def test_python_examples_run_outside_the_checkout(doc, tmp_path):
    runnable, skipped = [], []
    for lang, line, body, why in blocks(doc):
        if lang != "python":
            continue
        (skipped if why else runnable).append((f"{rel(doc)}:{line}", why or body))
    cells = tmp_path / "blocks.json"
    cells.write_text(json.dumps(runnable), encoding="utf-8")
    work = tmp_path / "work"  # the example's own folder: its outputs land here
    work.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(cells)],
        cwd=work,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "TRUSTSIM_THREADS": "1"},
        timeout=600,
    )
    assert proc.returncode == 0, f"an example of {rel(doc)} failed:\n{proc.stderr[-3000:]}"
    if skipped:
        pytest.skip("; ".join(f"{name} not run: {why}" for name, why in skipped))


def test_the_runner_cannot_see_the_checkout(tmp_path):
    """The folder the examples run in does not expose the checkout's folders by name, so an
    example that imports ``sim`` or ``analysis`` (names a wheel does not have) fails."""
    cells = tmp_path / "blocks.json"
    cells.write_text(json.dumps([["x.md:1", "import sim.loader"]]), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(cells)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
    )
    assert proc.returncode != 0 and "No module named 'sim'" in proc.stderr


def command_lines() -> list[tuple[str, str]]:
    """(where, argument string) of every trustsim command shown in a shell or text block."""
    found = []
    for doc in DOCS:
        for lang, line, body, _ in blocks(doc):
            if lang not in SHELL:
                continue
            for i, raw in enumerate(body.splitlines()):
                for part in re.split(r"\s*&&\s*", raw.split(" #", 1)[0].strip()):
                    m = CLI.match(part)
                    if m:
                        found.append((f"{rel(doc)}:{line + 1 + i}", m.group("cmd"), m["args"]))
    return found


def parse(args: list[str]) -> tuple[int, str]:
    from trustsim.cli import build_parser

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            build_parser().parse_args(args)
        except SystemExit as exc:
            return int(exc.code or 0), err.getvalue()
    return 0, ""


def options(command: str) -> set[str]:
    """The option strings of one trustsim command (empty for an unknown command)."""
    import argparse

    from trustsim.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    parser = sub.choices.get(command)
    return set(parser._option_string_actions) if parser else set()


def test_every_command_shown_exists_with_its_options():
    lines = command_lines()
    assert len(lines) > 20, "the documents show commands; the extraction found too few"
    bad = []
    for where, cmd, args in lines:
        argv = shlex.split(args)
        if cmd == "./dev" and argv[:1] == ["test"]:
            continue  # pytest's options, not trustsim's
        if cmd == "./dev" and not argv:
            argv = ["run"]
        if "[" in args:  # a synopsis (`sweep EXPERIMENT [--out DIR] ...`): its options exist
            unknown = sorted(set(re.findall(r"--[\w-]+", args)) - options(argv[0]))
            if unknown:
                bad.append(f"{where}: {cmd} {args}\n    no such option: {', '.join(unknown)}")
            continue
        code, err = parse(argv)
        if code != 0:
            bad.append(f"{where}: {cmd} {args}\n    {err.strip().splitlines()[-1]}")
    assert not bad, "commands in the documents that trustsim does not accept:\n" + "\n".join(bad)


def test_the_command_check_catches_a_wrong_option():
    assert parse(["run", "baseline", "--steps", "5"])[0] == 0
    code, err = parse(["run", "baseline", "--stepz", "5"])
    assert code == 2 and "--stepz" in err
    assert parse(["swep", "ring_grid"])[0] == 2
    assert "--workers" in options("sweep") and "--stepz" not in options("run")


PATH = re.compile(
    r"(?<![\w./-])((?:sim|analysis|tests|benchmarks|scripts|docs|scenarios|notebooks)/[\w./*-]*[\w/*])"
)


def test_every_path_named_in_the_documents_exists():
    sources = [*DOCS, ROOT / "dev", *sorted((ROOT / "notebooks").glob("*.ipynb"))]
    missing = []
    for src in sources:
        text = src.read_text(encoding="utf-8")
        if src.suffix == ".ipynb":
            cells = json.loads(text)["cells"]
            text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        for name in sorted(set(PATH.findall(text))):
            if "*" in name:  # a pattern: some file must match it
                if not any(ROOT.glob(name)):
                    missing.append(f"{rel(src)}: {name}")
                continue
            if not (ROOT / name).exists() and not (src.parent / name).exists():
                missing.append(f"{rel(src)}: {name}")
    assert not missing, "paths named but not in the repository:\n" + "\n".join(missing)


def test_performance_page_matches_its_results_files():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from performance_doc import DOC, render
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    text = DOC.read_text(encoding="utf-8")
    assert "<!-- results:" in text
    assert render(text) == text, (
        "docs/PERFORMANCE.md differs from benchmarks/results/*.json: "
        "run .venv/bin/python benchmarks/performance_doc.py"
    )


def test_architecture_names_every_module():
    """docs/ARCHITECTURE.md says where things are: a new module must be added there."""
    rows = [
        line
        for line in (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| `")
    ]
    missing = []
    for package in ("sim", "analysis"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "__init__.py":
                continue
            name = path.relative_to(ROOT / package).as_posix()
            folder = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
            named = any(
                f"`{name}`" in row or (f"`{path.name}`" in row and f"`{folder}" in row)
                for row in rows
            )
            if not named:
                missing.append(f"{package}/{name}")
    assert not missing, "modules docs/ARCHITECTURE.md does not place:\n" + "\n".join(missing)


DOTTED = re.compile(r"(?<![\w.])trustsim(?:\.[A-Za-z_]\w*)+")


def resolves(name: str) -> bool:
    """Whether ``trustsim.a.b.c`` is a module, or an attribute of the longest module prefix."""
    import importlib

    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_every_dotted_name_in_the_documents_exists():
    missing = []
    for doc in DOCS:
        for name in sorted(set(DOTTED.findall(doc.read_text(encoding="utf-8")))):
            if not resolves(name.rstrip(".")):
                missing.append(f"{rel(doc)}: {name}")
    assert not missing, "names the documents use that trustsim does not have:\n" + "\n".join(
        missing
    )


@pytest.fixture
def bench_modules():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import performance_doc
        import record

        yield performance_doc, record
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


def test_a_results_file_records_machine_load_date_and_commit(bench_modules, tmp_path):
    _, record = bench_modules
    path = record.Recorder("engines").write({"x": 1.5}, folder=tmp_path)
    rec = json.loads(path.read_text(encoding="utf-8"))
    assert rec["figures"] == {"x": 1.5} and rec["benchmark"] == "engines"
    assert rec["machine"]["cores"] >= 1 and rec["machine"]["memory_gib"] > 0
    assert rec["machine"]["cpu"] != "unknown"
    assert len(rec["load_before"]) == 3 and len(rec["load_after"]) == 3
    assert rec["date"][:2] == "20" and re.fullmatch(r"[0-9a-f]{40}", rec["git_commit"])


def test_a_results_file_names_the_script_however_it_was_started(bench_modules, monkeypatch):
    _, record = bench_modules
    monkeypatch.chdir(ROOT)
    assert record.script_name("benchmarks/bench_engines.py") == "benchmarks/bench_engines.py"
    monkeypatch.chdir(ROOT / "docs")
    assert record.script_name("../benchmarks/bench_scale.py") == "benchmarks/bench_scale.py"
    assert record.script_name(str(ROOT / "benchmarks" / "x.py")) == "benchmarks/x.py"


def test_a_table_is_made_from_its_results_file_alone(bench_modules, tmp_path):
    performance_doc, record = bench_modules
    text = "a\n<!-- results:engines -->\nstale 123\n<!-- /results -->\nb\n"
    assert "Not measured yet" in performance_doc.render(text, tmp_path)
    rows = [
        {
            "engine": "core, 1 thread",
            "threads": 1,
            "seconds": 0.05,
            "rate": 12.34e6,
            "vs_mesa": 80.2,
        },
        {"engine": "mesa", "threads": 1, "seconds": 4.0, "rate": 0.154e6, "vs_mesa": 1.0},
    ]
    figures = {"customers": 10_000, "steps": 60, "seed": 1, "engines": rows}
    record.Recorder("engines").write(
        {**figures, "identical": False, "warm_start_s": 1.234}, folder=tmp_path
    )
    out = performance_doc.render(text, tmp_path)
    assert out.startswith("a\n<!-- results:engines -->\n") and out.endswith(
        "<!-- /results -->\nb\n"
    )
    assert "stale 123" not in out
    assert "| core, 1 thread | 0.05 s | 12.34 M | 80x |" in out
    assert "**not identical**" in out and "1.23 s" in out
    assert "benchmarks/results/engines.json" in out and "load average" in out
