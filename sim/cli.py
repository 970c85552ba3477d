"""The ``trustsim`` command line: run, validate, params, metrics, and the commands that
other packages register (sweeps, the classroom app).

Bad input exits with status 2 and one line per problem, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from pathlib import Path

from .errors import EXIT_INTERRUPTED, TrustsimError
from .loader import DEFAULT_SCENARIO, SCENARIO_DIR, load_scenario, resolve_path
from .memory import add_max_memory

# Modules that add sub-commands: each has ``register(subparsers)``; missing ones are skipped.
COMMAND_MODULES = ("trustsim.analysis.commands", "trustsim.classroom.commands")


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
    p.add_argument("--out", type=Path, help="output folder (default: out/<scenario name>)")
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
    from .memory import check_run
    from .report import FigureWorker, print_summary
    from .run import simulate, write_run

    scenario = load_scenario(args.scenario, _overrides(args))
    source = resolve_path(args.scenario)
    check_run(scenario, args.engine, max_memory=args.max_memory, what=f"{source}: this run")
    out = args.out or Path("out") / source.stem
    figure = None if args.no_figure else FigureWorker()  # loads matplotlib meanwhile
    try:
        result = simulate(scenario, engine=args.engine)
        paths = write_run(result, out, str(source))
        if figure is not None:
            paths["figure"] = figure.save(result, out / "trust.png")
    finally:
        if figure is not None:
            figure.close()
    print_summary(result, paths)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    p = scenario.population
    print(
        f"{resolve_path(args.scenario)}: ok ({p.n_customers} customers, {p.n_salespeople} "
        f"salespeople, {p.n_firms} firms, {scenario.run.steps} steps)"
    )
    return 0


def cmd_params(args: argparse.Namespace) -> int:
    from .params import describe, iter_fields

    for section, key, finfo in iter_fields():
        print(
            f"{section}.{key} = {finfo.default!r}  [{describe(section, key)}]  {finfo.description}"
        )
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    from .metrics import METRIC_HELP, METRICS

    for name in METRICS[1:]:
        print(f"{name}: {METRIC_HELP[name]}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trustsim", description=__doc__.splitlines()[0])
    from . import __version__

    parser.add_argument("--version", action="version", version=f"trustsim {__version__}")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except TrustsimError as exc:
        for line in str(exc).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
