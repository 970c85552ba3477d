"""The parameter schema: the one place that names every parameter, its default, range,
unit and help text.

Scenario files, the CLI's ``--set``, the numba core (through :func:`param_record`) and
the classroom controls all read this module; nothing else lists parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any, Literal, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator


def param(
    default: Any, lo: float | None = None, hi: float | None = None, unit: str = "", help: str = ""
) -> Any:
    """A parameter: default, closed range [lo, hi], unit and a one-line help text."""
    return Field(default, ge=lo, le=hi, description=help, json_schema_extra={"unit": unit})


# Reassignment policies of turnover.reassignment, in the order of their codes
# (trustsim.codes REASSIGN_*): the parameter record holds the position.
REASSIGNMENTS = ("random", "best", "known", "handover")


class Section(BaseModel):
    """A scenario table: unknown keys are errors, no silent type coercion ("5" is not 5),
    values are checked on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True)


class Run(Section):
    steps: int = param(200, 1, 1_000_000, "steps", "Number of steps (one step = one week).")
    seed: int = param(1, 0, 2**62, "", "Master seed; every random draw is keyed by it.")
    history: bool = param(False, help="Record the per-relationship event log (large).")


class Population(Section):
    n_customers: int = param(500, 2, 5_000_000, "customers", "Number of customers.")
    n_salespeople: int = param(20, 1, 1_000_000, "salespeople", "Number of salespeople.")
    n_firms: int = param(4, 1, 10_000, "firms", "Number of firms.")
    propensity_mean: float = param(0.5, 0, 1, "trust", "Mean trust propensity of customers.")
    propensity_spread: float = param(
        0.2, 0, 0.5, "trust", "Half-width of the uniform spread of propensity."
    )
    risk_mean: float = param(0.5, 0, 1, "", "Mean risk perception of customers.")
    risk_spread: float = param(0.2, 0, 0.5, "", "Half-width of the spread of risk perception.")
    purchase_rate: float = param(
        0.25, 0, 1, "1/step", "Probability that a customer needs to buy in a step."
    )
    kin_share: float = param(
        0.03, 0, 1, "share", "Share of customers with a salesperson among their kin."
    )
    max_relationships: int = param(
        32,
        2,
        1_000_000,
        "salespeople",
        "Most salespeople a customer remembers; meeting one more, it forgets the one it "
        "traded with (or met) longest ago, never its own (ODD 7.16).",
    )


class Buying(Section):
    """Who needs to buy how often, and spends how much (ODD 7.17, 7.18)."""

    rate_shape: float = param(
        0.24,
        0.01,
        100,
        "",
        "First shape of the beta distribution of customers' weekly purchase propensity "
        "(mean population.purchase_rate; small = very unequal; CDNOW's NBD shape r, Fader, "
        "Hardie & Lee 2005). Read when mechanisms.purchase_heterogeneity is on.",
    )
    basket_mean: float = param(
        1.0, 0, 1_000_000, "money/trade", "Mean basket value of a trade at relative price 1."
    )
    basket_shape: float = param(
        1.74,
        0.01,
        1000,
        "",
        "Gamma shape of customers' basket values (1/CV^2; 1.74 = the spread of CDNOW's "
        "gamma-gamma mean spend, Fader, Hardie & Lee 2005b). Read when "
        "mechanisms.purchase_heterogeneity is on.",
    )
    dropout_a: float = param(
        0.79,
        0.01,
        100,
        "",
        "Beta shape a of the per-customer chance to leave the market after a purchase "
        "(BG/NBD; CDNOW's fit). Read when mechanisms.leave_market is on.",
    )
    dropout_b: float = param(
        2.4,
        0.01,
        1_000_000,
        "",
        "Beta shape b of that chance (mean a / (a + b)); large b = rare departures.",
    )


