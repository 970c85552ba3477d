"""Write the results table of a finished study folder into README.md (between markers).

    .venv/bin/trustsim study --out out/studies          # the full run (about 10-20 min)
    .venv/bin/python docs/studies_table.py out/studies  # then refresh the README table

The table is rendered by the report's own formatter (trustsim.analysis.studies.report), so
it is the table of DIR/summary.csv; refusing a --quick folder keeps quick verdicts out of
the README.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from trustsim.analysis.studies.report import MARK, fmt

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- studies-table:start -->", "<!-- studies-table:end -->"
COLUMNS = [
    ("hypothesis", "H"), ("id", "study"), ("verdict", "verdict"), ("kind", "kind"),
    ("effect", "effect"), ("ci_low", "CI low"), ("ci_high", "CI high"), ("sesoi", "sesoi"),
    ("manipulation", "manipulation"), ("dose_slope", "dose slope"),
    ("robust_share", "robust share"), ("robust_ci_low", "(Wilson low"),
    ("robust_ci_high", "high)"),
]  # fmt: skip


def table(folder: Path) -> str:
    summary = pd.read_csv(folder / "summary.csv", keep_default_na=False, na_values=[""])
    meta = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    if meta["quick"]:
        sys.exit(f"{folder}: a --quick run; the README shows a full run")
    lines = ["| " + " | ".join(h for _, h in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in summary.to_dict("records"):
        cells = [fmt(row[c]) for c, _ in COLUMNS]
        cells[2] = f"{MARK[row['verdict']]} {row['verdict']}"
        lines.append("| " + " | ".join(cells) + " |")
    level = 100 * float(summary["ci_level"].iloc[0])
    lines.append(
        f"\nIntervals at the simultaneous level {level:.3g} % (1 − 0.05/{len(summary)}). "
        f"Full run: {meta['runs']} runs, {meta['wall_seconds']:.0f} s on {meta['workers']} "
        f"workers, trustsim {meta['trustsim']}, commit `{(meta['git_commit'] or '?')[:10]}`, "
        f"{meta['finished']}."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a finished `trustsim study` folder")
    args = parser.parse_args()
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        sys.exit(f"{README}: markers {START} ... {END} not found")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n{table(args.folder)}\n{END}{tail}", encoding="utf-8")
    print(f"wrote the table of {args.folder} into {README}")


if __name__ == "__main__":
    main()
