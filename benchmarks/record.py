"""What a benchmark writes beside its printout: benchmarks/results/<name>.json.

Each file holds the figures and what they depend on: the machine (CPU model, cores,
memory), the load average before and after (the machine may be shared), the date, the
command, and the trustsim version and git commit measured (with whether the tree had
uncommitted changes). docs/PERFORMANCE.md is rendered from these files
(benchmarks/performance_doc.py), so every figure there can be traced to one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (/proc/loadavg)."""
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) * 1024 / 2**30, 1)
    return float("nan")


def machine() -> dict[str, object]:
    return {"cpu": _cpu_model(), "cores": os.cpu_count(), "memory_gib": _memory_gib()}


def _tree_clean() -> bool | None:
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--", "sim", "analysis", "benchmarks/*.py"],
            cwd=RESULTS.parent.parent,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() == ""


def script_name(argv0: str | None = None) -> str:
    """The running script as the repository names it (benchmarks/x.py), however started."""
    path = Path(argv0 or sys.argv[0]).resolve()
    root = RESULTS.parent.parent
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()


class Recorder:
    """Notes the load and time at its creation; ``write`` stores the figures with them."""

    def __init__(self, name: str) -> None:
        from trustsim.runtime.provenance import provenance

        self.name = name
        self.load_before = load_average()
        self.started = dt.datetime.now(dt.UTC)
        self.provenance = provenance()  # the code measured: as it is at the start
        self.tree_clean = _tree_clean()

    def write(self, figures: dict[str, object], folder: Path = RESULTS) -> Path:
        prov = self.provenance
        record = {
            "benchmark": self.name,
            "command": " ".join([script_name(), *sys.argv[1:]]),
            "date": self.started.isoformat(timespec="seconds"),
            "seconds": round((dt.datetime.now(dt.UTC) - self.started).total_seconds(), 1),
            "machine": machine(),
            "load_before": self.load_before,
            "load_after": load_average(),
            "trustsim": prov["trustsim"],
            "git_commit": prov["git_commit"],
            "tree_clean": self.tree_clean,
            "threads": os.environ.get("TRUSTSIM_THREADS", "1"),
            "figures": figures,
        }
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.name}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)
        print(f"results: {path}")
        return path


def finish(recorder: Recorder, figures: dict[str, object]) -> None:
    """Write the results file and re-render docs/PERFORMANCE.md from all of them."""
    recorder.write(figures)
    from performance_doc import render_file

    render_file()