class Network(Section):
    household_size: int = param(
        4, 1, 50, "customers", "Size of a family (family ties form a clique)."
    )
    insider_degree: int = param(
        6,
        0,
        200,
        "ties",
        "Insider ties per customer (Watts-Strogatz lattice degree; odd values round down).",
    )
    rewire: float = param(0.1, 0, 1, "", "Watts-Strogatz rewiring probability of insider ties.")
    outsider_degree: int = param(
        4, 0, 200, "ties", "Mean number of outsider (acquaintance) ties per customer."
    )


class Culture(Section):
    ring_gradient: float = param(
        0.7, 0, 1, "", "Steepness of the 差序格局 rings: 0 universalistic, 1 particularistic."
    )
    stranger_wariness: float = param(
        0.6, 0, 1, "", "Share of propensity withheld from strangers at full gradient."
    )
    insider_loyalty: float = param(
        0.3,
        0,
        1,
        "trust",
        "Trust credited to insiders and kin when failures and offers are judged, at full gradient.",
    )


class Firms(Section):
    quality: float = param(0.7, 0, 1, "", "Mean product quality.")
    failure_rate: float = param(
        0.05, 0, 1, "1/trade", "Probability of a service failure per trade."
    )
    recovery: float = param(0.5, 0, 1, "", "After-sales recovery: how well failures are repaired.")
    transparency: float = param(
        0.5, 0, 1, "", "Transparency: how fast information asymmetry falls."
    )
    consistency: float = param(
        0.7, 0, 1, "", "Consistency across channels: 1 removes outcome noise."
    )
    price: float = param(1.0, 0.5, 2.0, "relative", "Price relative to the market.")
    social_responsibility: float = param(
        0.5, 0, 1, "", "Social responsibility, seen in organizational trust."
    )
    heterogeneity: float = param(
        0.1, 0, 0.5, "", "Half-width of the spread of firm attributes around their means."
    )


class Salespeople(Section):
    competence: float = param(0.65, 0, 1, "", "Mean ability.")
    integrity: float = param(
        0.85, 0, 1, "", "Mean integrity/benevolence (1 = never opportunistic)."
    )
    empathy: float = param(0.5, 0, 1, "", "Mean empathy: chance to uncover a deeper need.")
    capacity: int = param(
        40, 1, 1_000_000, "customers/step", "Encounters a salesperson can serve per step."
    )
    heterogeneity: float = param(
        0.15, 0, 0.5, "", "Half-width of the spread of salesperson attributes."
    )
    instrumental_share: float = param(
        0.5, 0, 1, "share", "Share of salespeople with an instrumental (gift/favour) strategy."
    )
    strategy_purity: float = param(
        0.8, 0.5, 1, "", "Weight of a salesperson's own strategy in its mix."
    )


class Trust(Section):
    learn_instrumental: float = param(
        0.25, 0, 1, "1/trade", "Learning rate of ability (instrumental) trust."
    )
    learn_emotional: float = param(
        0.08, 0, 1, "1/trade", "Learning rate of character (emotional) trust."
    )
    weight_ability_early: float = param(
        0.8, 0, 1, "", "Weight of ability trust in a new relationship."
    )
    weight_ability_late: float = param(
        0.3, 0, 1, "", "Weight of ability trust in an old relationship."
    )
    age_scale: float = param(
        8.0, 0.1, 1000, "trades", "Trades over which the weight shifts from ability to character."
    )
    character_weight: float = param(
        0.6, 0, 1, "", "Weight of shown integrity in the emotional signal."
    )
    respect_effect: float = param(
        0.3, 0, 1, "", "Emotional signal of respect and shared values (emotional strategy)."
    )
    org_weight: float = param(
        0.3, 0, 1, "", "Weight of organizational trust in the decision to buy."
    )
    org_learn: float = param(0.1, 0, 1, "1/trade", "Learning rate of organizational trust.")
    social_weight: float = param(
        0.2, 0, 1, "", "Weight of social responsibility in organizational trust."
    )
    outcome_noise: float = param(0.3, 0, 1, "", "Outcome noise at zero consistency.")
    kin_trust: float = param(0.8, 0, 1, "trust", "Initial trust in a kin salesperson.")
    referral_warmth: float = param(
        0.5, 0, 1, "", "Share of the referrer's extra trust passed to a referred contact."
    )


