"""``trustsim sweep``, ``trustsim sensitivity`` and ``trustsim plot``, registered into the
CLI by :mod:`trustsim.cli`. Handlers parse arguments and print; the work is in the modules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trustsim.analysis.sweep.experiment import EXPERIMENT_DIR
from trustsim.errors import EXIT_FAILED, EXIT_INTERRUPTED, UsageError, output_errors
from trustsim.runtime.files import out_path
from trustsim.runtime.memory import add_max_memory


def _add_execution(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "experiment",
        help=f"an experiment TOML file or a shipped name from "
        f"{EXPERIMENT_DIR.parent.name}/{EXPERIMENT_DIR.name}/",
    )
    p.add_argument(
        "--out", type=out_path, help="sweep folder (default: out/sweeps/<experiment name>)"
    )
    p.add_argument("--workers", type=int, help="local worker processes (default: one per core)")
    p.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run on an existing dask.distributed scheduler, e.g. tcp://10.0.0.5:8786",
    )
    p.add_argument(
        "--batch", type=int, help="runs per task (default: sized to about a second of work)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress display")
    add_max_memory(p)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep",
        help="run an experiment: every design point x replicate",
        description="Run EXPERIMENT on the core engine into DIR/runs.parquet. "
        "Run it again after a kill or Ctrl-C to finish the missing runs.",
    )
    _add_execution(p)
    p.add_argument(
        "--dry-run", action="store_true", help="validate and print the plan, run nothing"
    )
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser(
        "sensitivity",
        help="Morris or Sobol indices of an experiment's metrics",
        description="Run (or resume) a morris or sobol EXPERIMENT, then write "
        "DIR/sensitivity.csv, .parquet and a bar chart sensitivity.png.",
    )
    _add_execution(p)
    p.set_defaults(func=cmd_sensitivity)

    p = sub.add_parser(
        "plot",
        help="standard figures of a finished sweep",
        description="Figures of DIR/runs.parquet into DIR/figures/: each metric "
        "against a parameter with replicate spread, and a heatmap "
        "over two parameters.",
    )
    p.add_argument("dir", type=Path, help="a sweep folder")
    p.add_argument(
        "--metric", action="append", help="metric to plot (repeatable; default: all kept)"
    )
    p.add_argument("--x", help="parameter on the x axis (default: the first varied one)")
    p.add_argument(
        "--y", help="second parameter: line colour and heatmap rows (default: the second)"
    )
    p.set_defaults(func=cmd_plot)
    _add_calibrate(sub)


def _add_calibrate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate",
        help="fit free parameters to published targets (ABC-SMC with pyabc)",
        description="Calibrate TARGETS (a targets TOML file or a shipped name from "
        "scenarios/targets/) into DIR: posterior.parquet, calibrated.toml, report.md and "
        "report.html. Run it again after a kill or Ctrl-C to continue. docs/CALIBRATION.md.",
    )
    p.add_argument("targets", nargs="?", help="targets file, e.g. stylized_facts")
    p.add_argument("--out", type=out_path, help="folder (default: out/calibrations/<id>)")
    p.add_argument("--budget", type=int, help="most model runs (default: the file's budget)")
    p.add_argument("--workers", type=int, help="local worker processes (default: one per core)")
    p.add_argument("--cluster", metavar="ADDRESS", help="dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--quick", action="store_true", help="small budget (the file's quick_budget)")
    p.add_argument(
        "--prior-check",
        action="store_true",
        help="only check what the model can reach across the priors (no fitting)",
    )
    p.add_argument(
        "--draws",
        type=int,
        default=None,
        help="prior draws of --prior-check (default: calibration.prior_check_draws)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument(
        "--list-statistics", action="store_true", help="list the statistics a target may name"
    )
    p.set_defaults(func=cmd_calibrate)

    from trustsim.analysis.realdata.commands import register as register_realdata
    from trustsim.analysis.studies.commands import register as register_study

    register_study(sub)
    register_realdata(sub)


def _run(args: argparse.Namespace):
    """Run or resume the sweep, translating interruption and failure into exit codes."""
    from trustsim.analysis.sweep.executors import machine_workers, start_workers_early
    from trustsim.analysis.sweep.experiment import Experiment
    from trustsim.analysis.sweep.load import load_experiment

    experiment = args.experiment  # sensitivity has loaded it already
    if not isinstance(experiment, Experiment):
        experiment = load_experiment(experiment)  # bad input stops here, nothing started
    workers = machine_workers() if args.workers is None else args.workers
    if args.cluster is None and workers > 1:
        start_workers_early()  # loads while this process imports and plans
    from trustsim.analysis.sweep.driver import Interrupted, SweepError, execute

    try:
        report = execute(
            experiment,
            args.out,
            workers=args.workers,
            cluster=args.cluster,
            batch=args.batch,
            progress=not args.quiet,
            max_memory=args.max_memory,
        )
    except Interrupted as exc:
        print(str(exc), file=sys.stderr)
        return None, EXIT_INTERRUPTED
    except SweepError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None, EXIT_FAILED
    kept = len(report.runs) - report.new_runs
    rate = (
        f", {report.seconds:.1f} s on {report.workers} workers ({report.rate:,.1f} runs/s "
        f"with start-up)"
        if report.new_runs
        else ""
    )
    print(
        f"{len(report.runs)} runs ({report.new_runs} new, {kept} kept){rate} -> "
        f"{report.out / 'runs.parquet'}"
    )
    return report, 0


def cmd_sweep(args: argparse.Namespace) -> int:
    if args.dry_run:
        from trustsim.analysis.sweep.design import largest_run, plan
        from trustsim.analysis.sweep.load import load_experiment
        from trustsim.runtime.memory import estimate, format_size

        exp = load_experiment(args.experiment)
        full = plan(exp)
        need = estimate(largest_run(exp, full))
        print(
            f"{exp.path}: ok ({exp.method} design, {full['point_id'].nunique()} points x "
            f"{exp.spec.runs.replicates} replicates = {len(full)} runs; varies "
            f"{', '.join(exp.names)}; at most {format_size(need.total)} of memory per run)"
        )
        return 0
    return _run(args)[1]


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from trustsim.analysis.sweep.load import load_experiment
    from trustsim.analysis.sweep.sensitivity import (
        SENSITIVITY_METHODS,
        analyze,
        save_outputs,
        summary,
    )

    exp = load_experiment(args.experiment)
    if exp.method not in SENSITIVITY_METHODS:
        raise UsageError(
            f"{exp.path}: design.method = {exp.method!r}: sensitivity needs a "
            f"{' or '.join(SENSITIVITY_METHODS)} design"
        )
    args.experiment = exp
    report, code = _run(args)
    if report is None:
        return code
    table = analyze(exp, report.runs)
    with output_errors(
        "saving the sensitivity indices",
        kept=f"all {len(report.runs)} runs are kept in {report.out}",
    ):
        paths = save_outputs(table, exp, report.out)
    print(summary(table, exp).to_string())
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from trustsim.analysis.sweep.plots import standard_figures

    with output_errors("drawing the figures", kept=f"the runs in {args.dir} are untouched"):
        paths = standard_figures(args.dir, metrics=args.metric, x=args.x, y=args.y)
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    if args.list_statistics:
        from trustsim.analysis.measures import statistics

        for name, text in statistics.describe():
            print(f"{name}: {text}")
        print("... and every metric by name (its window mean): `trustsim metrics`")
        return 0
    if not args.targets:
        raise UsageError("trustsim calibrate: name a targets file, e.g. stylized_facts")
    if args.prior_check:
        from trustsim.analysis.calibration.abc import check_priors

        check, path = check_priors(
            args.targets, args.out, draws=args.draws, workers=args.workers, cluster=args.cluster
        )
        print("\n".join(check.lines()))
        print(f"-> {path}")
        return 0
    from trustsim.analysis.calibration.abc import calibrate
    from trustsim.analysis.calibration.posterior import STOPS

    o = calibrate(
        args.targets,
        args.out,
        budget=args.budget,
        workers=args.workers,
        cluster=args.cluster,
        quick=args.quick,
        progress=not args.quiet,
    )
    unreachable = [c.name for c in o.check.unreachable]
    if unreachable:
        print(f"UNREACHABLE across the priors (prior check): {', '.join(unreachable)}")
    unmovable = [n for n, s in o.screen.items() if not s["movable"]]
    if unmovable:
        print(f"not movable by the priors' parameters, not fitted: {', '.join(unmovable)}")
    print(f"replicates per draw: {o.plan.replicates_why}")
    print(f"stopped: {STOPS[o.stopped]}")
    print(
        f"{o.generations} generations, {o.simulations} draws, {o.seconds:.0f} s"
        f"{' (resumed)' if o.resumed else ''} -> {o.out / 'report.html'}"
    )
    return 0
