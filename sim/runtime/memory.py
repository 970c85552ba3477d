"""The memory guard: a run's memory, estimated from its sizes before anything is allocated.

A run that does not fit must stop with one line naming the estimate, the limit and the
sizes to lower, not be killed by the kernel's out-of-memory killer minutes later (or
leave a numpy traceback). :func:`estimate` is the one place that knows how much memory
each part of a run takes; when the storage of relationships changes, it is the function
to update (and ``benchmarks/bench_scale.py --calibrate`` the check that it still holds).

The limit is the smallest of ``--max-memory`` (or ``TRUSTSIM_MAX_MEMORY``), the memory
the kernel says is available (``MemAvailable``) and what the process's cgroup still
allows. Sweeps, studies and calibration check ``per run x workers`` with
:func:`check_runs`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trustsim.core import layout as rellayout
from trustsim.errors import ScenarioError
from trustsim.metrics import COUNTERS, LOG_COLUMNS, MEANS
from trustsim.params import Scenario, flat

ENV_LIMIT = "TRUSTSIM_MAX_MEMORY"

# ---- calibration (benchmarks/bench_scale.py --calibrate measures these against peak RSS)
BASE_BYTES = 320 * 2**20  # interpreter, numpy, numba, pandas, pyarrow, compiled kernels
# Log slots per customer and step in the core (trustsim.core.layout says which).
LOG_SLOTS = rellayout.LOG_SLOTS
# The core keeps relationships in per-customer blocks of 64-byte records that grow with
# the relationships that exist (trustsim.core.relstore; it knows its own bound).
# Per customer, core engine: world arrays, state, and the per-step scratch arrays
# (about twenty customer-sized arrays in kernel.step), plus org trust per firm.
CORE_BYTES_PER_CUSTOMER = 400
ORG_BYTES = 8  # per customer and firm
# Ties: the CSR keeps 2 x 8 bytes for each end; building it briefly holds the edge keys,
# their sorted copy and the ring-tagged keys (peak about 3x the CSR).
BYTES_PER_TIE_END = 48
BYTES_PER_SALESPERSON = 256
# Per step: one Python dict of metrics (boxed floats) kept for the time series.
BYTES_PER_METRIC_STEP = 110
# Event log (run.history): blocks of float64 rows per step, then concatenated, framed
# and sorted at the end, so about this many copies exist at the peak.
HISTORY_COPIES = 3
# Mesa engine: Python objects per customer (agent, ties, dicts) and per relationship.
MESA_BYTES_PER_CUSTOMER = 6_000
MESA_BYTES_PER_RELATIONSHIP = 1_200
MESA_NEW_RELATIONSHIPS_PER_STEP = 2  # a customer meets at most about this many per step

UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}

# Which sizes to lower when a part dominates the estimate.
ADVICE = {
    "relationships": "population.n_customers or population.max_relationships "
    "(the most salespeople a customer remembers)",
    "customers": "population.n_customers (or population.n_firms)",
    "ties": "population.n_customers or the network degrees",
    "salespeople": "population.n_salespeople",
    "time series": "run.steps",
    "event log": "run.steps or population.n_customers, or turn run.history off",
    "interpreter": "nothing in the scenario: free memory on the machine",
}


@dataclass(frozen=True)
class Sizes:
    """What a run's memory depends on, read from a scenario."""

    n_customers: int
    n_salespeople: int
    n_firms: int
    steps: int
    history: bool = False
    ties_per_customer: float = 13.0
    events_per_customer_step: float = 3.0
    engine: str = "core"
    max_relationships: int = 32

    @classmethod
    def of(cls, scenario: Scenario, engine: str = "core", steps: int | None = None) -> Sizes:
        return cls.from_values(flat(scenario), engine, steps)

    @classmethod
    def from_values(
        cls, v: Mapping[str, Any], engine: str = "core", steps: int | None = None
    ) -> Sizes:
        """Sizes from ``{"section.key": value}`` (a scenario's, or maxima over a design)."""
        n = int(v["population.n_customers"])
        wanted = int(v["network.insider_degree"])
        k = max(0, min(wanted - wanted % 2, n - 1 - (n - 1) % 2))
        ties = max(0, int(v["network.household_size"]) - 1) + k + int(v["network.outsider_degree"])
        # log rows per customer and step: an encounter (if in need; a second one when it
        # looks elsewhere), an offer, a reaction to a move; LOG_SLOTS at most
        rate = v["population.purchase_rate"] + v["competition.offer_rate"] + v["turnover.rate"]
        return cls(
            n,
            int(v["population.n_salespeople"]),
            int(v["population.n_firms"]),
            int(v["run.steps"] if steps is None else steps),
            bool(v["run.history"]),
            float(min(n - 1, ties)),
            float(min(LOG_SLOTS, rate + 0.05)),
            engine,
            int(v.get("population.max_relationships", 32)),
        )


