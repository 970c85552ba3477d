"""How a calibration's budget of model runs is spent (screen, ABC generations, predictive
checks)."""

from __future__ import annotations

from dataclasses import dataclass

from trustsim.analysis.calibration.targets import MAX_BUDGET, Targets
from trustsim.errors import UsageError, warn


@dataclass(frozen=True)
class Plan:
    """How a budget of model runs is spent."""

    budget: int
    population_size: int
    replicates: int
    screen_runs: int
    predictive_draws: int
    quick: bool

    @property
    def check_runs(self) -> int:
        """Runs outside the ABC: the movability check and three predictive sets."""
        return 2 * self.screen_runs + 3 * self.predictive_draws * self.replicates

    @property
    def abc_simulations(self) -> int:
        """Parameter draws pyabc may evaluate (each costs ``replicates`` runs)."""
        return (self.budget - self.check_runs) // self.replicates

    @property
    def minimum(self) -> int:
        """The least budget that allows the prior sample and two generations."""
        return self.check_runs + 3 * self.population_size * self.replicates


def make_plan(t: Targets, budget: int | None, quick: bool) -> Plan:
    s = t.settings
    given = budget is not None
    budget = budget if given else (s.quick_budget if quick else s.budget)
    where = "--budget" if given else f"{t.path}: calibration.{'quick_' if quick else ''}budget"
    pop = s.quick_population_size if quick else s.population_size
    plan = Plan(budget, pop, s.replicates, s.screen_runs, s.predictive_draws, quick)
    if quick and given:
        warn(
            f"--budget {budget} wins over --quick's budget ({s.quick_budget}); --quick still "
            f"sets the population size ({pop} particles)"
        )
    if budget < 1 or budget > MAX_BUDGET:
        raise UsageError(f"{where} = {budget}: must be a number of model runs in [1, {MAX_BUDGET}]")
    if budget < plan.minimum:
        raise UsageError(
            f"{where} = {budget}: too small for this targets file: it needs at least "
            f"{plan.minimum} model runs (checks {plan.check_runs} + prior sample and two "
            f"generations of {pop} particles x {s.replicates} replicates)"
        )
    return plan
