"""Write the tables of docs/PERFORMANCE.md from the results files in benchmarks/results/.

    .venv/bin/python benchmarks/performance_doc.py           # re-render the document
    .venv/bin/python benchmarks/performance_doc.py --check   # exit 1 if it is out of date

Every benchmark calls this itself after writing its file, so re-running a benchmark is one
command. The document keeps its prose; each table sits between a pair of markers
``<!-- results:NAME -->`` ... ``<!-- /results -->`` and is made from
benchmarks/results/NAME.json alone, with a line saying where, when and on what machine
under what load it was measured. A missing file renders as the command that makes it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DOC = HERE.parent / "docs" / "PERFORMANCE.md"
BLOCK = re.compile(r"(<!-- results:(\w+) -->\n)(.*?)(<!-- /results -->)", re.S)
COMMANDS = {
    "engines": "benchmarks/bench_engines.py",
    "sweep": "benchmarks/bench_sweep.py --runs 10000",
    "scale_table": "benchmarks/bench_scale.py --only table --figure docs/img/scale.png",
    "scale_target": "benchmarks/bench_scale.py --only target",
    "scale_sweep": "benchmarks/bench_scale.py --only sweep",
    "scale_start": "benchmarks/bench_scale.py --only start",
    "scale_calibrate": "benchmarks/bench_scale.py --only calibrate",
}


def gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


def power(n: int) -> str:
    """10^3, 3x10^4: a market size as the tables write it."""
    exp = len(str(n)) - 1
    lead = n // 10**exp
    return f"10^{exp}" if lead == 1 and n % 10**exp == 0 else f"{n / 10**exp:g}x10^{exp}"


def load(values: list[float]) -> str:
    return " / ".join(f"{v:.1f}" for v in values)


def source(rec: dict) -> str:
    """Where a table's figures come from: command, date, commit, machine, load."""
    m = rec["machine"]
    commit = (rec.get("git_commit") or "?")[:10]
    dirty = "" if rec.get("tree_clean") else " with uncommitted changes"
    return (
        f"*Measured by `.venv/bin/python {rec['command']}` on {rec['date'][:10]} "
        f"(trustsim {rec['trustsim']}, commit `{commit}`{dirty}; {m['cpu']}, {m['cores']} "
        f"cores, {m['memory_gib']:g} GiB; load average (1 / 5 / 15 min) "
        f"{load(rec['load_before'])} before, {load(rec['load_after'])} after; "
        f"`TRUSTSIM_THREADS={rec['threads']}` unless a row says otherwise). "
        f"File: `benchmarks/results/{rec['benchmark']}.json`.*"
    )


def table(head: list[str], rows: list[list[str]], right: int = 1) -> list[str]:
    """A Markdown table; columns from ``right`` on are right-aligned."""
    align = ["---" if i < right else "---:" for i in range(len(head))]
    return [
        "| " + " | ".join(head) + " |",
        "| " + " | ".join(align) + " |",
        *["| " + " | ".join(r) + " |" for r in rows],
    ]


def per_second(rate: float) -> str:
    """12.34 M, 149 k: a rate with its digits kept at either scale."""
    return f"{rate / 1e6:.2f} M" if rate >= 1e6 else f"{rate / 1e3:.0f} k"


def engines(f: dict) -> list[str]:
    rows = [
        [r["engine"], f"{r['seconds']:.2f} s", per_second(r["rate"]), f"{r['vs_mesa']:.0f}x"]
        for r in f["engines"]
    ]
    same = "identical" if f["identical"] else "**not identical**"
    return [
        f"{f['customers']:,} customers x {f['steps']} steps, baseline otherwise, seed "
        f"{f['seed']}; the outputs of all three runs are {same}.",
        "",
        *table(["engine", "time", "customer-steps/s", "vs Mesa"], rows),
        "",
        f"Warm start of `trustsim run` (baseline, 200 steps, figure included, median of 3): "
        f"{f['warm_start_s']:.2f} s.",
    ]


def scale_table(f: dict) -> list[str]:
    rows = []
    for r in f["rows"]:
        size = [power(r["n"]), f"{r['ns']:,}", str(r["steps"])]
        if "error" in r:
            rows.append([*size, "failed: " + r["error"], *[""] * 7])
            continue
        ran = "ns_per_cs" in r
        rows.append(
            [
                *size,
                f"{r['build_s']:.2f} s",
                f"{r['ns_per_cs']:.0f}" if ran else "refused",
                gib(r["peak"]) if ran else gib(r["build_peak"]) + " (build)",
                gib(r["estimate"]) if "estimate" in r else "-",
                f"{r['roofline_ns']:.1f} ns",
                f"{r['roofline_ns'] / r['ns_per_cs']:.2f}" if ran else "-",
                f"{r['triad_gbs']:.0f} GB/s",
                f"{r['load'][0]:.1f}",
            ]
        )
    head = [
        "customers", "salespeople", "steps", "world build", "ns per customer-step",
        "peak memory", "guard's estimate", "roofline kernel", "fraction of roofline",
        "triad", "load after",
    ]  # fmt: skip
    w = f["work"]
    return [
        f"{f['per_salesperson']} customers per salesperson, {f['firms']} firms, baseline "
        "otherwise; each size in its own process. Work counted per customer-step in the long "
        "run (baseline, 200 customers): "
        + ", ".join(f"{k.replace('_', ' ')} {v:.2f}" for k, v in w.items())
        + ".",
        "",
        *table(head, rows),
    ]


