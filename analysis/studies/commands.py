"""``trustsim study``: argument parsing and printing; the work is in study_run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trustsim.errors import EXIT_FAILED, EXIT_INTERRUPTED


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "study",
        help="test hypotheses: replicated contrasts with intervals, ablation, robustness",
        description="Run hypothesis studies (scenarios/studies/*.toml; none named: all "
        "shipped) through the sweep machinery into DIR, then write DIR/summary.csv, "
        "studies.parquet, replicates.parquet, report.md and report.html. Run the same "
        "command again after a kill or Ctrl-C to finish the missing runs.",
    )
    p.add_argument("studies", nargs="*", metavar="STUDY", help="a study TOML file or shipped id")
    p.add_argument("--out", type=Path, help="study folder (default: out/studies[-quick])")
    p.add_argument("--replicates", type=int, help="replicates per arm (overrides the files)")
    p.add_argument("--workers", type=int, help="local worker processes (default: one per core)")
    p.add_argument("--cluster", metavar="ADDRESS", help="a dask scheduler, e.g. tcp://HOST:8786")
    p.add_argument(
        "--quick",
        action="store_true",
        help="reduced version for CI and new files: at most 6 replicates, 8 robustness "
        "points x 1 replicate, half-length runs (the report says so)",
    )
    p.add_argument("--list-statistics", action="store_true", help="print the named statistics")
    p.add_argument("--dry-run", action="store_true", help="validate and print the plan only")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=cmd_study)


def _list_statistics() -> int:
    from trustsim.analysis.measures.statistics import describe
    from trustsim.metrics import METRICS

    width = max(len(n) for n, _ in describe())
    for name, text in describe():
        print(f"{name:<{width}}  {text}")
    print(
        f"\nand every metric ({', '.join(METRICS[1:4])}, ...; `trustsim metrics`) as its window mean"
    )
    return 0


def cmd_study(args: argparse.Namespace) -> int:
    if args.list_statistics:
        return _list_statistics()
    from trustsim.analysis.studies.spec import load_studies

    studies = load_studies(args.studies, args.quick, args.replicates)
    if args.dry_run:
        for s in studies:
            sizes = s.sizes(args.quick, args.replicates)
            print(f"{s.path}: ok ({s.n_runs(sizes)} runs: {sizes})")
        return 0
    from trustsim.analysis.studies.run import run_studies
    from trustsim.analysis.sweep.driver import Interrupted, SweepError

    try:
        report = run_studies(
            args.studies,
            args.out,
            quick=args.quick,
            replicates=args.replicates,
            workers=args.workers,
            cluster=args.cluster,
            progress=not args.quiet,
        )
    except Interrupted as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INTERRUPTED
    except SweepError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    cols = ["id", "effect", "ci_low", "ci_high", "sesoi", "manipulation", "dose_slope", "verdict"]
    print(report.summary[cols].to_string(index=False))
    print(
        f"wrote {report.out / 'report.html'}, report.md, summary.csv ({report.meta['runs']} runs)"
    )
    return 0
