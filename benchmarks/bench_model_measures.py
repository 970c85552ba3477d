"""What customers who differ and managed departures do to the model (ODD 7.11, 7.17, 7.18).

    .venv/bin/python benchmarks/bench_model_measures.py                # all parts
    .venv/bin/python benchmarks/bench_model_measures.py --only inequality
    .venv/bin/python benchmarks/bench_model_measures.py --runs 20 --out out/model_measures.json

Parts, each a figure of docs/ODD.md or of the note that shipped these mechanisms:

- ``inequality``: baseline scenario, seeds 1-3, 52 weeks: variance/mean of each customer's
  trades (all customers, zeros included) and the Spearman rank correlation of its trades in
  weeks 1-26 with weeks 27-52, with ``mechanisms.purchase_heterogeneity`` off and on.
- ``departures``: the calibration's ``departure_sales_drop`` statistic (Shi et al. 2017's
  difference-in-differences) under each ``turnover.reassignment`` policy, in the baseline
  market with random departures (``turnover.rate`` 0.006 a week, inside the calibration
  prior) over 260 weeks, so that each run has many departures with a year before and after;
  mean over ``--runs`` seeds with a 95 % t-interval, and the departures counted.
- ``streaks``: baseline scenario (200 weeks), seeds 1-3 and 11: the longest run of
  unclosed encounters in a row of one customer with one salesperson, and the share of
  customer-salesperson pairs that reach 12 or more, with ``mechanisms.give_up`` off and on.
- ``lowest``: the lowest drop any setting of the departure parameters reaches within the
  schema's ranges (a grid over policy, notice, carryover, handover weight and the follow
  margin; each setting over 3 seeds), and the settings that land in the field's 13-18 %.

Results are printed and written as JSON (``--out``). The machine may be shared: the load
average before and after is recorded.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from pathlib import Path

import numpy as np
from scipy import stats

from trustsim.analysis.measures.statistics import RunView, lookup
from trustsim.codes import CLOSED
from trustsim.loader import load_scenario
from trustsim.metrics import EV_ENCOUNTER, EV_TURNOVER
from trustsim.params import REASSIGNMENTS
from trustsim.runtime.files import atomic_write
from trustsim.runtime.run import simulate

HALF = 26  # weeks
DEPARTURE_MARKET = ("turnover.rate=0.006", "run.steps=260")
FIELD = (0.132, 0.176)  # Shi et al. 2017: the published range of the fall in sales


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def trades_by_customer(events, n: int, lo: int, hi: int) -> np.ndarray:
    tr = events[(events.kind == EV_ENCOUNTER) & (events.stage == CLOSED)]
    tr = tr[(tr.step >= lo) & (tr.step <= hi)]
    return np.bincount(tr.customer.to_numpy(), minlength=n)


def inequality(engine: str) -> dict:
    out = {}
    for on in (False, True):
        rows = []
        for seed in (1, 2, 3):
            sc = load_scenario(
                "baseline",
                [
                    "run.steps=52",
                    "run.history=true",
                    f"mechanisms.purchase_heterogeneity={str(on).lower()}",
                ],
            )
            ev = simulate(sc, engine, seed=seed).events
            n = sc.population.n_customers
            year = trades_by_customer(ev, n, 1, 2 * HALF)
            first, second = (
                trades_by_customer(ev, n, 1, HALF),
                trades_by_customer(ev, n, HALF + 1, 2 * HALF),
            )
            rho = stats.spearmanr(first, second).statistic
            rows.append(
                {
                    "seed": seed,
                    "mean": float(year.mean()),
                    "variance_to_mean": float(year.var() / year.mean()),
                    "rank_correlation": float(rho),
                    "share_without_trade": float(np.mean(year == 0)),
                }
            )
            print(f"heterogeneity {'on ' if on else 'off'} seed {seed}: {rows[-1]}", flush=True)
        out["on" if on else "off"] = rows
    return out


def drops(overrides: tuple[str, ...], seeds, engine: str) -> tuple[list[float], int]:
    """The departure sales drop of each seed's run, and the departures it measured."""
    statistic = lookup("departure_sales_drop")
    values, n_departures = [], 0
    for seed in seeds:
        sc = load_scenario("baseline", ["run.history=true", *DEPARTURE_MARKET, *overrides])
        result = simulate(sc, engine, seed=seed)
        view = RunView(result.timeseries, result.events, result.model.world)
        values.append(statistic(view))
        moves = result.events[result.events.kind == EV_TURNOVER]
        last = sc.run.steps
        ok = moves[(moves.step > 52) & (moves.step + 52 <= last)]
        n_departures += ok.groupby(["step", "firm"]).ngroups
    return values, n_departures