def scale_target(f: dict) -> list[str]:
    lines = []
    for label, r in (("target run", f["target"]), ("schema maxima", f["maxima"])):
        what = f"{r['n']:,} customers x {r['ns']:,} salespeople x {r['firms']} firms x "
        what += f"{r['steps']:,} steps, `TRUSTSIM_THREADS=2`"
        if "run_s" in r:
            lines.append(
                f"- {label} ({what}): world build {r['build_s']:.1f} s, simulation "
                f"{r['run_s']:.0f} s ({r['ns_per_cs']:.0f} ns per customer-step), peak memory "
                f"{gib(r['peak'])}; load average after {r['load'][0]:.1f}."
            )
        elif "exit_status" in r:
            lines.append(
                f"- {label} ({what}): refused by the memory guard in {r['guard_s']:.2f} s, "
                f"exit status {r['exit_status']}: `{r['message']}`"
            )
        else:
            lines.append(f"- {label} ({what}): {r.get('error') or r.get('refused')}")
    for b in f["builds"]:
        lines.append(
            f"- world build alone, {b['n']:,} customers: {b['build_s']:.2f} s, "
            f"{b['ties']:,} ties, peak {gib(b['peak'])}; load average after {b['load'][0]:.1f}."
        )
    return lines


def scale_sweep(f: dict) -> list[str]:
    return [
        f"{f['runs']} runs of {f['customers']:,} customers x {f['steps']} steps on "
        f"{f['workers']} workers: {f['wall_s']:.1f} s, **{f['runs_per_s']:.1f} runs/s** end to "
        f"end (exit status {f['exit_status']}). The command's own line: `{f['summary']}`"
    ]


def sweep(f: dict) -> list[str]:
    where = "a dask cluster" if f["cluster"] else "local"
    return [
        f"{f['runs']:,} runs of {f['customers']} customers x {f['steps']} steps on "
        f"{f['workers']} {where} workers: {f['wall_s']:.1f} s, **{f['runs_per_s']:.0f} runs/s** "
        f"end to end ({f['after_planning_runs_per_s']:.0f} runs/s after planning). The model "
        f"alone in one process: {f['model_ms_per_run']:.2f} ms per run, so "
        f"{f['workers'] / f['model_ms_per_run'] * 1000:.0f} runs/s on {f['workers']} ideal "
        f"workers; {f['simulating_share']:.0%} of worker time is simulation (the rest: "
        "process start-up, scheduling, validation, result tables, chunk writing)."
    ]


def scale_start(f: dict) -> list[str]:
    times = ", ".join(f"{t:.2f}" for t in f["times_s"])
    return [
        f"Warm start of `trustsim run` (baseline, 200 steps, figure included): median "
        f"**{f['median_s']:.2f} s**, min {f['min_s']:.2f} s (runs: {times} s); a bare "
        f"`python -c pass` takes {f['bare_interpreter_s']:.2f} s on the same machine."
    ]


def scale_calibrate(f: dict) -> list[str]:
    rows = []
    for r in f["rows"]:
        size = [r["engine"], f"{r['n']:,}", f"{r['ns']:,}", f"{r['steps']:,}"]
        size.append("yes" if r["history"] else "no")
        if "error" in r:
            rows.append([*size, "failed: " + r["error"], "", ""])
            continue
        ratio = r["estimate"] / r["peak"]
        rows.append([*size, gib(r["peak"]), gib(r["estimate"]), f"{ratio:.2f}x"])
    head = ["engine", "customers", "salespeople", "steps", "event log"]
    return table([*head, "peak RSS", "estimate", "estimate / peak"], rows, right=1)


RENDER: dict[str, Callable[[dict], list[str]]] = {
    "engines": engines,
    "scale_table": scale_table,
    "scale_target": scale_target,
    "scale_sweep": scale_sweep,
    "sweep": sweep,
    "scale_start": scale_start,
    "scale_calibrate": scale_calibrate,
}


def block(name: str, folder: Path = RESULTS) -> str:
    """The Markdown between the markers of ``name``: its figures and their source."""
    if name not in RENDER:
        raise SystemExit(f"{DOC}: unknown results block {name!r}; known: {', '.join(RENDER)}")
    path = folder / f"{name}.json"
    if not path.exists():
        return f"*Not measured yet: run `.venv/bin/python {COMMANDS[name]}`.*\n"
    rec = json.loads(path.read_text(encoding="utf-8"))
    return "\n".join([*RENDER[name](rec["figures"]), "", source(rec)]) + "\n"


def render(text: str, folder: Path = RESULTS) -> str:
    """``text`` with every results block re-made from the files in ``folder``."""
    return BLOCK.sub(lambda m: m.group(1) + block(m.group(2), folder) + m.group(4), text)


def render_file(doc: Path = DOC) -> bool:
    """Re-render ``doc`` in place; whether it changed."""
    old = doc.read_text(encoding="utf-8")
    new = render(old)
    if new != old:
        doc.write_text(new, encoding="utf-8")
        print(f"re-rendered {doc}")
    return new != old


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only say whether the doc is current")
    args = ap.parse_args()
    if args.check:
        current = render(DOC.read_text(encoding="utf-8")) == DOC.read_text(encoding="utf-8")
        print(f"{DOC}: {'up to date' if current else 'out of date; run without --check'}")
        sys.exit(0 if current else 1)
    render_file()


if __name__ == "__main__":
    main()
