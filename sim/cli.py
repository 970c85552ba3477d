"""The ``trustsim`` command line: run, validate, params, metrics, and the commands that
other packages register (sweeps, the classroom app).

Bad input exits with status 2 and one line per problem, never a traceback; a failing disk
or folder, an interruption and a bug each end with one line and their own status (see
:mod:`trustsim.errors`). ``--debug`` (or TRUSTSIM_DEBUG=1) adds the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

from trustsim.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    FileError,
    TrustsimError,
    debug_wanted,
    interrupt_in,
    output_errors,
    sigterm_as_interrupt,
)
from trustsim.loader import (
    CLI_LABEL,
    DEFAULT_SCENARIO,
    SCENARIO_DIR,
    load_scenario,
    resolve_path,
)
from trustsim.runtime.files import out_path
from trustsim.runtime.memory import add_max_memory

DESCRIPTION = (
    "Agent-based simulation of trust between customers and salespeople: run scenarios, "
    "sweeps and studies, and the classroom app."
)

# Modules that add sub-commands: each has ``register(subparsers)``; missing ones are skipped.
COMMAND_MODULES = (
    "trustsim.analysis.commands",
    "trustsim.classroom.commands",
    "trustsim.classroom.playcmd",
)


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run one scenario and write its results",
        description="Run SCENARIO (default: baseline) and write "
        "DIR/timeseries.parquet, DIR/run.json and a figure.",
    )
    p.add_argument(
        "scenario",
        nargs="?",
        default=DEFAULT_SCENARIO,
        help=f"a TOML file or a shipped name from {SCENARIO_DIR.name}/ (default: baseline)",
    )
    p.add_argument(
        "--engine",
        choices=("mesa", "core"),
        default="core",
        help="core: numba arrays (fast); mesa: readable agents (same results)",
    )
    p.add_argument("--seed", type=int, help="override run.seed")
    p.add_argument("--steps", type=int, help="override run.steps")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a parameter, e.g. --set population.n_customers=137 (repeatable)",
    )
    p.add_argument("--history", action="store_true", help="also write the relationship event log")
    p.add_argument("--out", type=out_path, help="output folder (default: out/<scenario name>)")
    p.add_argument("--no-figure", action="store_true", help="skip the PNG figure")
    add_max_memory(p)
    p.set_defaults(func=cmd_run)


def _add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check a scenario file without running it")
    p.add_argument("scenario", help="a TOML file or a shipped name")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.set_defaults(func=cmd_validate)


def _add_lists(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("params", help="list every parameter with default, range, unit and help")
    p.set_defaults(func=cmd_params)
    p = sub.add_parser("metrics", help="list every metric column")
    p.set_defaults(func=cmd_metrics)


def _overrides(args: argparse.Namespace) -> list[str]:
    extra = list(args.overrides)
    for flag, key in (("seed", "run.seed"), ("steps", "run.steps")):
        value = getattr(args, flag, None)
        if value is not None:
            extra.append(f"{key}={value}")
    if getattr(args, "history", False):
        extra.append("run.history=true")
    return extra


def cmd_run(args: argparse.Namespace) -> int:
    from trustsim import preload_blas_probe
    from trustsim.runtime.drawer import FigureDrawer
    from trustsim.runtime.files import make_folder
    from trustsim.runtime.memory import check_run
    from trustsim.runtime.report import print_paths, print_summary
    from trustsim.runtime.run import simulate, write_run

    scenario = load_scenario(args.scenario, _overrides(args), label=CLI_LABEL)
    source = resolve_path(args.scenario)
    check_run(scenario, args.engine, max_memory=args.max_memory, what=f"{source}: this run")
    out = args.out or Path("out") / source.stem
    make_folder(out, "creating the run's output folder")  # before the run, not after it
    # the figure's worker loads matplotlib while this process runs the model
    figure = None if args.no_figure else FigureDrawer(out / "trust.png")
    try:
        preload_blas_probe()
        result = _interruptible(lambda: simulate(scenario, engine=args.engine), out)
        paths = write_run(result, out, str(source))  # first: no figure beside failed results
        if figure:
            figure.send(result)
        print_summary(result)  # while the worker draws
        if figure:
            with output_errors("drawing the figure", kept=f"the run's results are saved in {out}"):
                paths["figure"] = figure.finish()
    finally:
        if figure:
            figure.close()
    print_paths(paths)
    return 0


def _interruptible(work: Callable[[], object], out: Path):
    """Ctrl-C or SIGTERM during the run (numba's compiled loop reports it as a SystemError
    once it returns): one line, exit 130, nothing written."""
    try:
        return work()
    except BaseException as exc:
        if interrupt_in(exc):
            raise KeyboardInterrupt(
                f"interrupted: nothing of this run was written to {out}; "
                f"the same command gives the same results"
            ) from None
        raise


def cmd_validate(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides, label=CLI_LABEL)
    p = scenario.population
    print(
        f"{resolve_path(args.scenario)}: ok ({p.n_customers} customers, {p.n_salespeople} "
        f"salespeople, {p.n_firms} firms, {scenario.run.steps} steps)"
    )
    return 0


def cmd_params(args: argparse.Namespace) -> int:
    from trustsim.params import describe, iter_fields, keyword_of

    for section, key, finfo in iter_fields():
        print(
            f"{section}.{key} = {finfo.default!r}  [{describe(section, key)}]  {finfo.description}"
            f"  (Python: TrustModel({keyword_of(section, key)}=...))"
        )
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    from trustsim.metrics import METRIC_HELP, METRICS, RUN_METRIC_HELP

    for name in METRICS[1:]:
        print(f"{name}: {METRIC_HELP[name]}")
    for name, help in RUN_METRIC_HELP.items():
        print(f"{name}: {help} (one number per run)")
    return 0


class Parser(argparse.ArgumentParser):
    """argparse with a usage error as one line (the command, the problem, where the help
    is) and exit status 2; sub-command parsers are of this class too."""

    def error(self, message: str):
        print(f"error: {self.prog}: {message} (see `{self.prog} --help`)", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="trustsim", description=DESCRIPTION)
    from trustsim import __version__

    parser.add_argument("--version", action="version", version=f"trustsim {__version__}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run(sub)
    _add_validate(sub)
    _add_lists(sub)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    for command in sub.choices.values():  # every command, also those registered above
        command.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP
        )
    return parser


DEBUG_HELP = "show the traceback of an error (also: TRUSTSIM_DEBUG=1)"


def internal_error(exc: BaseException, debug: bool = False) -> str:
    """The one line for an unexpected exception; its traceback goes to a log file (with
    ``debug`` it was printed above instead)."""
    cause = str(exc).splitlines()[0] if str(exc) else ""
    what = f"internal error: {type(exc).__name__}{': ' + cause if cause else ''}"
    if debug:
        return f"{what} (traceback above); please report it"
    text = "".join(traceback.format_exception(exc))
    where = ""
    try:
        fd, log = tempfile.mkstemp(prefix="trustsim-error-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
            fh.write(f"trustsim {' '.join(sys.argv[1:])}\n{text}")
        where = f" (traceback in {log})"
    except (OSError, UnicodeError):
        pass
    return f"{what}{where}; run again with --debug for the traceback, and please report it"


def _release_quietly(exc: BaseException) -> None:
    """Free the failed command's objects now, ignoring errors in their finalizers (e.g. an
    image writer whose file could not be opened fails again in ``__del__``): the one line
    already says what went wrong, and a second traceback at exit would bury it."""
    previous = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        traceback.clear_frames(exc.__traceback__)
        gc.collect()
    finally:
        sys.unraisablehook = previous


def _quiet_broken_pipe() -> None:
    """Output piped into e.g. ``head`` that stopped reading: not an error worth a line."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    """Parse, run the command, and turn every way it can fail into one line and a status:
    TrustsimError (its own status), Ctrl-C (130), an OSError nobody translated (73/74), a
    bug (70). Commands registered by other modules get the same for free."""
    for stream in (sys.stdout, sys.stderr):  # a path that is not valid UTF-8 is still said
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        with sigterm_as_interrupt():
            return func(args)
    except BaseException as exc:
        if isinstance(exc, SystemExit):
            raise
        return report(exc, args.command, getattr(args, "debug", False) or debug_wanted())


def report(exc: BaseException, command: str = "", debug: bool = False) -> int:
    """Print the line(s) for ``exc`` on stderr (after its traceback with ``debug``) and
    return its exit status."""
    if debug and not isinstance(exc, BrokenPipeError):
        traceback.print_exception(exc, file=sys.stderr)
    else:
        _release_quietly(exc)
    if isinstance(exc, BrokenPipeError):
        _quiet_broken_pipe()
        return 0
    if isinstance(exc, OSError):  # one that no command translated: say what we know
        exc = FileError.from_os(exc, f"trustsim {command}".strip())
    if isinstance(exc, TrustsimError):
        for line in str(exc).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return exc.exit_status
    if isinstance(exc, KeyboardInterrupt):
        print(str(exc) or "interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if interrupt_in(exc):  # Ctrl-C that compiled code or a library wrapped in its own error
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if isinstance(exc, Exception):
        print(internal_error(exc, debug), file=sys.stderr)
        return EXIT_INTERNAL
    raise exc


if __name__ == "__main__":
    sys.exit(main())