def interval(values: list[float]) -> dict:
    x = np.asarray([v for v in values if not np.isnan(v)])
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)) if len(x) > 1 else 0
    return {
        "mean": float(x.mean()),
        "ci95": [float(x.mean() - half), float(x.mean() + half)],
        "runs": len(x),
    }


def departures(runs: int, engine: str) -> dict:
    out = {}
    for policy in REASSIGNMENTS:
        values, n = drops((f"turnover.reassignment={policy}",), range(1, runs + 1), engine)
        out[policy] = {**interval(values), "departures": n}
        print(f"policy {policy}: {out[policy]}", flush=True)
    return out


def streaks(engine: str) -> dict:
    out = {}
    for on in (False, True):
        rows = []
        for seed in (1, 2, 3, 11):
            sc = load_scenario(
                "baseline", ["run.history=true", f"mechanisms.give_up={str(on).lower()}"]
            )
            result = simulate(sc, engine, seed=seed)
            ev = result.events
            enc = ev[ev.kind == EV_ENCOUNTER]
            per_pair = enc.groupby(["customer", "salesperson"]).misses.max()
            rows.append(
                {
                    "seed": seed,
                    "longest": int(per_pair.max()),
                    "pairs_12_or_more": float(np.mean(per_pair >= 12)),
                    "gave_up": int(result.timeseries.gave_up.sum()),
                    "needs_met_share": float(
                        result.timeseries.trades.sum() / result.timeseries.needs.sum()
                    ),
                }
            )
            print(f"give_up {'on ' if on else 'off'}: {rows[-1]}", flush=True)
        out["on" if on else "off"] = rows
    return out


GRID = {
    "turnover.reassignment": ["known", "handover"],
    "turnover.notice": [0, 4, 52],
    "turnover.carryover": [0.5, 1.0],
    "turnover.handover_weight": [0.5, 1.0],
    "turnover.follow_margin": [0.0, 1.0],
}


def lowest(engine: str) -> dict:
    rows = []
    keys = list(GRID)
    for values in itertools.product(*GRID.values()):
        setting = dict(zip(keys, values))
        if setting["turnover.reassignment"] != "handover" and (
            setting["turnover.notice"] != 4 or setting["turnover.carryover"] != 0.5
        ):
            continue  # notice and carryover act only in a managed handover
        overrides = tuple(f"{k}={v}" for k, v in setting.items())
        vals, n = drops(overrides, (1, 2, 3), engine)
        rows.append({**setting, **interval(vals), "departures": n})
        print(rows[-1], flush=True)
    best = min(rows, key=lambda r: r["mean"])
    in_field = [r for r in rows if FIELD[0] <= r["mean"] <= FIELD[1]]
    return {"grid": GRID, "settings": rows, "lowest": best, "in_field_range": in_field}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("inequality", "departures", "streaks", "lowest"))
    parser.add_argument("--runs", type=int, default=20, help="seeds per policy (departures)")
    parser.add_argument("--engine", default="core")
    parser.add_argument("--out", type=Path, default=Path("model_measures.json"))
    args = parser.parse_args()
    result: dict = {"load_before": load(), "engine": args.engine}
    start = time.perf_counter()
    parts = {"inequality": lambda: inequality(args.engine)}
    parts["departures"] = lambda: departures(args.runs, args.engine)
    parts["streaks"] = lambda: streaks(args.engine)
    parts["lowest"] = lambda: lowest(args.engine)
    for name, part in parts.items():
        if args.only in (None, name):
            result[name] = part()
    result["seconds"] = round(time.perf_counter() - start, 1)
    result["load_after"] = load()
    old = json.loads(args.out.read_text()) if args.out.exists() else {}
    text = json.dumps({**old, **result}, indent=1) + "\n"
    atomic_write(args.out, lambda tmp: tmp.write_text(text))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