class Rings(Section):
    insider_threshold: float = param(
        0.6, 0, 1, "trust", "Trust at which an outsider becomes an insider."
    )
    outsider_threshold: float = param(
        0.45, 0, 1, "trust", "Trust below which an insider falls back out (hysteresis)."
    )
    insider_min_trades: int = param(
        3, 0, 1000, "trades", "Trades needed before an outsider can become an insider."
    )

    @model_validator(mode="after")
    def _hysteresis(self) -> Rings:
        if self.outsider_threshold > self.insider_threshold:
            raise ValueError(
                f"rings.outsider_threshold ({self.outsider_threshold}) must be <= "
                f"rings.insider_threshold ({self.insider_threshold})"
            )
        return self


class Sales(Section):
    stage_slope: float = param(
        10.0, 0, 100, "", "Slope of the logistic that gates each sales stage."
    )
    contact_threshold: float = param(
        0.15, 0, 1, "trust", "Decision trust at which half of contacts proceed."
    )
    consult_threshold: float = param(0.25, 0, 1, "trust", "Same, for consultative communication.")
    objection_threshold: float = param(0.3, 0, 1, "trust", "Same, for objection handling.")
    closing_threshold: float = param(0.35, 0, 1, "trust", "Same, for closing.")
    price_sensitivity: float = param(
        0.3, 0, 2, "trust", "Rise of the closing threshold per unit of relative price above 1."
    )
    risk_weight: float = param(
        0.2, 0, 1, "trust", "Decision trust lost per unit of risk perception times asymmetry."
    )


class Needs(Section):
    depth_outsider: int = param(
        2, 1, 5, "levels", "Need levels an outsider is shown (1 stated ... 5 secret)."
    )
    depth_insider: int = param(4, 1, 5, "levels", "Need levels an insider is shown.")
    depth_family: int = param(5, 1, 5, "levels", "Need levels kin are shown.")
    uncover_decay: float = param(
        0.7, 0, 1, "", "Chance to uncover each further level, relative to the one before."
    )
    value_base: float = param(
        0.05, 0, 1, "trust", "Emotional signal from uncovering the real need (level 2)."
    )
    value_growth: float = param(1.5, 1, 5, "", "Growth of that signal per deeper level.")


class Gifts(Section):
    size: float = param(
        0.08,
        0,
        1,
        "trust",
        "Instrumental trust bought by gifts per trade at full instrumental strategy.",
    )
    decay: float = param(0.85, 0, 1, "1/step", "Share of the gift effect left after one step.")
    unbacked_loss: float = param(
        0.5, 0, 1, "", "Share of the gift effect lost when performance disappoints."
    )


class Breach(Section):
    opportunism: float = param(
        0.1, 0, 1, "1/trade", "Breach probability per trade at zero integrity."
    )
    loss_instrumental: float = param(0.6, 0, 1, "", "Share of ability trust lost in a breach.")
    loss_emotional: float = param(0.5, 0, 1, "", "Share of character trust lost in a breach.")
    scar: float = param(
        0.7,
        0,
        1,
        "",
        "Share of learning lost right after a breach (wariness); 1 = the next trade teaches nothing.",
    )
    scar_recovery: float = param(
        0.85, 0, 1, "1/trade", "Share of the scar left after each further trade."
    )
    scheduled_step: int = param(
        -1, -1, 1_000_000, "step", "Step at which one salesperson breaches every trade (-1: none)."
    )
    scheduled_salesperson: int = param(
        0, 0, 1_000_000, "id", "Salesperson who breaches at scheduled_step."
    )
    exit_sensitivity: float = param(
        2.0,
        0,
        10,
        "1/trust",
        "Probability of leaving at once after a breach, per unit of trust lost "
        "(less the insider loyalty of kin and insiders).",
    )


