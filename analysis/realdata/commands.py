"""``trustsim data cdnow`` and ``trustsim predict cdnow``, registered by
:mod:`trustsim.analysis.commands`. docs/REAL_DATA.md."""

from __future__ import annotations

import argparse
from pathlib import Path

from trustsim.errors import UsageError, output_errors, warn

DATASETS = ("cdnow",)


def _add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", choices=DATASETS, help="the panel (cdnow)")
    p.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help="a folder with CDNOW_sample.txt (or CDNOW_master.txt) of the same format "
        "(default: the copy in the lifetimes wheel, the 'data' extra)",
    )
    p.add_argument(
        "--master",
        action="store_true",
        help="the full 23,570-customer master file instead of the 2,357-customer sample",
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "data",
        help="load a real customer panel (CDNOW) and write its calibration targets",
        description="Load the CDNOW panel, print what it holds and the calibration/"
        "hold-out split (end of 30 September 1997); with --write-targets, write a targets "
        "file for `trustsim calibrate` computed from weeks 1-39 only. docs/REAL_DATA.md.",
    )
    _add_data_options(p)
    p.add_argument(
        "--write-targets",
        type=Path,
        metavar="FILE",
        help="write the weeks 1-39 calibration targets (TOML) to FILE",
    )
    p.add_argument(
        "--model",
        default="trust",
        help="the model the targets file fits: trust alone (default), or heterogeneous "
        "(customers also differ in purchase rate and spend and may leave the market)",
    )
    p.set_defaults(func=cmd_data)

    p = sub.add_parser(
        "predict",
        help="predict a real panel's weeks 40-78 with the model, beside BG/NBD",
        description="Run the calibrated cohort scenario on several seeds, scaled to the "
        "panel's cohort, and write tracking.csv, conditional.csv, histogram.csv, "
        "errors.csv, figures and report.html into DIR. docs/REAL_DATA.md.",
    )
    _add_data_options(p)
    p.add_argument(
        "--scenario",
        help="the cohort scenario: a TOML file or a shipped name from scenarios/realdata/ "
        "(default: cdnow, the calibrated one; cdnow_market: the baseline market)",
    )
    p.add_argument("--seeds", type=int, help="model runs, one per seed (default: 10; 1 to 1000)")
    p.add_argument("--out", type=Path, help="folder (default: out/predict/cdnow)")
    p.set_defaults(func=cmd_predict)


def _panel(args: argparse.Namespace):
    from trustsim.analysis.realdata import cdnow

    return cdnow.load(args.data, "master" if args.master else "sample")


def cmd_data(args: argparse.Namespace) -> int:
    from trustsim.analysis.realdata import cdnow
    from trustsim.analysis.realdata.targets import MODELS, targets_text
    from trustsim.runtime.files import atomic_write

    if args.model not in MODELS:
        raise UsageError(f"--model {args.model}: no such model; choose one of {', '.join(MODELS)}")
    if args.model != "trust" and args.write_targets is None:
        warn(f"--model {args.model} is read only with --write-targets; no targets file written")
    panel = _panel(args)
    print("\n".join(cdnow.describe(panel)))
    if args.write_targets is not None:
        text = targets_text(panel, args.write_targets, args.model)
        with output_errors("writing the targets file", args.write_targets):
            atomic_write(args.write_targets, lambda p: p.write_text(text, encoding="utf-8"))
        print(f"targets (weeks 1-39 only) -> {args.write_targets}")
    return 0


DEFAULT_SCENARIO = "cdnow"
MAX_SEEDS = 1000


def scenario_path(name: str) -> Path:
    """A path as given, a shipped cohort scenario of scenarios/realdata/ by name, or any
    other shipped scenario by name."""
    from trustsim.loader import SCENARIO_DIR, resolve_path

    shipped = resolve_path(name, SCENARIO_DIR / "realdata")
    return shipped if shipped.is_file() else resolve_path(name)


def cmd_predict(args: argparse.Namespace) -> int:
    from trustsim.analysis.realdata.predict import DEFAULT_SEEDS
    from trustsim.analysis.realdata.report import predict_and_write
    from trustsim.loader import load_scenario
    from trustsim.runtime.files import make_folder

    seeds = DEFAULT_SEEDS if args.seeds is None else args.seeds
    if not 1 <= seeds <= MAX_SEEDS:
        raise UsageError(
            f"--seeds {seeds}: give a whole number from 1 to {MAX_SEEDS} (the report uses 10)"
        )
    source = scenario_path(args.scenario or DEFAULT_SCENARIO)
    scenario = load_scenario(source, ["run.history=true"])
    panel = _panel(args)
    out = args.out or Path("out") / "predict" / "cdnow"
    make_folder(out, "creating the prediction's folder")
    paths, ratios, seconds = predict_and_write(panel, scenario, str(source), seeds, out)
    print(
        f"model / BG/NBD (published parameters): hold-out MAPE x{ratios['holdout_mape_pct']:.2f}, "
        f"conditional MAE x{ratios['conditional_mae']:.2f} ({seeds} seeds, {seconds:.0f} s)"
    )
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0
