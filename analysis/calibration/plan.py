"""How a calibration's budget of model runs is spent (prior check, ABC generations,
predictive checks), how many replicates each parameter draw gets, and when it stops."""

from __future__ import annotations

from dataclasses import dataclass, replace

from trustsim.analysis.calibration.prior_check import (
    PriorCheck,
    check_runs_bound,
    replicates_needed,
)
from trustsim.analysis.calibration.targets import MAX_BUDGET, Targets
from trustsim.errors import UsageError, warn


@dataclass(frozen=True)
class Plan:
    """How a budget of model runs is spent."""

    budget: int
    population_size: int
    replicates: int  # runs per ABC draw (their mean is compared)
    check_draws: int  # the prior check's single runs across the prior
    check_search: int  # ... and generations of its search
    check_replicates: int  # runs per candidate of its search (the file's `replicates`)
    parameters: int
    predictive_draws: int
    quick: bool
    minimum_epsilon: float = 0.0
    min_acceptance_rate: float = 0.0
    replicates_why: str = ""

    @property
    def prior_check_runs(self) -> int:
        """At most this many runs of the prior check (its search skips repeated points)."""
        return check_runs_bound(self.check_draws, self.check_search, self.check_replicates)

    @property
    def check_runs(self) -> int:
        """Runs outside the ABC: the prior check and three predictive sets."""
        return self.prior_check_runs + 3 * self.predictive_draws * self.replicates

    @property
    def abc_simulations(self) -> int:
        """Parameter draws pyabc may evaluate (each costs ``replicates`` runs)."""
        return (self.budget - self.check_runs) // self.replicates

    @property
    def minimum(self) -> int:
        """The least budget that allows the prior sample and two generations if every draw
        were accepted: a floor, not an estimate (a first generation, whose tolerance is the
        prior sample's median, accepts about half its draws; later ones fewer)."""
        return self.check_runs + 3 * self.population_size * self.replicates

    def stopping_rule(self) -> str:
        rules = []
        if self.minimum_epsilon > 0:
            rules.append(f"a generation's tolerance is at most {self.minimum_epsilon:g} sd units")
        if self.min_acceptance_rate > 0:
            rules.append(
                f"a generation would accept fewer than {self.min_acceptance_rate:g} of its draws"
            )
        rules.append(f"the budget of {self.budget} model runs is spent")
        return "it stops when " + ", or when ".join(rules)


def make_plan(t: Targets, budget: int | None, quick: bool) -> Plan:
    """The plan before the prior check: the file's replicates (checked again, with the
    replicates the check asks for, by :func:`with_replicates`)."""
    s = t.settings
    given = budget is not None
    budget = budget if given else (s.quick_budget if quick else s.budget)
    pop = s.quick_population_size if quick else s.population_size
    plan = Plan(
        budget,
        pop,
        s.replicates,
        s.prior_check_draws,
        s.prior_check_search,
        s.replicates,
        len(t.priors),
        s.predictive_draws,
        quick,
        float(s.minimum_epsilon),
        float(s.min_acceptance_rate),
        f"{s.replicates} (calibration.replicates; no calibration.max_replicates given)",
    )
    if quick and given:
        warn(
            f"--budget {budget} wins over --quick's budget ({s.quick_budget}); --quick still "
            f"sets the population size ({pop} particles)"
        )
    if budget < 1 or budget > MAX_BUDGET:
        raise UsageError(
            f"{_where(t, given, quick)} = {budget}: must be a number of model runs in [1, {MAX_BUDGET}]"
        )
    _check_minimum(t, plan, given, "")
    return plan


def _where(t: Targets, given: bool, quick: bool) -> str:
    return "--budget" if given else f"{t.path}: calibration.{'quick_' if quick else ''}budget"


def _check_minimum(t: Targets, plan: Plan, given: bool, after: str) -> None:
    if plan.budget < plan.minimum:
        raise UsageError(
            f"{_where(t, given, plan.quick)} = {plan.budget}: too small for this targets file"
            f"{after}: it needs at least {plan.minimum} model runs (checks {plan.check_runs} + "
            f"prior sample and two generations of {plan.population_size} particles x "
            f"{plan.replicates} replicates, if every draw were accepted; a generation "
            f"usually needs several times its particles, so give it more)"
        )


def choose_replicates(t: Targets, check: PriorCheck) -> tuple[int, str]:
    """Runs per ABC draw: enough that the standard error of the noisiest fitted target's
    replicate mean is at most a third of its sd (measured at the prior's midpoint by the
    prior check), at least calibration.replicates, at most calibration.max_replicates."""
    s = t.settings
    if s.max_replicates is None:
        return s.replicates, f"{s.replicates} (calibration.replicates; no max_replicates given)"
    need = {c.name: replicates_needed(c.replicate_sd, c.sd) for c in check.targets if c.movable}
    if not need:
        return s.replicates, f"{s.replicates} (calibration.replicates: no fitted target)"
    name = max(need, key=need.get)
    wanted = need[name]
    chosen = min(max(wanted, s.replicates), s.max_replicates)
    detail = ", ".join(f"{n} {k}" for n, k in need.items())
    why = f"{chosen}: the prior check asks for {wanted} ({name} the noisiest; per target: {detail})"
    if wanted > s.max_replicates:
        why += (
            f", capped at calibration.max_replicates = {s.max_replicates} (the distance "
            f"counts the larger simulation error)"
        )
    elif wanted < s.replicates:
        why += f", raised to calibration.replicates = {s.replicates}"
    return chosen, why


def with_replicates(t: Targets, plan: Plan, check: PriorCheck, given: bool) -> Plan:
    """The plan once the prior check has measured each statistic's replicate noise."""
    n, why = choose_replicates(t, check)
    plan = replace(plan, replicates=n, replicates_why=why)
    _check_minimum(
        t, plan, given, f" with the {n} replicates the prior check chose (kept: it is reused)"
    )
    return plan