class Failures(Section):
    forgive_threshold: float = param(
        0.5, 0, 1, "trust", "Trust at which half of failures are forgiven."
    )
    forgive_slope: float = param(8.0, 0, 100, "", "Slope of the forgiveness logistic.")
    recovery_weight: float = param(
        1.0, 0, 10, "", "Effect of the firm's after-sales recovery on forgiveness."
    )
    loss_forgiven: float = param(0.05, 0, 1, "", "Share of trust lost in a forgiven failure.")
    loss_unforgiven: float = param(0.3, 0, 1, "", "Share of trust lost in an unforgiven failure.")
    complaint_prob: float = param(
        0.7, 0, 1, "", "Probability of a complaint after an unforgiven failure."
    )
    exit_prob: float = param(
        0.6, 0, 1, "", "Exit probability after an unforgiven failure at zero trust."
    )


class Competition(Section):
    offer_rate: float = param(
        0.02, 0, 1, "1/step", "Probability that a customer gets a competitor's offer in a step."
    )
    max_discount: float = param(0.4, 0, 1, "price", "Largest discount a competitor offers.")
    barrier_base: float = param(
        0.05, 0, 1, "price", "Discount needed to move a customer with no trust."
    )
    barrier_trust: float = param(0.4, 0, 2, "price", "Extra discount needed per unit of trust.")
    barrier_noise: float = param(0.05, 0, 1, "price", "Noise of the exit barrier.")


class Elsewhere(Section):
    distrust_weight: float = param(
        0.8,
        0,
        1,
        "",
        "Probability of taking a need elsewhere after one unclosed encounter, at zero trust "
        "(scaled by 1 - trust; insiders and kin credited their loyalty).",
    )
    patience: float = param(
        2.0,
        0.1,
        1000,
        "encounters",
        "Unclosed encounters in a row with one salesperson over which even a fully trusting "
        "customer loses patience (the chance to stay falls by 1/e per this many).",
    )
    give_up: int = param(
        6,
        1,
        1000,
        "encounters",
        "Unclosed encounters in a row after which a customer gives up on a salesperson for "
        "good: no longer its own, never chosen again, and the need goes elsewhere "
        "(mechanisms.give_up).",
    )


class Wom(Section):
    positive_threshold: float = param(
        0.05, -1, 1, "", "Satisfaction above which a customer may praise."
    )
    positive_prob: float = param(0.3, 0, 1, "", "Probability to praise when satisfied.")
    negative_prob: float = param(
        0.8, 0, 1, "", "Probability to warn after a breach or an unforgiven failure."
    )
    influence: float = param(
        0.1, 0, 1, "", "Pull of one message on organizational trust at full ring weight."
    )
    referral_prob: float = param(
        0.3,
        0,
        1,
        "",
        "Probability that a tie passes on its salesperson, times the tie's ring weight.",
    )
    referral_min_trust: float = param(
        0.6, 0, 1, "trust", "Trust a customer needs in a salesperson to refer them."
    )


class Turnover(Section):
    rate: float = param(
        0.0, 0, 1, "1/step", "Probability that a salesperson moves to a rival firm in a step."
    )
    scheduled_step: int = param(
        -1, -1, 1_000_000, "step", "Step at which one salesperson moves (-1: none)."
    )
    scheduled_salesperson: int = param(
        0, 0, 1_000_000, "id", "Salesperson who moves at scheduled_step."
    )
    follow_slope: float = param(10.0, 0, 100, "", "Slope of the follow-the-person logistic.")
    follow_margin: float = param(
        0.0, -1, 1, "trust", "Personal-minus-organizational trust at which half follow."
    )
    handover_weight: float = param(
        0.5, 0, 1, "", "Share of organizational trust given to a replacement salesperson."
    )
    reassignment: Literal[REASSIGNMENTS] = param(  # type: ignore[valid-type]
        "random",
        help="Who takes over the customers of a departing salesperson who stay with the firm "
        "(ODD 7.11): random colleague, the colleague with the best record (competence), a "
        "colleague the customer knows (met before, or its ties' salesperson), or a managed "
        "handover (announced turnover.notice weeks ahead, successor introduced in a joint visit).",
    )
    notice: int = param(
        4,
        0,
        52,
        "steps",
        "Weeks between the announcement of a departure and the move (reassignment = handover).",
    )
    carryover: float = param(
        0.5,
        0,
        1,
        "",
        "Share of the gap between the customer's trust in the departing salesperson and in "
        "its successor that the joint visit closes (reassignment = handover).",
    )


