"""Small targets files for the calibration tests: reduced sizes, metric statistics only
(no event log), so that a calibration takes seconds, not minutes."""

from __future__ import annotations

import numpy as np

from trustsim.analysis.sweep.design import run_seed
from trustsim.loader import load_scenario
from trustsim.runtime.run import simulate

BASE_SET = [
    "population.n_customers=150",
    "population.n_salespeople=6",
    "population.n_firms=2",
    "run.steps=60",
    "mechanisms.turnover=false",
    "firms.failure_rate=0.2",  # enough failures for a steady complaint share
]
WINDOW = 30
# Parameter recovery: three parameters, each with a statistic it drives.
TRUTH = {
    "wom.positive_prob": 0.45,
    "failures.complaint_prob": 0.4,
    "costs.trust_saving": 0.7,
}
PRIORS = {
    "wom.positive_prob": (0.05, 0.9),
    "failures.complaint_prob": (0.1, 1.0),
    "costs.trust_saving": (0.1, 1.0),
}
STATISTICS = {
    "praise": "wom_positive",
    "complaints": "complaint_share",
    "cost": "mean_transaction_cost",
}
OBSERVED_SEEDS = 8  # runs at the truth; their seeds are none the calibration uses


def observe_truth(base_set: list[str] = BASE_SET) -> dict[str, tuple[float, float]]:
    """(observed, sd) per target: the mean of runs at the truth and the sd of a mean of
    two replicates (what the calibration compares)."""
    from trustsim.analysis.measures import statistics as S

    scenario = load_scenario("baseline", base_set + [f"{k}={v}" for k, v in TRUTH.items()])
    rows = []
    for i in range(OBSERVED_SEEDS):
        result = simulate(scenario, "core", run_seed(987_654, i))
        view = S.RunView(result.timeseries, None, None, WINDOW)
        rows.append(S.compute(STATISTICS.values(), view))
    out = {}
    for name, stat in STATISTICS.items():
        x = np.array([r[stat] for r in rows])
        out[name] = (float(x.mean()), float(x.std(ddof=1) / np.sqrt(2)))
    return out


def targets_text(
    observed: dict[str, tuple[float, float]],
    extra_targets: str = "",
    budget: int = 900,
    population_size: int = 30,
    replicates: int = 2,
    base_set: list[str] = BASE_SET,
    extra_settings: str = "",
) -> str:
    priors = "\n".join(f'"{k}" = [{lo}, {hi}]' for k, (lo, hi) in PRIORS.items())
    targets = "\n".join(
        f'[[targets]]\nname = "{name}"\nstatistic = "{STATISTICS[name]}"\n'
        f'observed = {obs!r}\nsd = {sd!r}\nsource = "synthetic: the model at the truth"\n'
        for name, (obs, sd) in observed.items()
    )
    return (
        f'[calibration]\nid = "recovery"\nscenario = "baseline"\nset = {base_set!r}\n'.replace(
            "'", '"'
        )
        + f"replicates = {replicates}\nmaster_seed = 3\nwindow = {WINDOW}\n"
        f"population_size = {population_size}\nbudget = {budget}\n"
        "quick_population_size = 8\nquick_budget = 300\npredictive_draws = 6\n"
        "prior_check_draws = 24\nprior_check_search = 0\n"
        f"{extra_settings}[priors]\n{priors}\n{targets}{extra_targets}"
    )


# A target no free parameter can move: salespeople's moves with turnover switched off.
UNMOVABLE = (
    '[[targets]]\nname = "moves"\nstatistic = "moves"\nobserved = 0.5\nsd = 0.1\n'
    'source = "made up: a statistic of a switched-off mechanism"\n'
)