@dataclass(frozen=True)
class Estimate:
    """Bytes by part of a run, and their total."""

    parts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.parts.values())

    @property
    def dominant(self) -> str:
        return max(self.parts, key=self.parts.__getitem__)


def estimate(s: Sizes) -> Estimate:
    """Peak memory of one run of sizes ``s`` (an upper bound: every page counted as used).

    The storage of relationships is the part to update when its layout changes.
    """
    nc, ns = s.n_customers, s.n_salespeople
    metrics = len(COUNTERS) + len(MEANS)
    parts = {
        "interpreter": BASE_BYTES,
        "ties": int(nc * s.ties_per_customer * BYTES_PER_TIE_END),
        "salespeople": ns * BYTES_PER_SALESPERSON,
        "time series": s.steps * metrics * BYTES_PER_METRIC_STEP,
    }
    if s.engine == "mesa":
        rels = min(ns, 1 + MESA_NEW_RELATIONSHIPS_PER_STEP * s.steps, s.max_relationships)
        parts["customers"] = nc * (MESA_BYTES_PER_CUSTOMER + s.n_firms * ORG_BYTES * 4)
        parts["relationships"] = nc * rels * MESA_BYTES_PER_RELATIONSHIP
    else:
        parts["customers"] = nc * (CORE_BYTES_PER_CUSTOMER + s.n_firms * ORG_BYTES)
        parts["relationships"] = rellayout.bound_bytes(nc, ns, s.steps, s.max_relationships)
    if s.history:
        row = len(LOG_COLUMNS) * 8
        rows = nc * s.events_per_customer_step * s.steps
        parts["event log"] = int(rows * row * HISTORY_COPIES + LOG_SLOTS * nc * row)
    return Estimate(parts)


# ----------------------------------------------------------------------------- the limit


def add_max_memory(parser: Any) -> None:
    """The ``--max-memory SIZE`` option of every command that starts runs."""
    parser.add_argument(
        "--max-memory",
        type=size_arg,
        metavar="SIZE",
        help="refuse to start if the estimated memory is above SIZE, e.g. 8G "
        f"(default: the memory available now; also {ENV_LIMIT})",
    )


def size_arg(text: str) -> int:
    """argparse type of ``--max-memory``: a bad size is a usage error (exit 2)."""
    import argparse

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_size(text: str) -> int:
    """Bytes from '8G', '512M', '1.5GiB', '2000000000' (powers of 1024)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*([kmgt]?)(?:i?b)?\s*", str(text), re.IGNORECASE)
    if not match:
        raise ValueError(f"{text!r} is not a size; write e.g. 8G, 512M or 1.5GiB")
    return int(float(match.group(1)) * UNITS[match.group(2).lower()])


def format_size(n: float) -> str:
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n / 2**10:.0f} KiB"


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _cgroup_room() -> int | None:
    """What this process's memory cgroup still allows (None: no limit below the machine)."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        try:
            limit = Path(limit_file).read_text().strip()
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 2**50:
            return max(0, int(limit) - usage)
    return None


def machine_available() -> tuple[int | None, str]:
    """Available memory now and where the figure comes from."""
    found = [
        (v, src)
        for v, src in (
            (_meminfo_available(), "available (MemAvailable)"),
            (_cgroup_room(), "left in this process's cgroup"),
        )
        if v is not None
    ]
    if not found:
        try:
            pages = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            return pages, "free (sysconf)"
        except (ValueError, OSError):
            return None, "unknown"
    return min(found)