class Costs(Section):
    base: float = param(1.0, 0, 100, "cost/trade", "Negotiation cost of a trade with no trust.")
    trust_saving: float = param(0.6, 0, 1, "", "Share of negotiation cost saved at full trust.")
    checking: float = param(
        0.5, 0, 100, "cost/trade", "Checking cost at full information asymmetry."
    )
    asym_learning: float = param(
        0.3, 0, 1, "1/trade", "Fall of information asymmetry per trade at full transparency."
    )
    asym_clarity: float = param(
        0.5, 0, 1, "", "Learning lost to information asymmetry (signal blur)."
    )


class Measurement(Section):
    survey_rate: float = param(
        0.05, 0, 1, "1/step", "Share of customers asked in the survey each step."
    )
    survey_noise: float = param(0.15, 0, 1, "", "Noise of a survey answer.")
    survey_bias: float = param(0.1, -1, 1, "", "Social-desirability bias of survey answers.")
    nonresponse_bias: float = param(
        0.5, 0, 1, "", "How much low trust lowers the chance to answer."
    )
    interview_rate: float = param(0.01, 0, 1, "1/step", "Share of customers interviewed each step.")
    interview_noise: float = param(0.05, 0, 1, "", "Noise of an interview judgement.")
    social_visibility: float = param(
        0.2, 0, 1, "", "Share of positive word of mouth visible on social media."
    )
    negative_visibility: float = param(
        2.0, 0, 10, "", "How many times more visible a warning is than praise."
    )
    observe: bool = param(
        True,
        help="Draw the simulated survey, interviews and visible word of mouth each step "
        "(7.12); off: survey_trust, survey_response_rate, interview_trust and wom_sentiment "
        "are NaN and no other value changes (a sweep that keeps none of them turns it off).",
    )
    discount_rate: float = param(
        0.10,
        0,
        10,
        "1/year",
        "Annual discount rate of customer lifetime value (clv_mean): revenue of week t "
        "counts (1 + rate)^(-t/52). Read only by the measurement after a run (ODD 7.19).",
    )


