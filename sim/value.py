"""Customer lifetime value, measured after a run from its revenue (ODD 7.19).

Plain numpy, no engine: the run record, the statistics and ``--list-statistics`` read it
without loading the compiled core.
"""

import numpy as np

WEEKS_PER_YEAR = 52


def discount_factors(steps: np.ndarray, annual_rate: float) -> np.ndarray:
    """What a unit of revenue in week ``steps`` is worth at the start of the run (ODD 7.19)."""
    return (1.0 + annual_rate) ** (-np.asarray(steps, dtype=float) / WEEKS_PER_YEAR)


def customer_values(
    customer: np.ndarray, step: np.ndarray, value: np.ndarray, n_customers: int, annual_rate: float
) -> np.ndarray:
    """Each customer's lifetime value so far (ODD 7.19): the discounted value of its trades,
    given as (customer, step, value) per trade (the event log's trades x basket x price)."""
    weights = np.asarray(value, dtype=float) * discount_factors(step, annual_rate)
    return np.bincount(np.asarray(customer), weights=weights, minlength=n_customers)


def clv_mean(revenue: np.ndarray, n_customers: int, annual_rate: float) -> float:
    """Mean of :func:`customer_values` over all customers, from the per-step ``revenue``
    series alone (steps 1, 2, ...): a sum of discounted trades is the same grouped by
    customer or by week."""
    revenue = np.nan_to_num(np.asarray(revenue, dtype=float))
    weights = discount_factors(np.arange(1, revenue.shape[0] + 1), annual_rate)
    return float(np.sum(revenue * weights) / n_customers)


def run_metrics(revenue: np.ndarray, scenario) -> dict[str, float]:
    """The RUN_METRICS of a run of ``scenario`` whose per-step revenue was ``revenue``."""
    n = scenario.population.n_customers
    return {"clv_mean": clv_mean(revenue, n, scenario.measurement.discount_rate)}