def memory_limit(max_memory: int | str | None = None) -> tuple[int | None, str]:
    """The limit a run must fit in, and its source; ``max_memory`` (or TRUSTSIM_MAX_MEMORY)
    lowers the machine's figure, never raises it above what is there."""
    available, source = machine_available()
    given = max_memory if max_memory is not None else os.environ.get(ENV_LIMIT) or None
    if given is None:
        return available, source
    label = "--max-memory" if max_memory is not None else ENV_LIMIT
    try:
        limit = given if isinstance(given, int) else parse_size(given)
    except ValueError as exc:
        raise ScenarioError([f"{label}={given!r}: {exc}"]) from None
    if available is not None and available < limit:
        return available, source
    return limit, f"limit ({label})"


# ----------------------------------------------------------------------------- the guard


class TooLarge(ScenarioError):
    """A run, sweep or design that would not fit: bad input for this machine (exit 2)."""

    def __init__(self, line: str) -> None:
        super().__init__([line])


def _lower(need: Estimate, source: str = "") -> str:
    """What to lower: the advice for every part that holds a quarter of the estimate (the
    interpreter's share is lowered by nothing in the scenario: then the limit is the
    user's own, or the machine's)."""
    big = sorted(need.parts, key=need.parts.__getitem__, reverse=True)
    named = [p for p in big if need.parts[p] >= need.total / 4] or big[:1]
    advice = dict(ADVICE)
    if source.startswith("limit ("):
        advice["interpreter"] = f"nothing in the scenario: raise the {source} you set"
    return "; or ".join(advice[p] for p in named)


def _refuse(what: str, need: Estimate, count: int, limit: int, source: str, extra: str) -> None:
    each = f" of each run, {format_size(need.total)} per run x {count} workers" if count > 1 else ""
    part = need.dominant
    raise TooLarge(
        f"{what} needs an estimated {format_size(need.total * count)} of memory "
        f"({format_size(need.parts[part])} for {part}{each}), above the "
        f"{format_size(limit)} {source}; lower {_lower(need, source)}{extra}"
    )


def check_run(
    scenario: Scenario,
    engine: str = "core",
    steps: int | None = None,
    max_memory: int | str | None = None,
    what: str = "this run",
) -> Estimate:
    """Refuse a run that would not fit in memory; return its estimate if it does."""
    need = estimate(Sizes.of(scenario, engine, steps))
    limit, source = memory_limit(max_memory)
    if limit is not None and need.total > limit:
        _refuse(what, need, 1, limit, source, "")
    return need


def largest(scenarios: Iterable[Scenario | Sizes], engine: str = "core") -> Sizes:
    """Sizes at least as large as every run's (each size at its maximum): an upper bound."""
    sizes = [s if isinstance(s, Sizes) else Sizes.of(s, engine) for s in scenarios]
    if not sizes:
        raise ValueError("no runs to size")
    return Sizes(
        max(s.n_customers for s in sizes),
        max(s.n_salespeople for s in sizes),
        max(s.n_firms for s in sizes),
        max(s.steps for s in sizes),
        any(s.history for s in sizes),
        max(s.ties_per_customer for s in sizes),
        max(s.events_per_customer_step for s in sizes),
        "mesa" if any(s.engine == "mesa" for s in sizes) else engine,
        max(s.max_relationships for s in sizes),
    )


def check_runs(
    runs: Sizes | Scenario | Iterable[Scenario | Sizes],
    workers: int = 1,
    max_memory: int | str | None = None,
    what: str = "this sweep",
) -> Estimate:
    """Refuse a set of runs of which ``workers`` run at once (sweeps, studies, calibration)
    when the largest run times ``workers`` would not fit; return the per-run estimate."""
    if isinstance(runs, (Sizes, Scenario)):
        runs = [runs]
    need = estimate(largest(runs))
    limit, source = memory_limit(max_memory)
    if limit is not None and need.total * workers > limit:
        extra = "; or use fewer --workers" if workers > 1 and need.total <= limit else ""
        _refuse(what, need, workers, limit, source, extra)
    return need