class Mechanisms(Section):
    """Ablation switches: each turns one mechanism of the brief off."""

    ring_gradient: bool = param(True, help="差序格局 gradient (off: universalistic weights).")
    age_shift: bool = param(
        True, help="Weight moves from ability to character as a relationship ages."
    )
    needs: bool = param(True, help="Uncovering deeper needs (off: stated needs only).")
    gifts: bool = param(True, help="Gifts and favours buy instrumental trust.")
    emotional_strategy: bool = param(True, help="Respect and shared values feed character trust.")
    breaches: bool = param(True, help="Opportunistic breaches.")
    breach_scar: bool = param(True, help="Slowed learning after a breach.")
    service_failures: bool = param(True, help="Service failures.")
    forgiveness: bool = param(True, help="Trust buys forgiveness of failures.")
    competitor_offers: bool = param(True, help="Competitors' discount offers.")
    exit_barrier: bool = param(True, help="Trust raises the discount needed to switch.")
    word_of_mouth: bool = param(True, help="Praise and warnings along the rings.")
    referral: bool = param(
        True, help="Customers pass their salesperson to their ties (weighted by ring)."
    )
    turnover: bool = param(True, help="Salespeople move to rival firms.")
    transaction_cost: bool = param(True, help="Trust lowers negotiation cost.")
    transparency: bool = param(True, help="Transparency lowers information asymmetry.")
    org_trust: bool = param(True, help="Organizational trust in firms.")
    capacity: bool = param(True, help="Salespeople serve at most `capacity` encounters per step.")
    ring_migration: bool = param(True, help="Salespeople move between outsider and insider rings.")
    risk_perception: bool = param(True, help="Risk perception lowers decision trust.")
    measurement_noise: bool = param(True, help="Noise and bias of simulated measurements.")
    look_elsewhere: bool = param(
        True,
        help="A need that does not close with the chosen salesperson may be taken elsewhere "
        "the same step (one met before, kin, a tie's referral, a rival firm's salesperson).",
    )
    breach_exit: bool = param(
        True, help="A customer who detects a breach may leave the salesperson at once."
    )
    give_up: bool = param(
        False,
        help="A customer gives up for good on a salesperson after elsewhere.give_up unclosed "
        "encounters in a row: it never chooses that one again (off: it keeps going back, "
        "however often it is not served).",
    )
    purchase_heterogeneity: bool = param(
        False,
        help="Customers differ in how often they need to buy and how much they spend "
        "(beta-distributed propensity, gamma-distributed basket; off: everyone at "
        "population.purchase_rate and buying.basket_mean).",
    )
    leave_market: bool = param(
        False,
        help="After each purchase a customer may leave the market for good, for reasons no "
        "salesperson causes (BG/NBD dropout, chance drawn per customer).",
    )


class Scenario(BaseModel):
    """A whole scenario: one table per section, every key optional (defaults above)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    run: Run = Field(default_factory=Run)
    population: Population = Field(default_factory=Population)
    buying: Buying = Field(default_factory=Buying)
    network: Network = Field(default_factory=Network)
    culture: Culture = Field(default_factory=Culture)
    firms: Firms = Field(default_factory=Firms)
    salespeople: Salespeople = Field(default_factory=Salespeople)
    trust: Trust = Field(default_factory=Trust)
    rings: Rings = Field(default_factory=Rings)
    sales: Sales = Field(default_factory=Sales)
    needs: Needs = Field(default_factory=Needs)
    gifts: Gifts = Field(default_factory=Gifts)
    breach: Breach = Field(default_factory=Breach)
    failures: Failures = Field(default_factory=Failures)
    competition: Competition = Field(default_factory=Competition)
    elsewhere: Elsewhere = Field(default_factory=Elsewhere)
    wom: Wom = Field(default_factory=Wom)
    turnover: Turnover = Field(default_factory=Turnover)
    costs: Costs = Field(default_factory=Costs)
    measurement: Measurement = Field(default_factory=Measurement)
    mechanisms: Mechanisms = Field(default_factory=Mechanisms)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        """Checks across tables: scheduled events name a real salesperson and a real step;
        deeper rings are shown at least as many needs."""
        problems = []
        n_sp = self.population.n_salespeople
        for table in (self.breach, self.turnover):
            name = type(table).__name__.lower()
            if table.scheduled_step == 0:
                problems.append(f"{name}.scheduled_step = 0: steps start at 1 (use -1 for none)")
            if table.scheduled_step > 0 and table.scheduled_salesperson >= n_sp:
                problems.append(
                    f"{name}.scheduled_salesperson = {table.scheduled_salesperson}: "
                    f"must be < population.n_salespeople ({n_sp})"
                )
        d = self.needs
        if not d.depth_outsider <= d.depth_insider <= d.depth_family:
            problems.append(
                "needs.depth_outsider <= needs.depth_insider <= needs.depth_family must hold "
                f"(got {d.depth_outsider}, {d.depth_insider}, {d.depth_family})"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self


# ---------------------------------------------------------------------------- views


def iter_fields() -> Iterator[tuple[str, str, Any]]:
    """Yield (section, key, FieldInfo) for every parameter, in schema order."""
    for section, sfield in Scenario.model_fields.items():
        for key, finfo in sfield.annotation.model_fields.items():  # type: ignore[union-attr]
            yield section, key, finfo


def choices_of(finfo: Any) -> tuple[str, ...]:
    """The words a word-valued parameter allows (empty for numbers and switches)."""
    return tuple(get_args(finfo.annotation)) if finfo.annotation not in (bool, int, float) else ()


def field_range(finfo: Any) -> tuple[float | None, float | None]:
    """The closed range [lo, hi] declared for a parameter (None where open)."""
    lo = hi = None
    for m in finfo.metadata:
        lo = getattr(m, "ge", lo)
        hi = getattr(m, "le", hi)
    return lo, hi


def describe(section: str, key: str) -> str:
    """What is allowed for ``section.key``, in words (for error messages and help)."""
    finfo = Scenario.model_fields[section].annotation.model_fields[key]  # type: ignore[union-attr]
    choices = choices_of(finfo)
    if choices:
        return "one of " + ", ".join(f"'{c}'" for c in choices)
    kind = finfo.annotation.__name__
    if kind == "bool":
        return "true or false"
    lo, hi = field_range(finfo)
    noun = "an integer" if kind == "int" else "a number"
    unit = (finfo.json_schema_extra or {}).get("unit", "")
    return f"{noun} in [{lo}, {hi}]" + (f" ({unit})" if unit else "")


def flat(scenario: Scenario) -> dict[str, Any]:
    """The scenario as ``{"section.key": value}``."""
    return {f"{s}.{k}": getattr(getattr(scenario, s), k) for s, k, _ in iter_fields()}


@cache
def keywords() -> dict[str, tuple[str, str]]:
    """Keyword name -> (section, key) for every parameter, as models take them in Python:
    ``n_customers=200`` where the key names one parameter, ``section__key`` always.

    Where a mechanism switch shares its name with a quantity (``ring_gradient``,
    ``capacity``), the short name is the quantity and the switch goes by
    ``mechanisms__name``; a name two quantities share goes only by ``section__key``.
    """
    owners: dict[str, list[tuple[str, str]]] = {}
    for section, key, _ in iter_fields():
        owners.setdefault(key, []).append((section, key))
    out = {f"{s}__{k}": (s, k) for s, k, _ in iter_fields()}
    for key, found in owners.items():
        quantities = [o for o in found if o[0] != "mechanisms"]
        if len(quantities or found) == 1:
            out[key] = (quantities or found)[0]
    return out


def keyword_of(section: str, key: str) -> str:
    """The shortest keyword that names ``section.key`` (see :func:`keywords`)."""
    return key if keywords().get(key) == (section, key) else f"{section}__{key}"


def _record_dtype() -> np.dtype:
    """A nested record laid out like the schema: ``p.culture.ring_gradient`` in a rule reads
    ``scenario.culture.ring_gradient``. Switches are booleans, every other value float64
    (integer sizes included, so rule arithmetic is the same as on the schema's floats); a
    word-valued parameter holds the position of its word among the allowed ones."""
    sections: dict[str, list[tuple[str, type]]] = {}
    for section, key, finfo in iter_fields():
        if section == "run":  # run settings are the driver's, not the rules'
            continue
        kind = np.bool_ if finfo.annotation is bool else np.float64
        sections.setdefault(section, []).append((key, kind))
    return np.dtype([(s, np.dtype(fs, align=True)) for s, fs in sections.items()], align=True)


RECORD_DTYPE = _record_dtype()


def param_record(scenario: Scenario) -> np.ndarray:
    """The parameters as a one-element nested structured array, the form numba rules read.

    A one-element array rather than a record scalar: numba takes it without boxing a new
    type per call (about 0.4 µs a call from Python, as for the flat record it replaced).
    """
    rec = np.zeros(1, dtype=RECORD_DTYPE)
    for section, key, finfo in iter_fields():
        if section == "run":
            continue
        value = getattr(getattr(scenario, section), key)
        choices = choices_of(finfo)
        rec[0][section][key] = choices.index(value) if choices else value
    return rec
